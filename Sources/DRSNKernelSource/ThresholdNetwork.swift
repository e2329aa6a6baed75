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

extension ISAKernels {
    /// tau[n, o] = a[n, o] * sigmoid(b2[o] + sum_j W2[o, j] * relu(b1[j] + sum_i W1[j, i] * m[n, i]))
    /// for every sample n in `rows`; W stored [out, in] when transB, else [in, out].
    /// `hidden` is scratch of `hiddenCount` floats. NaN propagates through the ReLU.
    public static func thresholdNetwork(m: UnsafePointer<Float>, a: UnsafePointer<Float>, w1: UnsafePointer<Float>,
                                        b1: UnsafePointer<Float>?, w2: UnsafePointer<Float>, b2: UnsafePointer<Float>?,
                                        tau: UnsafeMutablePointer<Float>, rows: Range<Int>, channels: Int, hiddenCount: Int,
                                        outChannels: Int, transB1: Bool, transB2: Bool, hidden: UnsafeMutablePointer<Float>) {
        kernelPrecondition(rows.lowerBound >= 0 && channels >= 0 && hiddenCount >= 0 && outChannels >= 0,
                           "thresholdNetwork: rows \(rows), channels \(channels), hidden \(hiddenCount), out \(outChannels)")
        for n in rows {
            let x = m + n * channels
            for j in 0..<hiddenCount {
                let s = fullyConnectedOutput(j, input: x, weights: w1, bias: b1, inCount: channels,
                                             outCount: hiddenCount, transposed: transB1)
                hidden[j] = s > 0 ? s : (s.isNaN ? s : 0)
            }
            for c in 0..<outChannels {
                let s = fullyConnectedOutput(c, input: hidden, weights: w2, bias: b2, inCount: hiddenCount,
                                             outCount: outChannels, transposed: transB2)
                let z = s >= 0 ? 1 / (1 + expf(-s)) : expf(s) / (1 + expf(s))
                tau[n * outChannels + c] = a[n * outChannels + c] * z
            }
        }
    }
}

/// Output `o` of a fully connected layer: bias[o] + sum_i W[o, i] * input[i], summed in index
/// order. W is stored [outCount, inCount] when `transposed`, else [inCount, outCount].
@inline(__always)
func fullyConnectedOutput(_ o: Int, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                          bias: UnsafePointer<Float>?, inCount: Int, outCount: Int, transposed: Bool) -> Float {
    var s: Float = bias?[o] ?? 0
    if transposed {
        let w = weights + o * inCount
        for i in 0..<inCount { s += w[i] * input[i] }
    } else {
        for i in 0..<inCount { s += weights[i * outCount + o] * input[i] }
    }
    return s
}
