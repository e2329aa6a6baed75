// Selectors of the math kernels `unaryMath` and `binaryMath` (DRSNKernelSource/UnaryMath.swift,
// BinaryMath.swift): float32 functions with their own SIMD approximations.

/// An elementwise function of one float32 tensor (`unaryMath`). Special values follow
/// onnxruntime (checked by Tests/python/test_math_ops.py): NaN in gives NaN out everywhere
/// (except `pow(exponent: 0)`, which is 1), and infinities map to the function's limits:
/// exp(-inf) = 0, log(0) = -inf, log(x < 0) = NaN, sqrt(-0) = -0, reciprocal(±0) = ±inf,
/// tanh/erf(±inf) = ±1, softplus(-inf) = 0, softsign(±inf) = NaN (inf / inf, as onnxruntime),
/// elu(-inf) = -alpha, hardSwish(-inf) = NaN (-inf * 0), gelu(-inf) = NaN (-inf * 0).
///
/// Accuracy (float32, measured against float64 references over the whole input range;
/// Tests/DRSNKernelsTests/UnaryMathTests.swift asserts these bounds): exp, log, tanh, erf,
/// sigmoid-based gelu(tanh) within 2 ulp (plus subnormal flushing below 1.2e-38 for exp),
/// softplus, elu, selu, gelu within 4 ulp or 1e-7 absolute, sqrt and reciprocal exact (IEEE),
/// pow correctly rounded up to a 1e-12 relative error before the final rounding.
public enum UnaryMathOp: Sendable, Equatable {
    case exp
    case log
    case sqrt
    case reciprocal
    case tanh
    case erf
    /// log(1 + exp(x)), without overflow or cancellation.
    case softplus
    /// x / (1 + |x|).
    case softsign
    /// x >= 0 ? x : alpha * (exp(x) - 1).
    case elu(alpha: Float)
    /// gamma * (x > 0 ? x : alpha * (exp(x) - 1)).
    case selu(alpha: Float, gamma: Float)
    /// max(0, min(1, alpha * x + beta)).
    case hardSigmoid(alpha: Float, beta: Float)
    /// x * max(0, min(1, x / 6 + 1 / 2)).
    case hardSwish
    /// x / 2 * (1 + erf(x / sqrt(2))) (ONNX Gelu, approximate "none").
    case gelu
    /// x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))) (ONNX Gelu, approximate "tanh").
    case geluTanh
    /// x ^ exponent with C `powf` semantics for special values; exponents 1, 2 and 3 are
    /// products (x * x * x, as onnxruntime) and 0.5 is sqrt (with powf's +0 and +inf for -0
    /// and -inf).
    case pow(exponent: Float)
}

/// An elementwise function of two float32 tensors with multidirectional broadcasting
/// (`binaryMath`).
public enum BinaryMathOp: Sendable, Equatable {
    /// a ^ b with C `powf` semantics (as onnxruntime: pow(x, 0) = 1, pow(1, y) = 1 even for
    /// NaN, a negative finite base with a non-integer exponent gives NaN).
    case pow
    /// ONNX PRelu: a < 0 ? a * b : a (b is the slope; NaN and -0 pass through).
    case prelu
}
