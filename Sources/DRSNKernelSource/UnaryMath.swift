// unaryMath kernel: exp, log, sqrt, reciprocal, tanh, erf, softplus, softsign, elu, selu,
// hardSigmoid, hardSwish, gelu (exact and tanh) and pow with a scalar exponent, each a
// `UnaryKernel` inlined into `mapUnary` (Elementwise.swift). Accuracy and special values:
// `UnaryMathOp` (DRSNKernelTypes/MathTypes.swift) and VectorMath.swift.

import DRSNKernelTypes

@usableFromInline struct ExpK: UnaryKernel {
    @_transparent @usableFromInline func callAsFunction(_ x: V8) -> V8 { expV(x) }
}
@usableFromInline struct LogK: UnaryKernel {
    @_transparent @usableFromInline func callAsFunction(_ x: V8) -> V8 { logV(x) }
}
@usableFromInline struct SqrtK: UnaryKernel {
    @_transparent @usableFromInline func callAsFunction(_ x: V8) -> V8 { sqrtV(x) }
}
@usableFromInline struct ReciprocalK: UnaryKernel {
    @_transparent @usableFromInline func callAsFunction(_ x: V8) -> V8 { V8(repeating: 1) / x }
}
@usableFromInline struct TanhK: UnaryKernel {
    @_transparent @usableFromInline func callAsFunction(_ x: V8) -> V8 { tanhV(x) }
}
@usableFromInline struct ErfK: UnaryKernel {
    @_transparent @usableFromInline func callAsFunction(_ x: V8) -> V8 { erfV(x) }
}
@usableFromInline struct SoftplusK: UnaryKernel {
    /// max(x, 0) + log1p(exp(-|x|)): no overflow for large x, no cancellation for small ones.
    @_transparent @usableFromInline func callAsFunction(_ x: V8) -> V8 {
        x.replacing(with: V8(), where: x .< V8()) + log1pUnit(expV(V8() - absV(x)))
    }
}
@usableFromInline struct SoftsignK: UnaryKernel {
    @_transparent @usableFromInline func callAsFunction(_ x: V8) -> V8 { x / (V8(repeating: 1) + absV(x)) }
}
@usableFromInline struct EluK: UnaryKernel {
    // Scalars, not vectors (see ClipK).
    @usableFromInline let alpha: Float
    @_transparent @usableFromInline func callAsFunction(_ x: V8) -> V8 {
        let n = V8(repeating: alpha) * expm1NonPositive(x)
        return n.replacing(with: x, where: x .>= V8())
    }
}
@usableFromInline struct SeluK: UnaryKernel {
    @usableFromInline let alpha: Float, gamma: Float
    @_transparent @usableFromInline func callAsFunction(_ x: V8) -> V8 {
        let n = V8(repeating: alpha) * expm1NonPositive(x)
        return V8(repeating: gamma) * n.replacing(with: x, where: x .> V8())
    }
}
@usableFromInline struct HardSigmoidK: UnaryKernel {
    @usableFromInline let alpha: Float, beta: Float
    @_transparent @usableFromInline func callAsFunction(_ x: V8) -> V8 {
        var r = madd(V8(repeating: beta), V8(repeating: alpha), x)
        r.replace(with: V8(), where: r .< V8())
        r.replace(with: V8(repeating: 1), where: r .> V8(repeating: 1))
        return r
    }
}
@usableFromInline struct HardSwishK: UnaryKernel {
    @_transparent @usableFromInline func callAsFunction(_ x: V8) -> V8 {
        var r = madd(V8(repeating: 0.5), V8(repeating: 1.0 / 6), x)
        r.replace(with: V8(), where: r .< V8())
        r.replace(with: V8(repeating: 1), where: r .> V8(repeating: 1))
        return x * r
    }
}
@usableFromInline struct GeluK: UnaryKernel {
    @_transparent @usableFromInline func callAsFunction(_ x: V8) -> V8 { geluV(x) }
}
@usableFromInline struct GeluTanhK: UnaryKernel {
    /// x / 2 * (1 + tanh(u)) = x * logistic(2u), u = sqrt(2 / pi) * (x + 0.044715 x^3):
    /// no cancellation in the negative tail.
    @_transparent @usableFromInline func callAsFunction(_ x: V8) -> V8 {
        let inner = madd(V8(repeating: 1), V8(repeating: 0.044_715), x * x)
        let twoU = V8(repeating: 1.595_769_1) * x * inner  // 2 * sqrt(2 / pi)
        return x * logisticV(twoU)
    }
}
@usableFromInline struct PowScalarK: UnaryKernel {
    @usableFromInline let exponent: Float
    @_transparent @usableFromInline func callAsFunction(_ x: V8) -> V8 { powV(x, V8(repeating: exponent)) }
}
@usableFromInline struct SquareK: UnaryKernel {
    @_transparent @usableFromInline func callAsFunction(_ x: V8) -> V8 { x * x }
}
@usableFromInline struct CubeK: UnaryKernel {
    @_transparent @usableFromInline func callAsFunction(_ x: V8) -> V8 { x * x * x }
}
@usableFromInline struct PowHalfK: UnaryKernel {
    /// sqrt with powf's values at -0 (+0: -0 + 0) and -inf (+inf).
    @_transparent @usableFromInline func callAsFunction(_ x: V8) -> V8 {
        let r = sqrtV(x) + V8()
        return r.replacing(with: V8(repeating: .infinity), where: x .== V8(repeating: -.infinity))
    }
}

extension ISAKernels {
    /// output[i] = op(input[i]) for i in 0..<count; may run in place (output == input).
    public static func unaryMath(_ op: UnaryMathOp, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                                 count: Int) {
        kernelPrecondition(count >= 0, "unaryMath: count \(count) < 0")
        if count <= 0 { return }
        switch op {
        case .exp: mapUnary(input, output, count, ExpK())
        case .log: mapUnary(input, output, count, LogK())
        case .sqrt: mapUnary(input, output, count, SqrtK())
        case .reciprocal: mapUnary(input, output, count, ReciprocalK())
        case .tanh: mapUnary(input, output, count, TanhK())
        case .erf: mapUnary(input, output, count, ErfK())
        case .softplus: mapUnary(input, output, count, SoftplusK())
        case .softsign: mapUnary(input, output, count, SoftsignK())
        case .elu(let alpha): mapUnary(input, output, count, EluK(alpha: alpha))
        case .selu(let alpha, let gamma): mapUnary(input, output, count, SeluK(alpha: alpha, gamma: gamma))
        case .hardSigmoid(let alpha, let beta): mapUnary(input, output, count, HardSigmoidK(alpha: alpha, beta: beta))
        case .hardSwish: mapUnary(input, output, count, HardSwishK())
        case .gelu: mapUnary(input, output, count, GeluK())
        case .geluTanh: mapUnary(input, output, count, GeluTanhK())
        case .pow(let e):
            if e == 1 {
                copyFloats(input, output, count)
            } else if e == 2 {
                mapUnary(input, output, count, SquareK())
            } else if e == 3 {
                mapUnary(input, output, count, CubeK())
            } else if e == 0.5 {
                mapUnary(input, output, count, PowHalfK())
            } else {
                mapUnary(input, output, count, PowScalarK(exponent: e))
            }
        }
    }
}
