import XCTest
import Foundation
import DRSNKernels

final class UnaryTests: XCTestCase {
    let special: [Float] = [0, -0.0, 1, -1, .nan, .infinity, -.infinity, 1000, -1000, 88.8, -88.8, 1e-30, -1e-30]

    func run(_ op: UnaryOp, _ ref: (Float) -> Float, file: StaticString = #filePath, line: UInt = #line) {
        var rng = RNG(seed: 42)
        for n in [0, 1, 3, 7, 8, 16, 17, 31, 33, 65] {
            var x = rng.floats(n, scale: 5)
            for i in 0..<min(n, special.count) { x[(i * 7) % n] = special[i] }
            let expected = x.map(ref)
            var y = [Float](repeating: 123, count: n + 1)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    activeKernels.unary(op, input: xp.baseAddress ?? UnsafePointer(yp.baseAddress!), output: yp.baseAddress!, count: n)
                }
            }
            XCTAssertEqual(y[n], 123, "wrote past the end", file: file, line: line)
            assertClose(Array(y[0..<n]), expected, tol: 1e-6, "\(op) n=\(n)", file: file, line: line)
            // In place.
            var z = x
            z.withUnsafeMutableBufferPointer { zp in
                if let b = zp.baseAddress { activeKernels.unary(op, input: b, output: b, count: n) }
            }
            assertClose(z, expected, tol: 1e-6, "\(op) in place n=\(n)", file: file, line: line)
        }
    }

    func testOps() {
        run(.relu) { $0.isNaN ? .nan : ($0 < 0 ? 0 : $0) }
        run(.abs) { Swift.abs($0) }
        run(.sign) { $0.isNaN ? .nan : ($0 > 0 ? 1 : ($0 < 0 ? -1 : 0)) }
        run(.neg) { -$0 }
        run(.copy) { $0 }
        run(.sigmoid) { x in
            if x.isNaN { return .nan }
            return Float(1 / (1 + Foundation.exp(-Double(x))))
        }
        run(.clip(min: -0.5, max: 2)) { $0.isNaN ? .nan : Swift.min(Swift.max($0, -0.5), 2) }
        run(.clip(min: -.infinity, max: 1)) { $0.isNaN ? .nan : Swift.min($0, 1) }
        run(.clip(min: 0, max: .infinity)) { $0.isNaN ? .nan : Swift.max($0, 0) }
    }

    func testSigmoidSweep() {
        let x = (0..<20001).map { Float($0 - 10000) * 0.01 }
        var y = [Float](repeating: 0, count: x.count)
        activeKernels.unary(.sigmoid, input: x, output: &y, count: x.count)
        let expected = x.map { Float(1 / (1 + Foundation.exp(-Double($0)))) }
        assertClose(y, expected, tol: 3e-7)
        // Relative accuracy in the negative tail (below exp(-87.3) results flush to 0: denormals).
        for i in stride(from: 1300, to: 5000, by: 37) {
            XCTAssertEqual(Double(y[i]), Double(expected[i]), accuracy: Double(expected[i]) * 2e-6)
        }
    }

    func testSigmoidExtremes() {
        let x: [Float] = [-1000, 1000, -88, 88, 0]
        var y = [Float](repeating: 0, count: 5)
        activeKernels.unary(.sigmoid, input: x, output: &y, count: 5)
        XCTAssertEqual(y[0], 0); XCTAssertEqual(y[1], 1); XCTAssertEqual(y[4], 0.5)
        XCTAssertFalse(y.contains { $0.isNaN })
    }
}

func refBinary(_ op: BinaryOp, _ a: Float, _ b: Float) -> Float {
    switch op {
    case .add: return a + b
    case .sub: return a - b
    case .mul: return a * b
    case .div: return a / b
    case .max: return (a.isNaN || b.isNaN) ? .nan : Swift.max(a, b)
    case .min: return (a.isNaN || b.isNaN) ? .nan : Swift.min(a, b)
    case .greater: return a > b ? 1 : 0
    case .less: return a < b ? 1 : 0
    case .greaterOrEqual: return a >= b ? 1 : 0
    case .lessOrEqual: return a <= b ? 1 : 0
    case .equal: return a == b ? 1 : 0
    }
}

/// numpy broadcasting done the obvious way (from the shapes, not strides).
func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
    let r = max(a.count, b.count)
    return (0..<r).map { i -> Int in
        let da = i - (r - a.count) >= 0 ? a[i - (r - a.count)] : 1
        let db = i - (r - b.count) >= 0 ? b[i - (r - b.count)] : 1
        return da == 1 ? db : da
    }
}

func sourceIndex(_ outIdx: [Int], _ shape: [Int]) -> Int {
    let off = outIdx.count - shape.count
    var f = 0
    for d in 0..<shape.count { f = f * shape[d] + (shape[d] == 1 ? 0 : outIdx[d + off]) }
    return f
}

final class BroadcastTests: XCTestCase {
    let allOps: [BinaryOp] = [.add, .sub, .mul, .div, .max, .min, .greater, .less, .greaterOrEqual, .lessOrEqual, .equal]

    func testBroadcastStrides() {
        XCTAssertEqual(broadcastStrides([3, 1, 5], to: [2, 3, 4, 5]), [0, 5, 0, 1])
        XCTAssertEqual(broadcastStrides([], to: [2, 3]), [0, 0])
        XCTAssertEqual(broadcastStrides([4], to: [2, 4]), [0, 1])
        XCTAssertNil(broadcastStrides([3], to: [2, 4]))
        XCTAssertNil(broadcastStrides([1, 2, 3], to: [2, 3]))
        XCTAssertEqual(broadcastStrides([], to: []), [])
        XCTAssertEqual(broadcastStrides([2, 3], to: [2, 3]), [3, 1])
    }

    func check(_ op: BinaryOp, _ sa: [Int], _ sb: [Int], seed: UInt64, specials: Bool = false,
               file: StaticString = #filePath, line: UInt = #line) {
        var rng = RNG(seed: seed)
        let outShape = broadcastShape(sa, sb)
        var a = rng.floats(numel(sa), scale: 3)
        var b = rng.floats(numel(sb), scale: 3)
        // Make equality hits likely.
        for i in 0..<a.count where i % 4 == 0 { a[i] = Float(Int(a[i])) }
        for i in 0..<b.count where i % 3 == 0 { b[i] = Float(Int(b[i])) }
        if specials {
            let sp: [Float] = [.nan, .infinity, -.infinity, 0, -0.0]
            for i in 0..<a.count where i % 5 == 1 { a[i] = sp[i % sp.count] }
            for i in 0..<b.count where i % 7 == 2 { b[i] = sp[(i / 7) % sp.count] }
        }
        let total = numel(outShape)
        var expected = [Float](repeating: 0, count: total)
        for i in 0..<total {
            let idx = unflatten(i, outShape)
            expected[i] = refBinary(op, a[sourceIndex(idx, sa)], b[sourceIndex(idx, sb)])
        }
        var y = [Float](repeating: .nan, count: total)
        let as_ = broadcastStrides(sa, to: outShape)!, bs = broadcastStrides(sb, to: outShape)!
        activeKernels.binary(op, a: a, aStrides: as_, b: b, bStrides: bs, output: &y, outShape: outShape)
        assertClose(y, expected, tol: 1e-6, relative: true, "\(op) \(sa) \(sb)", file: file, line: line)
    }

    let shapePairs: [([Int], [Int])] = [
        ([], []),
        ([17], [17]),
        ([3, 33], []),
        ([], [7, 5]),
        ([1], [65]),
        ([7, 17], [17]),        // row
        ([7, 17], [7, 1]),      // column
        ([2, 3, 5], [1, 3, 1]), // middle dim
        ([2, 1, 5], [3, 1]),    // rank mismatch, both broadcast
        ([7, 3, 4, 9], [3, 1, 9]),
        ([1, 1, 31], [1, 33, 1]),
        ([2, 3, 2, 1, 2, 3, 1, 2], [3, 1, 3, 2, 3, 2, 1]),  // rank 8
        ([4, 0, 3], [3]),
        ([2, 5, 1, 1], [2, 5, 1, 1]),
    ]

    func testAllOpsAllShapes() {
        var seed: UInt64 = 1
        for op in allOps {
            for (sa, sb) in shapePairs {
                seed += 1
                check(op, sa, sb, seed: seed)
                check(op, sb, sa, seed: seed + 1000)
            }
        }
    }

    func testNaNInf() {
        var seed: UInt64 = 5000
        for op in allOps {
            for (sa, sb) in [([33], [33]), ([5, 17], [1]), ([1], [5, 17]), ([3, 4, 5], [3, 1, 5])] {
                seed += 1
                check(op, sa, sb, seed: seed, specials: true)
            }
        }
    }

    func testSelect() {
        var seed: UInt64 = 9000
        for (sc, sx, sy) in [([17], [17], [17]), ([3, 1], [1, 33], []), ([2, 3, 4], [4], [3, 1]), ([], [5], [5]), ([7, 9], [7, 9], [7, 9])] {
            seed += 1
            var rng = RNG(seed: seed)
            let out = broadcastShape(broadcastShape(sc, sx), sy)
            let c = rng.floats(numel(sc)).map { $0 > 0 ? Float(1) : 0 }
            let x = rng.floats(numel(sx)), y = rng.floats(numel(sy))
            let total = numel(out)
            var expected = [Float](repeating: 0, count: total)
            for i in 0..<total {
                let idx = unflatten(i, out)
                expected[i] = c[sourceIndex(idx, sc)] != 0 ? x[sourceIndex(idx, sx)] : y[sourceIndex(idx, sy)]
            }
            var o = [Float](repeating: .nan, count: total)
            activeKernels.select(condition: c, conditionStrides: broadcastStrides(sc, to: out)!, x: x, xStrides: broadcastStrides(sx, to: out)!,
                                 y: y, yStrides: broadcastStrides(sy, to: out)!, output: &o, outShape: out)
            assertClose(o, expected, tol: 0, "\(sc) \(sx) \(sy)")
        }
    }
}

func numel(_ s: [Int]) -> Int { s.reduce(1, *) }
