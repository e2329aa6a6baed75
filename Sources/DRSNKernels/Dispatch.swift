// DRSNKernels: the kernel API that DRSNCore uses. Every function forwards to one ISA
// variant of the kernel source (Sources/DRSNKernelSource, compiled per ISA as
// DRSNKernelsAVX512 / DRSNKernelsAVX2 / DRSNKernelsBaseline, see Package.swift), chosen
// once per process at first use from CPUID (drsnsup_kernel_isa_level, which honours
// DRSN_FORCE_ISA=baseline|avx2|avx512). One switch per call, never per element.
// On non-x86 hosts only DRSNKernelsBaseline exists (native ISA, e.g. NEON with FMA).

@_exported import DRSNKernelTypes
import CDRSNSupport
import DRSNKernelsBaseline
#if arch(x86_64)
import DRSNKernelsAVX2
import DRSNKernelsAVX512
#endif

/// Instruction-set level of the kernel variant in use.
public enum KernelISA: Int, Sendable, CaseIterable {
    /// Plain x86-64 (SSE2, no FMA), or the native ISA of a non-x86 host.
    case baseline = 0
    /// x86-64-v3: AVX2 + FMA (ymm).
    case avx2 = 1
    /// x86-64-v4: AVX-512 (zmm).
    case avx512 = 2

    /// "baseline", "avx2" or "avx512" (the values DRSN_FORCE_ISA accepts).
    public var name: String {
        switch self {
        case .baseline: return "baseline"
        case .avx2: return "avx2"
        case .avx512: return "avx512"
        }
    }
}

/// Chosen once (lazily, thread-safe) from CPUID and DRSN_FORCE_ISA.
let activeISA: KernelISA = {
#if arch(x86_64)
    return KernelISA(rawValue: Int(drsnsup_kernel_isa_level())) ?? .baseline
#else
    return .baseline
#endif
}()

/// The ISA variant the kernels run in this process.
public var activeKernelISA: KernelISA { activeISA }

/// The ISA name compiled into the variant the dispatcher actually calls (tests compare it
/// with `activeKernelISA.name`).
public var activeKernelVariantName: String {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.kernelVariantName
    case .avx2: return DRSNKernelsAVX2.kernelVariantName
#endif
    default: return DRSNKernelsBaseline.kernelVariantName
    }
}

/// Right-aligned numpy broadcasting: the strides to read `shape` (dense row-major) as
/// `outShape`, 0 for broadcast dims. nil if not broadcastable.
public func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int]? {
    let r = shape.count, R = outShape.count
    if r > R { return nil }
    var strides = [Int](repeating: 0, count: R)
    var acc = 1
    var d = R - 1
    while d >= 0 {
        let i = d - (R - r)
        if i >= 0 {
            let s = shape[i]
            if s == outShape[d] {
                strides[d] = s == 1 ? 0 : acc
            } else if s == 1 {
                strides[d] = 0
            } else {
                return nil
            }
            acc &*= s
        }
        d -= 1
    }
    return strides
}

// MARK: - Forwarding (one switch per call)

/// Floats of scratch one `conv2D` call needs (per thread when the batch is split). Forwards to the active ISA variant.
public func convScratchElements(_ p: ConvParams) -> Int {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.convScratchElements(p)
    case .avx2: return DRSNKernelsAVX2.convScratchElements(p)
#endif
    default: return DRSNKernelsBaseline.convScratchElements(p)
    }
}

/// Convolution over the whole batch. `scratch` holds `convScratchElements(p)` floats. Forwards to the active ISA variant.
public func conv2D(_ p: ConvParams, input: UnsafePointer<Float>, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, activation: Activation, output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.conv2D(p, input: input, weights: weights, bias: bias, activation: activation, output: output, scratch: scratch)
    case .avx2: return DRSNKernelsAVX2.conv2D(p, input: input, weights: weights, bias: bias, activation: activation, output: output, scratch: scratch)
#endif
    default: return DRSNKernelsBaseline.conv2D(p, input: input, weights: weights, bias: bias, activation: activation, output: output, scratch: scratch)
    }
}

/// Convolution of the images in `batchRange` only (own scratch per thread). Forwards to the active ISA variant.
public func conv2D(_ p: ConvParams, input: UnsafePointer<Float>, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, activation: Activation, output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, batchRange: Range<Int>) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.conv2D(p, input: input, weights: weights, bias: bias, activation: activation, output: output, scratch: scratch, batchRange: batchRange)
    case .avx2: return DRSNKernelsAVX2.conv2D(p, input: input, weights: weights, bias: bias, activation: activation, output: output, scratch: scratch, batchRange: batchRange)
#endif
    default: return DRSNKernelsBaseline.conv2D(p, input: input, weights: weights, bias: bias, activation: activation, output: output, scratch: scratch, batchRange: batchRange)
    }
}

/// Output channels per unit when a convolution is split over threads by output channel; 0 when it cannot be. Forwards to the active ISA variant.
public func convChannelBlock(_ p: ConvParams) -> Int {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.convChannelBlock(p)
    case .avx2: return DRSNKernelsAVX2.convChannelBlock(p)
#endif
    default: return DRSNKernelsBaseline.convChannelBlock(p)
    }
}

/// Convolution of the images in `batchRange`, output channels `channelRange` (ranges starting at multiples of `convChannelBlock(p)`; own scratch per thread), with the extra work of `fusion`. Forwards to the active ISA variant.
public func conv2D(_ p: ConvParams, input: UnsafePointer<Float>, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, activation: Activation, output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, batchRange: Range<Int>, channelRange: Range<Int>, fusion: ConvFusion = ConvFusion()) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.conv2D(p, input: input, weights: weights, bias: bias, activation: activation, output: output, scratch: scratch, batchRange: batchRange, channelRange: channelRange, fusion: fusion)
    case .avx2: return DRSNKernelsAVX2.conv2D(p, input: input, weights: weights, bias: bias, activation: activation, output: output, scratch: scratch, batchRange: batchRange, channelRange: channelRange, fusion: fusion)
#endif
    default: return DRSNKernelsBaseline.conv2D(p, input: input, weights: weights, bias: bias, activation: activation, output: output, scratch: scratch, batchRange: batchRange, channelRange: channelRange, fusion: fusion)
    }
}

/// Whether `conv2D` honours a `ConvFusion` prologue and pre-packed weights for these parameters. Forwards to the active ISA variant.
public func convSupportsFusion(_ p: ConvParams) -> Bool {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.convSupportsFusion(p)
    case .avx2: return DRSNKernelsAVX2.convSupportsFusion(p)
#endif
    default: return DRSNKernelsBaseline.convSupportsFusion(p)
    }
}

/// Whether `conv2D` uses Winograd F(2x2, 3x3) for these parameters (packed weights are transformed filters). Forwards to the active ISA variant.
public func convUsesWinograd(_ p: ConvParams) -> Bool {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.convUsesWinograd(p)
    case .avx2: return DRSNKernelsAVX2.convUsesWinograd(p)
#endif
    default: return DRSNKernelsBaseline.convUsesWinograd(p)
    }
}

/// Floats of pre-packed weights `packConvWeights` writes (0: nothing to pack). Forwards to the active ISA variant.
public func convPackedWeightsCount(_ p: ConvParams) -> Int {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.convPackedWeightsCount(p)
    case .avx2: return DRSNKernelsAVX2.convPackedWeightsCount(p)
#endif
    default: return DRSNKernelsBaseline.convPackedWeightsCount(p)
    }
}

/// Packs weights [outC, inC, kH, kW] for `ConvFusion.packedWeights` (the active ISA variant's order). Forwards to the active ISA variant.
public func packConvWeights(_ p: ConvParams, weights: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.packConvWeights(p, weights: weights, output: output)
    case .avx2: return DRSNKernelsAVX2.packConvWeights(p, weights: weights, output: output)
#endif
    default: return DRSNKernelsBaseline.packConvWeights(p, weights: weights, output: output)
    }
}

/// Elementwise unary op; may run in place. Forwards to the active ISA variant.
public func unary(_ op: UnaryOp, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.unary(op, input: input, output: output, count: count)
    case .avx2: return DRSNKernelsAVX2.unary(op, input: input, output: output, count: count)
#endif
    default: return DRSNKernelsBaseline.unary(op, input: input, output: output, count: count)
    }
}

/// Broadcast binary op (strides from `broadcastStrides`); comparisons write 1.0 / 0.0. Forwards to the active ISA variant.
public func binary(_ op: BinaryOp, a: UnsafePointer<Float>, aStrides: [Int], b: UnsafePointer<Float>, bStrides: [Int], output: UnsafeMutablePointer<Float>, outShape: [Int]) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.binary(op, a: a, aStrides: aStrides, b: b, bStrides: bStrides, output: output, outShape: outShape)
    case .avx2: return DRSNKernelsAVX2.binary(op, a: a, aStrides: aStrides, b: b, bStrides: bStrides, output: output, outShape: outShape)
#endif
    default: return DRSNKernelsBaseline.binary(op, a: a, aStrides: aStrides, b: b, bStrides: bStrides, output: output, outShape: outShape)
    }
}

/// ONNX Where: output = condition != 0 ? x : y, all broadcast to `outShape`. Forwards to the active ISA variant.
public func select(condition: UnsafePointer<Float>, conditionStrides: [Int], x: UnsafePointer<Float>, xStrides: [Int], y: UnsafePointer<Float>, yStrides: [Int], output: UnsafeMutablePointer<Float>, outShape: [Int]) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.select(condition: condition, conditionStrides: conditionStrides, x: x, xStrides: xStrides, y: y, yStrides: yStrides, output: output, outShape: outShape)
    case .avx2: return DRSNKernelsAVX2.select(condition: condition, conditionStrides: conditionStrides, x: x, xStrides: xStrides, y: y, yStrides: yStrides, output: output, outShape: outShape)
#endif
    default: return DRSNKernelsBaseline.select(condition: condition, conditionStrides: conditionStrides, x: x, xStrides: xStrides, y: y, yStrides: yStrides, output: output, outShape: outShape)
    }
}

/// Floats of scratch `sgemm(..., scratch:)` needs. Forwards to the active ISA variant.
public func sgemmScratchElements(m: Int, n: Int, k: Int) -> Int {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.sgemmScratchElements(m: m, n: n, k: k)
    case .avx2: return DRSNKernelsAVX2.sgemmScratchElements(m: m, n: n, k: k)
#endif
    default: return DRSNKernelsBaseline.sgemmScratchElements(m: m, n: n, k: k)
    }
}

/// C = alpha * op(A) * op(B) + beta * C (row-major); packing memory from a temporary allocation. Forwards to the active ISA variant.
public func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    case .avx2: return DRSNKernelsAVX2.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
#endif
    default: return DRSNKernelsBaseline.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
}

/// Same as `sgemm` with caller-provided scratch of `sgemmScratchElements(m:n:k:)` floats. Forwards to the active ISA variant.
public func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, scratch: UnsafeMutablePointer<Float>) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, scratch: scratch)
    case .avx2: return DRSNKernelsAVX2.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, scratch: scratch)
#endif
    default: return DRSNKernelsBaseline.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, scratch: scratch)
    }
}

/// Max pooling over [planes, H, W]. Forwards to the active ISA variant.
public func maxPool2D(_ p: PoolParams, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.maxPool2D(p, input: input, output: output)
    case .avx2: return DRSNKernelsAVX2.maxPool2D(p, input: input, output: output)
#endif
    default: return DRSNKernelsBaseline.maxPool2D(p, input: input, output: output)
    }
}

/// Average pooling over [planes, H, W]. Forwards to the active ISA variant.
public func averagePool2D(_ p: PoolParams, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.averagePool2D(p, input: input, output: output)
    case .avx2: return DRSNKernelsAVX2.averagePool2D(p, input: input, output: output)
#endif
    default: return DRSNKernelsBaseline.averagePool2D(p, input: input, output: output)
    }
}

/// Reduces the dims flagged in `axes`. Forwards to the active ISA variant.
public func reduce(_ op: ReduceOp, input: UnsafePointer<Float>, shape: [Int], axes: [Bool], output: UnsafeMutablePointer<Float>) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.reduce(op, input: input, shape: shape, axes: axes, output: output)
    case .avx2: return DRSNKernelsAVX2.reduce(op, input: input, shape: shape, axes: axes, output: output)
#endif
    default: return DRSNKernelsBaseline.reduce(op, input: input, shape: shape, axes: axes, output: output)
    }
}

/// output[p] = mean of plane p. Forwards to the active ISA variant.
public func globalAveragePool(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, planes: Int, planeSize: Int) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.globalAveragePool(input: input, output: output, planes: planes, planeSize: planeSize)
    case .avx2: return DRSNKernelsAVX2.globalAveragePool(input: input, output: output, planes: planes, planeSize: planeSize)
#endif
    default: return DRSNKernelsBaseline.globalAveragePool(input: input, output: output, planes: planes, planeSize: planeSize)
    }
}

/// Softmax along the middle axis of [outer, axisSize, inner]. Forwards to the active ISA variant.
public func softmax(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, outer: Int, axisSize: Int, inner: Int) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.softmax(input: input, output: output, outer: outer, axisSize: axisSize, inner: inner)
    case .avx2: return DRSNKernelsAVX2.softmax(input: input, output: output, outer: outer, axisSize: axisSize, inner: inner)
#endif
    default: return DRSNKernelsBaseline.softmax(input: input, output: output, outer: outer, axisSize: axisSize, inner: inner)
    }
}

/// Permutes the dims of a dense tensor. Forwards to the active ISA variant.
public func transpose(input: UnsafePointer<Float>, shape: [Int], permutation: [Int], output: UnsafeMutablePointer<Float>) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.transpose(input: input, shape: shape, permutation: permutation, output: output)
    case .avx2: return DRSNKernelsAVX2.transpose(input: input, shape: shape, permutation: permutation, output: output)
#endif
    default: return DRSNKernelsBaseline.transpose(input: input, shape: shape, permutation: permutation, output: output)
    }
}

/// Concatenation along the middle axis of [outer, axis, inner]. Forwards to the active ISA variant.
public func concat(inputs: [UnsafePointer<Float>], axisSizes: [Int], outer: Int, inner: Int, output: UnsafeMutablePointer<Float>) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.concat(inputs: inputs, axisSizes: axisSizes, outer: outer, inner: inner, output: output)
    case .avx2: return DRSNKernelsAVX2.concat(inputs: inputs, axisSizes: axisSizes, outer: outer, inner: inner, output: output)
#endif
    default: return DRSNKernelsBaseline.concat(inputs: inputs, axisSizes: axisSizes, outer: outer, inner: inner, output: output)
    }
}

/// Strided slice. Forwards to the active ISA variant.
public func slice(input: UnsafePointer<Float>, shape: [Int], starts: [Int], steps: [Int], outShape: [Int], output: UnsafeMutablePointer<Float>) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.slice(input: input, shape: shape, starts: starts, steps: steps, outShape: outShape, output: output)
    case .avx2: return DRSNKernelsAVX2.slice(input: input, shape: shape, starts: starts, steps: steps, outShape: outShape, output: output)
#endif
    default: return DRSNKernelsBaseline.slice(input: input, shape: shape, starts: starts, steps: steps, outShape: outShape, output: output)
    }
}

/// Constant padding. Forwards to the active ISA variant.
public func padConstant(input: UnsafePointer<Float>, shape: [Int], padsBegin: [Int], outShape: [Int], value: Float, output: UnsafeMutablePointer<Float>) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.padConstant(input: input, shape: shape, padsBegin: padsBegin, outShape: outShape, value: value, output: output)
    case .avx2: return DRSNKernelsAVX2.padConstant(input: input, shape: shape, padsBegin: padsBegin, outShape: outShape, value: value, output: output)
#endif
    default: return DRSNKernelsBaseline.padConstant(input: input, shape: shape, padsBegin: padsBegin, outShape: outShape, value: value, output: output)
    }
}

/// Gather along `axis`. Forwards to the active ISA variant.
public func gather(input: UnsafePointer<Float>, shape: [Int], axis: Int, indices: [Int], output: UnsafeMutablePointer<Float>) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.gather(input: input, shape: shape, axis: axis, indices: indices, output: output)
    case .avx2: return DRSNKernelsAVX2.gather(input: input, shape: shape, axis: axis, indices: indices, output: output)
#endif
    default: return DRSNKernelsBaseline.gather(input: input, shape: shape, axis: axis, indices: indices, output: output)
    }
}

/// y = x * scale[c] + shift[c] over [batch, channels, inner]; may run in place. Forwards to the active ISA variant.
public func channelScaleShift(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, channels: Int, inner: Int, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.channelScaleShift(input: input, output: output, batch: batch, channels: channels, inner: inner, scale: scale, shift: shift)
    case .avx2: return DRSNKernelsAVX2.channelScaleShift(input: input, output: output, batch: batch, channels: channels, inner: inner, scale: scale, shift: shift)
#endif
    default: return DRSNKernelsBaseline.channelScaleShift(input: input, output: output, batch: batch, channels: channels, inner: inner, scale: scale, shift: shift)
    }
}

/// Soft thresholding with one threshold per plane; may run in place. Forwards to the active ISA variant.
public func softThreshold(input: UnsafePointer<Float>, threshold: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, planes: Int, planeSize: Int) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.softThreshold(input: input, threshold: threshold, output: output, planes: planes, planeSize: planeSize)
    case .avx2: return DRSNKernelsAVX2.softThreshold(input: input, threshold: threshold, output: output, planes: planes, planeSize: planeSize)
#endif
    default: return DRSNKernelsBaseline.softThreshold(input: input, threshold: threshold, output: output, planes: planes, planeSize: planeSize)
    }
}

/// out[p] = mean(|x[p, ...]|). Forwards to the active ISA variant.
public func absMean(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, planes: Int, planeSize: Int) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.absMean(input: input, output: output, planes: planes, planeSize: planeSize)
    case .avx2: return DRSNKernelsAVX2.absMean(input: input, output: output, planes: planes, planeSize: planeSize)
#endif
    default: return DRSNKernelsBaseline.absMean(input: input, output: output, planes: planes, planeSize: planeSize)
    }
}

/// Fused soft threshold (+ residual add), optional zero counts. Forwards to the active ISA variant.
public func shrink(input: UnsafePointer<Float>, tau: UnsafePointer<Float>, tauOffsets: UnsafePointer<Int>, residual: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, planes: Range<Int>, planeSize: Int, zeroCounts: UnsafeMutablePointer<Float>?) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.shrink(input: input, tau: tau, tauOffsets: tauOffsets, residual: residual, output: output, planes: planes, planeSize: planeSize, zeroCounts: zeroCounts)
    case .avx2: return DRSNKernelsAVX2.shrink(input: input, tau: tau, tauOffsets: tauOffsets, residual: residual, output: output, planes: planes, planeSize: planeSize, zeroCounts: zeroCounts)
#endif
    default: return DRSNKernelsBaseline.shrink(input: input, tau: tau, tauOffsets: tauOffsets, residual: residual, output: output, planes: planes, planeSize: planeSize, zeroCounts: zeroCounts)
    }
}


/// Per-channel scale and shift followed by ReLU. Forwards to the active ISA variant.
public func channelScaleShiftRelu(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int, channels: Int, inner: Int, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.channelScaleShiftRelu(input: input, output: output, batch: batch, channels: channels, inner: inner, scale: scale, shift: shift)
    case .avx2: return DRSNKernelsAVX2.channelScaleShiftRelu(input: input, output: output, batch: batch, channels: channels, inner: inner, scale: scale, shift: shift)
#endif
    default: return DRSNKernelsBaseline.channelScaleShiftRelu(input: input, output: output, batch: batch, channels: channels, inner: inner, scale: scale, shift: shift)
    }
}
