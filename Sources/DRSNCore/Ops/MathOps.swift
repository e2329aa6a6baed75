import Glibc
import DRSNKernels

/// Elementwise math operators on float32: Exp, Log, Sqrt, Reciprocal, Tanh, Erf, Softplus,
/// Softsign, Elu, Selu, HardSigmoid, HardSwish and Gelu (the `unaryMath` kernel), Pow and
/// PRelu (the broadcasting `binaryMath` kernel; Pow by a one-element exponent is
/// `unaryMath(.pow(exponent:))`). Constant inputs are evaluated at load by the same kernels
/// a run uses, so constant folding folds these nodes and agrees with a run bit for bit.
/// Accuracy and special values: `UnaryMathOp` and `BinaryMathOp`.
enum MathOps {
    /// An operator of one input and no attributes (the opset that defines it is checked by
    /// `OperatorSchema` before the operator runs).
    static func unary(_ op: UnaryMathOp) -> OperatorFunction {
        return { (ctx: OpContext) throws(DRSNError) -> [BoundValue] in
            [try applyUnaryMath(op, try ctx.input(0), ctx)]
        }
    }

    /// Elu (opset 6+; alpha, default 1).
    static func elu(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let alpha = try ctx.node.float("alpha", default: 1)
        return [try applyUnaryMath(.elu(alpha: alpha), try ctx.input(0), ctx)]
    }

    /// Selu (opset 6+; alpha and gamma with the opset 6 defaults).
    static func selu(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let alpha = try ctx.node.float("alpha", default: 1.673_263_192_176_818_8)
        let gamma = try ctx.node.float("gamma", default: 1.050_701_022_148_132_3)
        return [try applyUnaryMath(.selu(alpha: alpha, gamma: gamma), try ctx.input(0), ctx)]
    }

    /// HardSigmoid (opset 6+; alpha 0.2, beta 0.5 by default).
    static func hardSigmoid(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let alpha = try ctx.node.float("alpha", default: 0.2)
        let beta = try ctx.node.float("beta", default: 0.5)
        return [try applyUnaryMath(.hardSigmoid(alpha: alpha, beta: beta), try ctx.input(0), ctx)]
    }

    /// Gelu (opset 20+): approximate "none" (erf, the default) or "tanh".
    static func gelu(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let op: UnaryMathOp
        switch try ctx.node.string("approximate") ?? "none" {
        case "none": op = .gelu
        case "tanh": op = .geluTanh
        case let other:
            throw fail(.invalidModel, "Gelu approximate '\(other)' is not one of 'none', 'tanh'")
        }
        return [try applyUnaryMath(op, try ctx.input(0), ctx)]
    }

    /// `op` on a bound value: computed now for a constant, else a `UnaryMathStep`.
    static func applyUnaryMath(_ op: UnaryMathOp, _ x: BoundValue, _ ctx: OpContext) throws(DRSNError) -> BoundValue {
        try ctx.applyElementwise(x, kernel: { p, n in activeKernels.unaryMath(op, input: p, output: p, count: n) },
                                 step: { UnaryMathStep(op: op, count: $0) })
    }

    /// Pow (opset 7+: multidirectional broadcasting; from 12 the exponent may have another
    /// type than the base). Float results as C `powf` (`BinaryMathOp.pow`); a runtime base
    /// raised to a one-element exponent that does not change the shape is `unaryMath`
    /// (x * x for 2, x * x * x for 3, as onnxruntime). Integer bases (constants only) give
    /// integers: pow in double, truncated toward zero (as onnxruntime's static_cast),
    /// 0 where that is NaN or outside Int64.
    static func pow(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0), y = try ctx.input(1)
        let outShape = try broadcastShape(x.shape, y.shape)
        if let tx = x.constant, let ty = y.constant {
            try ctx.checkConstant(outShape)
            guard !tx.dtype.isFloatingPoint else {
                return [.constant(try evaluateBinary(.pow, tx, ty, outShape, dtype: tx.dtype))]
            }
            let vx = tx.floatValuesExact, vy = ty.floatValuesExact
            var out = [Int64](repeating: 0, count: try elementCount(outShape))
            forEachBroadcastPair(tx.shape, ty.shape, to: outShape) { k, i, j in
                out[k] = truncatedInt64(Glibc.pow(vx[i], vy[j]))
            }
            return [.constant(Tensor(ints: out, shape: outShape, dtype: tx.dtype))]
        }
        if let tx = x.constant, !tx.dtype.isFloatingPoint {
            throw fail(.unsupported, "Pow of an integer base (\(tx.dtype)) by a runtime exponent is not supported (its result would be an integer tensor)")
        }
        try ctx.requireRuntimeType(x, 0)
        try ctx.requireRuntimeType(y, 1)
        guard x.dtype.isFloatingPoint else { throw fail(.unsupported, "Pow base must be FLOAT, got \(x.dtype)") }
        guard y.dtype.isFloatingPoint || y.constant != nil else { throw fail(.unsupported, "Pow exponent must be FLOAT, got \(y.dtype)") }
        if let ty = y.constant, ty.count == 1, outShape == x.shape, let e = ty.floatValues.first {
            return [try ctx.emit(UnaryMathStep(op: .pow(exponent: e), count: try elementCount(outShape)), inputs: [x],
                                 outputShape: outShape)]
        }
        return [try emitBinary(.pow, x, y, outShape, ctx)]
    }

    /// PRelu (opset 7+): x < 0 ? slope * x : x, the slope broadcast to x's shape
    /// (unidirectional: the output has x's shape).
    static func prelu(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0), slope = try ctx.input(1)
        let outShape = try broadcastShape(x.shape, slope.shape)
        guard outShape == x.shape else {
            throw fail(.shapeMismatch, "PRelu slope \(describe(slope.shape)) does not broadcast to the input shape \(describe(x.shape))")
        }
        if let tx = x.constant, let ts = slope.constant {
            try ctx.checkConstant(outShape)
            guard tx.dtype.isFloatingPoint else {
                throw fail(.unsupported, "PRelu input must be floating point, got \(tx.dtype)")
            }
            return [.constant(try evaluateBinary(.prelu, tx, ts, outShape, dtype: tx.dtype))]
        }
        try ctx.requireRuntimeType(x, 0)
        try ctx.requireRuntimeType(slope, 1)
        guard x.dtype.isFloatingPoint, slope.dtype.isFloatingPoint else {
            throw fail(.unsupported, "PRelu input and slope must be FLOAT, got \(x.dtype) and \(slope.dtype)")
        }
        return [try emitBinary(.prelu, x, slope, outShape, ctx)]
    }

    static func emitBinary(_ op: BinaryMathOp, _ a: BoundValue, _ b: BoundValue, _ outShape: [Int],
                           _ ctx: OpContext) throws(DRSNError) -> BoundValue {
        let kind = BinaryMathStep(op: op, aStrides: stridesForBroadcast(a.shape, to: outShape),
                                  bStrides: stridesForBroadcast(b.shape, to: outShape), outShape: outShape)
        return try ctx.emit(kind, inputs: [a, b], outputShape: outShape)
    }

    /// `op` on two constants by the `binaryMath` kernel (values converted to float32).
    static func evaluateBinary(_ op: BinaryMathOp, _ a: Tensor, _ b: Tensor, _ outShape: [Int],
                               dtype: DType) throws(DRSNError) -> Tensor {
        let total = try elementCount(outShape)
        guard let buffer = AlignedBuffer(count: total) else {
            throw fail(.outOfMemory, "cannot allocate \(total) floats for a constant")
        }
        if total > 0 {
            let va = a.floatValues, vb = b.floatValues
            va.withUnsafeBufferPointer { pa in
                vb.withUnsafeBufferPointer { pb in
                    if let pa = pa.baseAddress, let pb = pb.baseAddress {
                        activeKernels.binaryMath(op, a: pa, aStrides: stridesForBroadcast(a.shape, to: outShape), b: pb,
                                                 bStrides: stridesForBroadcast(b.shape, to: outShape),
                                                 output: buffer.pointer, outShape: outShape)
                    }
                }
            }
        }
        return Tensor(buffer: buffer, shape: outShape, dtype: dtype)
    }

    /// `d` truncated toward zero; 0 for NaN, infinities and values outside Int64.
    static func truncatedInt64(_ d: Double) -> Int64 {
        guard d.isFinite, d > -9.2e18, d < 9.2e18 else { return 0 }
        return Int64(d)
    }
}

extension Tensor {
    /// The values as Double: integers exactly (up to 2^53), floats widened.
    var floatValuesExact: [Double] {
        switch storage {
        case .ints(let v): return v.map { Double($0) }
        case .floats: return floatValues.map { Double($0) }
        }
    }
}
