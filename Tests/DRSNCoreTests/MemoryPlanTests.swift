@testable import DRSNCore
import XCTest

final class MemoryPlanTests: XCTestCase {
    /// Values whose lifetimes overlap never share memory; disjoint ones may.
    func testOverlappingLifetimesNeverShareMemory() {
        var r = SeededRandom(1)
        for _ in 0..<50 {
            let n = 30
            var sizes: [Int] = []
            var lifetimes: [(Int, Int)?] = []
            for _ in 0..<n {
                sizes.append(Int((r.next() + 1) * 500))
                let a = Int((r.next() + 1) * 20), len = Int((r.next() + 1) * 5)
                lifetimes.append(r.next() > -0.8 ? (a, a + len) : nil)
            }
            let plan = MemoryPlan.make(sizes: sizes, lifetimes: lifetimes)
            for i in 0..<n {
                guard let li = lifetimes[i], let oi = plan.offsets[i] else { continue }
                XCTAssertEqual(oi % MemoryPlan.alignment, 0)
                XCTAssertLessThanOrEqual(oi + sizes[i], plan.valueFloats)
                for j in (i + 1)..<n {
                    guard let lj = lifetimes[j], let oj = plan.offsets[j] else { continue }
                    if li.0 <= lj.1 && lj.0 <= li.1 {
                        XCTAssertTrue(oi + sizes[i] <= oj || oj + sizes[j] <= oi, "values \(i) and \(j) overlap")
                    }
                }
            }
        }
    }

    func testChainReusesMemory() {
        // A chain a -> b -> c -> d: a and c can share, b and d can share.
        let plan = MemoryPlan.make(sizes: [1000, 1000, 1000, 1000], lifetimes: [(0, 1), (1, 2), (2, 3), (3, 4)])
        XCTAssertLessThanOrEqual(plan.valueFloats, 2 * MemoryPlan.align(1000))
    }
}
