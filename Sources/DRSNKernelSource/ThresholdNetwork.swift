// Kernel of the fused shrinkage threshold network (DRSN): per sample,
// tau = a * sigmoid(FC2(relu(FC1(m)))) over the tiny per-sample tensors (C channels,
// a hidden layer of a few to a few dozen units). Scalar on purpose: the sums run in index
// order, exactly as the unfused Gemm -> Relu -> Gemm -> Sigmoid -> Mul chain's reference
// did, and the work is negligible next to the convolutions.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// tau[n, o] = a[n, o] * sigmoid(b2[o] + sum_j W2[o, j] * relu(b1[j] + sum_i W1[j, i] * m[n, i]))
/// for every sample n in `rows`; W stored [out, in] when transB, else [in, out].
/// `hidden` is scratch of `hiddenCount` floats. NaN propagates through the ReLU.
public func thresholdNetwork(m: UnsafePointer<Float>, a: UnsafePointer<Float>, w1: UnsafePointer<Float>,
                             b1: UnsafePointer<Float>?, w2: UnsafePointer<Float>, b2: UnsafePointer<Float>?,
                             tau: UnsafeMutablePointer<Float>, rows: Range<Int>, channels: Int, hiddenCount: Int,
                             outChannels: Int, transB1: Bool, transB2: Bool, hidden: UnsafeMutablePointer<Float>) {
    kernelPrecondition(rows.lowerBound >= 0 && channels >= 0 && hiddenCount >= 0 && outChannels >= 0,
                       "thresholdNetwork: rows \(rows), channels \(channels), hidden \(hiddenCount), out \(outChannels)")
    for n in rows {
        let x = m + n * channels
        for j in 0..<hiddenCount {
            var s: Float = b1?[j] ?? 0
            if transB1 {
                let w = w1 + j * channels
                for i in 0..<channels { s += w[i] * x[i] }
            } else {
                for i in 0..<channels { s += w1[i * hiddenCount + j] * x[i] }
            }
            hidden[j] = s > 0 ? s : (s.isNaN ? s : 0)
        }
        for c in 0..<outChannels {
            var s: Float = b2?[c] ?? 0
            if transB2 {
                let w = w2 + c * hiddenCount
                for j in 0..<hiddenCount { s += w[j] * hidden[j] }
            } else {
                for j in 0..<hiddenCount { s += w2[j * outChannels + c] * hidden[j] }
            }
            let z = s >= 0 ? 1 / (1 + expf(-s)) : expf(s) / (1 + expf(s))
            tau[n * outChannels + c] = a[n * outChannels + c] * z
        }
    }
}
