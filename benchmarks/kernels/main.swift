// Kernel timings: GEMM and convolution GFLOPS of the kernel variant the dispatcher picks
// (DRSN_FORCE_ISA=avx2|baseline lowers it). A benchmark, not a test: it asserts nothing,
// and `swift test` builds it but never runs it.
//
//   swift run -c release drsn-kernel-bench
//   DRSN_FORCE_ISA=avx2 swift run -c release drsn-kernel-bench
//
// Each timing is the best of several calls on one thread; whole-model timings against
// onnxruntime are benchmarks/run.py's.

import Dispatch
import DRSNKernels

/// `n` deterministic values in [-1, 1) (timings do not depend on the values; the kernel
/// tests' random generator is not needed here).
func floats(_ n: Int, seed: Int) -> [Float] {
    (0..<n).map { Float(($0 &* 7919 &+ seed &* 104_729) % 2001) / 1000 - 1 }
}

/// Best wall time of `repeats` calls of `body`, in seconds.
func best(_ repeats: Int, _ body: () -> Void) -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
    }
    return best
}

/// `x` rounded to `digits` decimals (without libm, which this executable does not link).
func round(_ x: Double, _ digits: Int) -> Double {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    return Double(Int(x * scale + 0.5)) / scale
}

/// GFLOP/s, one decimal.
func gflops(_ flops: Double, _ seconds: Double) -> Double { round(flops / seconds * 1e-9, 1) }

print("kernel ISA: \(activeKernelISA.name)")

// GEMM shapes: a square-ish one, the FLOPs of the 64->64 3x3 convolution below as one GEMM,
// and the skinny shapes of small-channel DRSN layers.
for (m, n, k, reps) in [(256, 1024, 256, 5), (64, 1024, 576, 5), (8, 4096, 72, 5), (16, 4096, 144, 5),
                        (32, 2048, 288, 5)] {
    let a = floats(m * k, seed: 1), b = floats(k * n, seed: 2)
    var c = [Float](repeating: 0, count: m * n)
    var s = [Float](repeating: 0, count: activeKernels.sgemmScratchElements(m: m, n: n, k: k))
    let t = best(reps) {
        activeKernels.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n,
                            beta: 0, c: &c, ldc: n, scratch: &s)
    }
    print("sgemm \(m)x\(n)x\(k): best \(round(t * 1e3, 3)) ms, \(gflops(2.0 * Double(m * n * k), t)) GFLOPS")
}

// 2-D convolution 64 -> 64, 3x3, 32x32, ReLU.
do {
    let p = ConvParams(batch: 1, inChannels: 64, inHeight: 32, inWidth: 32, outChannels: 64,
                       outHeight: 32, outWidth: 32, kernelHeight: 3, kernelWidth: 3, padTop: 1, padLeft: 1)
    let x = floats(64 * 32 * 32, seed: 3), w = floats(64 * 64 * 9, seed: 4)
    var y = [Float](repeating: 0, count: 64 * 32 * 32)
    var s = [Float](repeating: 0, count: activeKernels.convScratchElements(p))
    let t = best(5) { activeKernels.conv2D(p, input: x, weights: w, bias: nil, activation: .relu, output: &y, scratch: &s) }
    print("conv 64->64 3x3 32x32: best \(round(t * 1e3, 3)) ms, \(gflops(2.0 * 64 * 64 * 9 * 1024, t)) GFLOPS")
}

// 1-D convolutions, k = 3, pad 1: small-channel DRSN layers.
for (ch, len) in [(8, 4096), (16, 2048)] {
    let p = ConvParams(batch: 1, inChannels: ch, inHeight: 1, inWidth: len, outChannels: ch, outHeight: 1,
                       outWidth: len, kernelHeight: 1, kernelWidth: 3, padLeft: 1)
    let x = floats(ch * len, seed: 5), w = floats(ch * ch * 3, seed: 6)
    var y = [Float](repeating: 0, count: ch * len)
    var s = [Float](repeating: 0, count: activeKernels.convScratchElements(p))
    let t = best(20) { activeKernels.conv2D(p, input: x, weights: w, bias: nil, activation: .relu, output: &y, scratch: &s) }
    print("conv1d \(ch)->\(ch) k3 len \(len): best \(round(t * 1e6, 1)) us, \(gflops(2.0 * Double(ch * ch * 3 * len), t)) GFLOPS")
}
