import DRSNKernels
import Foundation
import XCTest

/// The kernels' entry preconditions (Sources/DRSNKernelSource/Preconditions.swift) are
/// compiled into debug builds, which `swift test` runs: a kernel called with arguments that
/// break its contract stops the process with "kernel precondition failed". Checked in child
/// processes: this test binary runs this same test again with DRSN_TEST_BROKEN_KERNEL_CALL
/// naming the call to make, and the child must die with that message. The kernel variant is
/// the one the parent runs (DRSN_FORCE_ISA is inherited).
final class KernelPreconditionTests: XCTestCase {
    static let childVariable = "DRSN_TEST_BROKEN_KERNEL_CALL"

    /// Calls that break a kernel's contract (each must stop a debug build).
    static let brokenCalls: [String: @Sendable () -> Void] = [
        "unary with a negative count": {
            var x: [Float] = [1, 2], y: [Float] = [0, 0]
            activeKernels.unary(.relu, input: &x, output: &y, count: -1)
        },
        "transpose with an invalid permutation": {
            var x = [Float](repeating: 1, count: 6), y = [Float](repeating: 0, count: 6)
            activeKernels.transpose(input: &x, shape: [2, 3], permutation: [0, 0], output: &y)
        },
        "conv2D with a batch range past the batch": {
            let p = ConvParams(batch: 1, inChannels: 1, inHeight: 1, inWidth: 4, outChannels: 1, outHeight: 1,
                               outWidth: 4, kernelHeight: 1, kernelWidth: 1)
            var x = [Float](repeating: 1, count: 8), w: [Float] = [1], y = [Float](repeating: 0, count: 8)
            var s = [Float](repeating: 0, count: max(activeKernels.convScratchElements(p), 1))
            activeKernels.conv2D(p, input: &x, weights: &w, bias: nil, activation: .none, output: &y, scratch: &s, batchRange: 0..<2)
        },
        "maxPool2D with a zero stride": {
            let p = PoolParams(planes: 1, inHeight: 1, inWidth: 4, outHeight: 1, outWidth: 4, kernelHeight: 1,
                               kernelWidth: 1, strideHeight: 1, strideWidth: 0)
            var x = [Float](repeating: 1, count: 4), y = [Float](repeating: 0, count: 4)
            activeKernels.maxPool2D(p, input: &x, output: &y)
        },
    ]

    func testBrokenKernelContractsStopADebugBuild() throws {
        if let call = ProcessInfo.processInfo.environment[Self.childVariable] {
            // The child: make the call; a debug build never returns from it.
            Self.brokenCalls[call]?()
            print("returned from: \(call)")
            return
        }
        #if !DEBUG
        throw XCTSkip("a release build has no kernel entry preconditions")
        #else
        for call in Self.brokenCalls.keys.sorted() {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
            child.arguments = ["DRSNKernelsTests.KernelPreconditionTests/testBrokenKernelContractsStopADebugBuild"]
            var environment = ProcessInfo.processInfo.environment
            environment[Self.childVariable] = call
            environment["SWIFT_BACKTRACE"] = "enable=no"  // no crash report: the crash is expected
            child.environment = environment
            let output = Pipe()
            child.standardOutput = output
            child.standardError = output
            try child.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            child.waitUntilExit()
            XCTAssertEqual(child.terminationReason, .uncaughtSignal, "\(call): the child was not stopped:\n\(text)")
            XCTAssertTrue(text.contains("kernel precondition failed"), "\(call): no precondition message:\n\(text)")
            XCTAssertFalse(text.contains("returned from"), "\(call): the kernel returned:\n\(text)")
        }
        #endif
    }
}
