// Forwarder of the LeakyRelu kernel (Sources/DRSNKernelSource/LeakyRelu.swift) to the
// active ISA variant; see Dispatch.swift for how the variant is chosen.

import DRSNKernelsBaseline
#if arch(x86_64)
import DRSNKernelsAVX2
import DRSNKernelsAVX512
#endif

/// y = x < 0 ? alpha * x : x elementwise. Forwards to the active ISA variant.
public func leakyRelu(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int, alpha: Float) {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.leakyRelu(input: input, output: output, count: count, alpha: alpha)
    case .avx2: return DRSNKernelsAVX2.leakyRelu(input: input, output: output, count: count, alpha: alpha)
#endif
    default: return DRSNKernelsBaseline.leakyRelu(input: input, output: output, count: count, alpha: alpha)
    }
}
