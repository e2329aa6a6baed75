// DRSNKernels: the kernel API that DRSNCore uses. `activeKernels` is the `KernelSet` of one
// ISA variant of the kernel source (Sources/DRSNKernelSource, compiled per ISA as
// DRSNKernelsAVX512 / DRSNKernelsAVX2 / DRSNKernelsBaseline, see Package.swift), chosen
// once per process at first use from CPUID (drsnsup_kernel_isa_level, which honours
// DRSN_FORCE_ISA=baseline|avx2|avx512). Selected once, never per call or per element.
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

/// The kernels of the ISA variant chosen once per process (`activeISA`): every kernel call is
/// `activeKernels.name(...)`, one witness-table call into that variant's module.
public let activeKernels: any KernelSet.Type = {
    switch activeISA {
#if arch(x86_64)
    case .avx512: return DRSNKernelsAVX512.ISAKernels.self
    case .avx2: return DRSNKernelsAVX2.ISAKernels.self
#endif
    default: return DRSNKernelsBaseline.ISAKernels.self
    }
}()

/// The ISA name compiled into the variant `activeKernels` calls (tests compare it with
/// `activeKernelISA.name`).
public var activeKernelVariantName: String { activeKernels.variantName }

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
