import XCTest
import DRSNKernels

/// Deterministic xorshift64* generator.
struct RNG {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
        state ^= state >> 12; state ^= state << 25; state ^= state >> 27
        return state &* 2685821657736338717
    }
    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(Double(next() >> 11) / Double(1 << 53) * 2 - 1) }
    mutating func floats(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in float() * scale } }
    mutating func int(_ range: Range<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
}

func assertClose(_ actual: [Float], _ expected: [Float], tol: Float = 1e-4, relative: Bool = false,
                 _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "count " + message(), file: file, line: line)
    var bad = 0
    for i in 0..<min(actual.count, expected.count) {
        let a = actual[i], e = expected[i]
        if a.isNaN && e.isNaN { continue }
        if a == e { continue }  // includes infinities
        let t = relative ? tol * max(1, Swift.abs(e)) : tol
        if !(Swift.abs(a - e) <= t) {
            if bad < 5 { XCTFail("[\(i)] got \(a) expected \(e) \(message())", file: file, line: line) }
            bad += 1
        }
    }
    if bad > 5 { XCTFail("\(bad) mismatches in total \(message())", file: file, line: line) }
}

func contiguousStridesOf(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for d in stride(from: shape.count - 1, through: 0, by: -1) { s[d] = acc; acc *= shape[d] }
    return s
}

/// Multi-index of flat position i in shape.
func unflatten(_ i: Int, _ shape: [Int]) -> [Int] {
    var idx = [Int](repeating: 0, count: shape.count)
    var r = i
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
        idx[d] = r % shape[d]; r /= shape[d]
    }
    return idx
}

func flatten(_ idx: [Int], _ shape: [Int]) -> Int {
    var f = 0
    for d in 0..<shape.count { f = f * shape[d] + idx[d] }
    return f
}
