// swift-tools-version:6.0
// libFuzzer target for drsn's model loader: arbitrary bytes -> Model.load(bytes:), and on
// success one run with a small input. Build and run with Tests/fuzz/run.sh.
import PackageDescription

let package = Package(
    name: "drsn-fuzz",
    dependencies: [.package(name: "drsn", path: "../..")],
    targets: [
        .executableTarget(
            name: "DRSNLoadFuzzer",
            dependencies: [.product(name: "DRSNCore", package: "drsn")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
