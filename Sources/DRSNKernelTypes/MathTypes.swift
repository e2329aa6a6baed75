// Selectors of the math kernels `unaryMath` and `binaryMath` (DRSNKernelSource/UnaryMath.swift,
// BinaryMath.swift): float32 functions with their own SIMD approximations.

/// An elementwise function of one float32 tensor (`unaryMath`). Special values follow
/// onnxruntime (checked by Tests/python/test_math_ops.py): NaN in gives NaN out everywhere
/// (except `pow(exponent: 0)`, which is 1), and infinities map to the function's limits:
/// exp(-inf) = 0, log(0) = -inf, log(x < 0) = NaN, sqrt(-0) = -0, reciprocal(±0) = ±inf,
/// tanh/erf(±inf) = ±1, softplus(-inf) = 0, softsign(±inf) = NaN (inf / inf, as onnxruntime),
/// elu(-inf) = -alpha, hardSwish(-inf) = NaN (-inf * 0), gelu(-inf) = NaN (-inf * 0).
///
/// Accuracy: largest error measured against float64 references over each function's whole
/// input range, on the FMA (AVX2) and the baseline variant (Tests/DRSNKernelsTests/
/// UnaryMathTests.swift asserts these bounds with a little margin): exp 1.26 ulp (subnormal
/// results kept), log 0.74, tanh 1.23, erf 1.02, softsign 1.5, softplus 2.9, elu 2.0
/// (alpha 1; 3.1 for other alphas: the product by alpha), selu 2.5, hardSigmoid 0.44 and
/// hardSwish 1.25 ulp (plus 1e-7 absolute where alpha x + beta cancels to 0), gelu 3.2 ulp
/// for x > -1.3 and 8e-6 relative below (the erfc branch, down to subnormal results),
/// geluTanh 3.7 ulp for x > -1 and 1.8e-5 relative everywhere (the float rounding of
/// u = sqrt(2/pi) (x + 0.044715 x^3)), sqrt, reciprocal and pow correctly rounded (0.5 ulp;
/// pow in double precision, 1e-12 relative before the final rounding) except pow by 3,
/// which is x * x * x as onnxruntime (1.5 ulp).
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
