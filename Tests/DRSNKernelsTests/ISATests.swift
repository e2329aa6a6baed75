import XCTest
import DRSNKernels

/// Run-time ISA dispatch: the variant that runs is the one CPUID and DRSN_FORCE_ISA select.
final class ISATests: XCTestCase {
    func testActiveVariantMatchesSelection() {
        let isa = activeKernelISA
        print("drsn kernels: ISA \(isa.name) (variant \(activeKernelVariantName))")
        XCTAssertEqual(activeKernelVariantName, isa.name)
        if let forced = ProcessInfo.processInfo.environment["DRSN_FORCE_ISA"],
           let want = KernelISA.allCases.first(where: { $0.name == forced }) {
            // Forcing only lowers the level: never above what was asked for.
            XCTAssertLessThanOrEqual(isa.rawValue, want.rawValue)
        }
        #if !arch(x86_64)
        XCTAssertEqual(isa, .baseline)
        #endif
    }

    /// Expected level on this machine when DRSN_EXPECT_ISA is set (Tests/isa/run.sh sets it).
    func testExpectedISA() throws {
        guard let expect = ProcessInfo.processInfo.environment["DRSN_EXPECT_ISA"] else {
            throw XCTSkip("DRSN_EXPECT_ISA not set")
        }
        XCTAssertEqual(activeKernelISA.name, expect)
    }
}
