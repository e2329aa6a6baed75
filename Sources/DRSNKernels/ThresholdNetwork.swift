// Forwarder of the threshold-network kernel (Sources/DRSNKernelSource/ThresholdNetwork.swift)
// to the active ISA variant; see Dispatch.swift for how the variant is chosen.

import DRSNKernelsBaseline
#if arch(x86_64)
import DRSNKernelsAVX2
import DRSNKernelsAVX512
#endif

/// The shrinkage threshold network for samples `rows`. Forwards to the active ISA variant.
public func thresholdNetwork(m: UnsafePointer<Float>, a: UnsafePointer<Float>, w1: UnsafePointer<Float>,
                             b1: UnsafePointer<Float>?, w2: UnsafePointer<Float>, b2: UnsafePointer<Float>?,
                             tau: UnsafeMutablePointer<Float>, rows: Range<Int>, channels: Int, hiddenCount: Int,
                             outChannels: Int, transB1: Bool, transB2: Bool, hidden: UnsafeMutablePointer<Float>) {
    switch activeISA {
#if arch(x86_64)
    case .avx512:
        return DRSNKernelsAVX512.thresholdNetwork(m: m, a: a, w1: w1, b1: b1, w2: w2, b2: b2, tau: tau, rows: rows,
                                                  channels: channels, hiddenCount: hiddenCount, outChannels: outChannels,
                                                  transB1: transB1, transB2: transB2, hidden: hidden)
    case .avx2:
        return DRSNKernelsAVX2.thresholdNetwork(m: m, a: a, w1: w1, b1: b1, w2: w2, b2: b2, tau: tau, rows: rows,
                                                channels: channels, hiddenCount: hiddenCount, outChannels: outChannels,
                                                transB1: transB1, transB2: transB2, hidden: hidden)
#endif
    default:
        return DRSNKernelsBaseline.thresholdNetwork(m: m, a: a, w1: w1, b1: b1, w2: w2, b2: b2, tau: tau, rows: rows,
                                                    channels: channels, hiddenCount: hiddenCount, outChannels: outChannels,
                                                    transB1: transB1, transB2: transB2, hidden: hidden)
    }
}
