// swift-tools-version:6.0
// drsn: inference runtime for Deep Residual Shrinkage Networks, shipped as libdrsn.so.
//
// Pipeline, one folder per stage:
//   DRSNOnnx (ONNX protobuf reading) -> DRSNCore/Import -> DRSNCore/Passes (graph passes)
//   -> DRSNCore/Plan (execution plan, memory plan) -> DRSNKernels (raw-pointer kernels)
//   -> DRSNCore/Runtime -> DRSNCAPI (the C ABI shim, product `drsn`).
import PackageDescription

let root = Context.packageDirectory

/// Kernel modules are pure arithmetic on raw pointers. Release builds them -Ounchecked (no
/// overflow or precondition checks): safe because every index is validated when the plan is
/// built. Debug builds (what `swift test` runs) optimise them with checks kept (-O: integer
/// overflow traps) and compile the kernels' entry preconditions (`kernelPrecondition`, under
/// `#if DEBUG`), so the unit tests run every kernel with its argument contract checked.
let kernelBaseFlags: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
    .unsafeFlags(["-O", "-enforce-exclusivity=unchecked"], .when(configuration: .debug)),
]

/// The kernel source (Sources/DRSNKernelSource) is compiled once per ISA: the target folders
/// Sources/DRSNKernels{AVX512,AVX2,Baseline} are symlinks to it. The module DRSNKernels picks
/// one variant at run time (CPUID, DRSN_FORCE_ISA). On non-x86 hosts: Baseline only, native ISA.
#if arch(x86_64)
let kernelVariants: [Target] = [
    .target(name: "DRSNKernelsAVX512", dependencies: ["DRSNKernelTypes", "CDRSNInt8Tiles"], swiftSettings: [
        .define("DRSN_ISA_AVX512"), .unsafeFlags(["-Xcc", "-march=x86-64-v4"]),
    ] + kernelBaseFlags),
    .target(name: "DRSNKernelsAVX2", dependencies: ["DRSNKernelTypes", "CDRSNInt8Tiles"], swiftSettings: [
        .define("DRSN_ISA_AVX2"), .unsafeFlags(["-Xcc", "-march=x86-64-v3"]),
    ] + kernelBaseFlags),
    // Plain x86-64 (SSE2, no FMA): `madd` is a multiply and an add there, never fmaf.
    .target(name: "DRSNKernelsBaseline", dependencies: ["DRSNKernelTypes", "CDRSNInt8Tiles"], swiftSettings: kernelBaseFlags),
]
#else
let kernelVariants: [Target] = [
    .target(name: "DRSNKernelsBaseline", dependencies: ["DRSNKernelTypes", "CDRSNInt8Tiles"], swiftSettings: kernelBaseFlags),
]
#endif
let kernelVariantNames: [Target.Dependency] = kernelVariants.map { .target(name: $0.name) }

let package = Package(
    name: "drsn",
    products: [
        .library(name: "drsn", type: .dynamic, targets: ["DRSNCAPI"]),
        .library(name: "DRSNCore", targets: ["DRSNCore"]),
    ],
    targets: [
        .target(name: "CDRSNSupport"),
        // The int8 register tiles: a header of static inline intrinsics, compiled into each
        // kernel ISA module with that module's -march (Sources/CDRSNInt8Tiles/include).
        .target(name: "CDRSNInt8Tiles"),
        .target(name: "DRSNKernelTypes"),
        .target(name: "DRSNKernels", dependencies: ["DRSNKernelTypes", "CDRSNSupport"] + kernelVariantNames),
        .target(name: "DRSNOnnx", dependencies: ["CDRSNSupport"]),
        .target(name: "DRSNCore", dependencies: ["DRSNOnnx", "DRSNKernels", "CDRSNSupport"]),
        .target(
            name: "DRSNCAPI",
            dependencies: ["DRSNCore", "DRSNKernels", "CDRSNSupport"],
            exclude: ["exports.map"],  // the linker's version script, not a source
            swiftSettings: [.unsafeFlags(["-static-stdlib"])],
            linkerSettings: [.unsafeFlags([
                // lld keeps the dynamic symbol table to the version script's drsn_* list.
                "-static-stdlib", "-use-ld=lld",
                "-Xlinker", "--version-script=\(root)/Sources/DRSNCAPI/exports.map",
                "-Xlinker", "-z", "-Xlinker", "defs",
                // Never unmapped: dlclose() leaves the library loaded (and a later dlopen()
                // finds it), because the worker pool's threads and the statically linked
                // Swift runtime's thread-local destructors keep running its code.
                // Tests/c/test_unload.c.
                "-Xlinker", "-z", "-Xlinker", "nodelete",
            ])]
        ),
        .testTarget(name: "DRSNKernelsTests", dependencies: ["DRSNKernels"]),
        .testTarget(name: "DRSNOnnxTests", dependencies: ["DRSNOnnx"], exclude: ["Fixtures"]),
        .testTarget(name: "DRSNCoreTests", dependencies: ["DRSNCore"]),
        // Kernel GFLOPS timings (`swift run -c release drsn-kernel-bench`): a benchmark, not a
        // test; `swift test` builds it and never runs it.
        .executableTarget(name: "drsn-kernel-bench", dependencies: ["DRSNKernels"], path: "benchmarks/kernels"),
    ] + kernelVariants
)
