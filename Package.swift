// swift-tools-version:6.0
// drsn: inference runtime for Deep Residual Shrinkage Networks, shipped as libdrsn.so.
//
// Pipeline, one folder per stage:
//   DRSNOnnx (ONNX protobuf reading) -> DRSNCore/Import -> DRSNCore/Passes (graph passes)
//   -> DRSNCore/Plan (execution plan, memory plan) -> DRSNKernels (raw-pointer kernels)
//   -> DRSNCore/Runtime -> DRSNCAPI (the C ABI shim, product `drsn`).
import PackageDescription

let root = Context.packageDirectory

/// Kernel modules are pure arithmetic on raw pointers: unchecked is safe because every
/// index is validated when the plan is built.
#if arch(x86_64)
let kernelISAFlags = ["-Xcc", "-march=x86-64-v3"]   // AVX2 + FMA; checked at model load (CPUID)
#else
let kernelISAFlags: [String] = []
#endif
let kernelSettings: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-enforce-exclusivity=unchecked"] + kernelISAFlags),
]

let package = Package(
    name: "drsn",
    products: [
        .library(name: "drsn", type: .dynamic, targets: ["DRSNCAPI"]),
    ],
    targets: [
        .target(name: "CDRSNSupport"),
        .target(name: "DRSNKernels", swiftSettings: kernelSettings),
        .target(name: "DRSNOnnx", dependencies: ["CDRSNSupport"]),
        .target(name: "DRSNCore", dependencies: ["DRSNOnnx", "DRSNKernels", "CDRSNSupport"]),
        .target(
            name: "DRSNCAPI",
            dependencies: ["DRSNCore", "CDRSNSupport"],
            swiftSettings: [.unsafeFlags(["-static-stdlib"])],
            linkerSettings: [.unsafeFlags([
                // lld keeps the dynamic symbol table to the version script's drsn_* list.
                "-static-stdlib", "-use-ld=lld",
                "-Xlinker", "--version-script=\(root)/Sources/DRSNCAPI/exports.map",
                "-Xlinker", "-z", "-Xlinker", "defs",
            ])]
        ),
        .testTarget(name: "DRSNKernelsTests", dependencies: ["DRSNKernels"]),
        .testTarget(name: "DRSNOnnxTests", dependencies: ["DRSNOnnx"], exclude: ["Fixtures"]),
        .testTarget(name: "DRSNCoreTests", dependencies: ["DRSNCore"]),
    ]
)
