import XCTest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import DRSNKernels

/// `unaryMath` and `binaryMath` against double-precision references: the error bounds that
/// `UnaryMathOp` and VectorMath.swift state (in ulps of the float32 result, with an absolute
/// allowance only where the function's own formula cancels), special values, SIMD tails,
/// in-place runs and broadcasting. Run under DRSN_FORCE_ISA=baseline too (no FMA).
final class UnaryMathTests: XCTestCase {
    func apply(_ op: UnaryMathOp, _ x: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        if !x.isEmpty { activeKernels.unaryMath(op, input: x, output: &y, count: x.count) }
        return y
    }

    /// Inputs: uniform in [-range, range], then magnitudes spread over many binades.
    func inputs(_ range: Float, count: Int = 200_000, seed: UInt64 = 7) -> [Float] {
        var rng = RNG(seed: seed)
        var x = rng.floats(count, scale: range)
        for i in 0..<count / 4 {
            let e = rng.float() * 30  // |x| in [1e-13, 1e13]
            x.append(Float(Foundation.exp(Double(e))) * (rng.float() < 0 ? -1 : 1))
        }
        return x.filter { Swift.abs($0) <= range }
    }

    /// Largest |y - ref| / max(ulp(ref), absFloor) over `x`, for finite references of float
    /// range (subnormal results count in units of the smallest subnormal).
    func maxError(_ op: UnaryMathOp, _ x: [Float], absFloor: Double = 0, _ ref: (Double) -> Double)
        -> (error: Double, at: Float) {
        let y = apply(op, x)
        var worst = (0.0, Float(0))
        for i in 0..<x.count {
            let r = ref(Double(x[i]))
            guard r.isFinite, Swift.abs(r) < Double(Float.greatestFiniteMagnitude) else { continue }
            let ulp = Double(Swift.max(Float(Swift.abs(r)).ulp, Float.leastNonzeroMagnitude))
            let e = Swift.abs(Double(y[i]) - r) / Swift.max(ulp, absFloor)
            if !(e <= worst.0) { worst = (e, x[i]) }
        }
        return worst
    }

    func assertAccuracy(_ op: UnaryMathOp, range: Float, ulps: Double, absFloor: Double = 0,
                        file: StaticString = #filePath, line: UInt = #line, _ ref: (Double) -> Double) {
        let (e, at) = maxError(op, inputs(range), absFloor: absFloor, ref)
        print("unaryMath \(op) [\(activeKernelVariantName)]: max error \(e) ulp at x = \(at)")
        XCTAssertLessThanOrEqual(e, ulps, "\(op) at x = \(at)", file: file, line: line)
    }

    func testTranscendentalAccuracy() {
        assertAccuracy(.exp, range: 88.7, ulps: 1.5) { Foundation.exp($0) }
        assertAccuracy(.exp, range: 103, ulps: 1.5) { Foundation.exp($0) }  // subnormal results
        assertAccuracy(.log, range: 3e38, ulps: 1) { $0 > 0 ? Foundation.log($0) : .nan }
        assertAccuracy(.tanh, range: 12, ulps: 1.5) { Foundation.tanh($0) }
        assertAccuracy(.erf, range: 6, ulps: 1.5) { Foundation.erf($0) }
        assertAccuracy(.softplus, range: 100, ulps: 3) { x in Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x))) }
        assertAccuracy(.softsign, range: 1e6, ulps: 1.5) { $0 / (1 + Swift.abs($0)) }
        assertAccuracy(.elu(alpha: 1), range: 30, ulps: 2.5) { $0 >= 0 ? $0 : Foundation.expm1($0) }
        assertAccuracy(.elu(alpha: 0.3), range: 30, ulps: 3.5) { $0 >= 0 ? $0 : 0.3 * Foundation.expm1($0) }
        let a = Double(Float(1.673_263_192_176_818_8)), g = Double(Float(1.050_701_022_148_132_3))
        assertAccuracy(.selu(alpha: Float(a), gamma: Float(g)), range: 30, ulps: 3.5) { g * ($0 > 0 ? $0 : a * Foundation.expm1($0)) }
    }

    func testExactFunctions() {
        // sqrt and reciprocal are correctly rounded (as IEEE sqrt and division)
        assertAccuracy(.sqrt, range: 3e38, ulps: 0.5) { $0 >= 0 ? $0.squareRoot() : .nan }
        assertAccuracy(.reciprocal, range: 3e38, ulps: 0.5) { 1 / $0 }
        assertAccuracy(.pow(exponent: 2), range: 1e19, ulps: 0.5) { $0 * $0 }
        assertAccuracy(.pow(exponent: 0.5), range: 3e38, ulps: 0.5) { $0 >= 0 ? $0.squareRoot() : .nan }
    }

    func testSqrtEveryMantissa() {
        // every float in [1, 4): both exponent parities, so every case of the final rounding
        let x = (UInt32(0x3f80_0000)..<UInt32(0x4080_0000)).map { Float(bitPattern: $0) }
        let y = apply(.sqrt, x)
        var bad = 0
        for i in 0..<x.count where y[i] != x[i].squareRoot() {
            if bad < 5 { XCTFail("sqrt(\(x[i])) = \(y[i]), IEEE \(x[i].squareRoot())") }
            bad += 1
        }
        XCTAssertEqual(bad, 0)
    }

    func testClampedFunctions() {
        // the formula itself cancels near its zero (alpha x + beta ~ 0): 1e-7 absolute there
        assertAccuracy(.hardSigmoid(alpha: 0.2, beta: 0.5), range: 10, ulps: 1, absFloor: 1e-7) {
            Swift.min(Swift.max(Double(Float(0.2)) * $0 + 0.5, 0), 1)
        }
        assertAccuracy(.hardSwish, range: 10, ulps: 1.5, absFloor: 1e-7) { $0 * Swift.min(Swift.max($0 / 6 + 0.5, 0), 1) }
    }

    /// Largest relative error over `x` (results of magnitude above 1e-37).
    func maxRelativeError(_ op: UnaryMathOp, _ x: [Float], _ ref: (Double) -> Double) -> Double {
        let y = apply(op, x)
        var worst = 0.0
        for i in 0..<x.count {
            let r = ref(Double(x[i]))
            guard Swift.abs(r) > 1e-37, Swift.abs(r) < Double(Float.greatestFiniteMagnitude) else { continue }
            worst = Swift.max(worst, Swift.abs(Double(y[i]) - r) / Swift.abs(r))
        }
        return worst
    }

    func testGeluAccuracy() {
        func gelu(_ x: Double) -> Double {
            x < 0 ? 0.5 * x * Foundation.erfc(-x / 2.0.squareRoot()) : 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot()))
        }
        // x / 2 * (1 + erf) above x = -1.3 (x / sqrt 2 > -erfSplit): within 3.5 ulp (1 + erf
        // cancels a little just above -1.3)
        let right = inputs(5).filter { $0 > -1.3 }
        let (e, at) = maxError(.gelu, right) { gelu($0) }
        print("unaryMath gelu x > -1.3 [\(activeKernelVariantName)]: max error \(e) ulp at x = \(at)")
        XCTAssertLessThanOrEqual(e, 3.5, "gelu at \(at)")
        // the erfc branch (x <= -1.3) down to subnormal results: relative 1e-5
        let left = inputs(15, seed: 11).map { -Swift.abs($0) - 1.3 }
        let rel = maxRelativeError(.gelu, left) { gelu($0) }
        print("unaryMath gelu x <= -1.3 [\(activeKernelVariantName)]: max relative error \(rel)")
        XCTAssertLessThanOrEqual(rel, 1e-5)
        // tanh approximation, against x * logistic(2u) (the same function without cancellation):
        // relative 5e-5 everywhere (the float rounding of u, amplified by exp in the negative tail)
        func geluTanh(_ x: Double) -> Double { x / (1 + Foundation.exp(-2 * (2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x))) }
        let (et, att) = maxError(.geluTanh, inputs(5).filter { $0 > -1 }) { geluTanh($0) }
        print("unaryMath geluTanh x > -1 [\(activeKernelVariantName)]: max error \(et) ulp at x = \(att)")
        XCTAssertLessThanOrEqual(et, 4, "geluTanh at \(att)")
        let relT = maxRelativeError(.geluTanh, inputs(15, seed: 12)) { geluTanh($0) }
        print("unaryMath geluTanh [\(activeKernelVariantName)]: max relative error \(relT)")
        XCTAssertLessThanOrEqual(relT, 5e-5)
    }

    func testPowAccuracy() {
        // general exponents in double precision: correctly rounded but for 1e-12 relative
        var rng = RNG(seed: 3)
        for e: Float in [1.7, -2.5, 4, -1, 0.25, 11, -7, 1e-3] {
            let x = inputs(1e4, count: 20_000, seed: UInt64(e.bitPattern)).map { Swift.abs($0) }
            let (err, at) = maxError(.pow(exponent: e), x) { Foundation.pow($0, Double(e)) }
            XCTAssertLessThanOrEqual(err, 0.5 + 1e-6, "pow(x, \(e)) at \(at)")
        }
        XCTAssertLessThanOrEqual(maxError(.pow(exponent: 3), inputs(1e12)) { $0 * $0 * $0 }.error, 1.5)
        // negative bases: integer exponents keep the sign rule
        let neg = rng.floats(1000, scale: 10)
        for e: Float in [4, -3, 5] {
            XCTAssertLessThanOrEqual(maxError(.pow(exponent: e), neg) { Foundation.pow($0, Double(e)) }.error, 0.5 + 1e-6, "pow(x, \(e))")
        }
        // exponent 3 is x * x * x, as onnxruntime computes it
        XCTAssertLessThanOrEqual(maxError(.pow(exponent: 3), neg) { $0 * $0 * $0 }.error, 1.5)
    }

    func testSpecialValues() {
        // exact expectations for the special inputs (nil: a finite value, checked by the
        // accuracy tests); signs of zeros included
        let nan = Float.nan, inf = Float.infinity
        let x: [Float] = [nan, inf, -inf, 0, -0.0, 1e-40, -1e-40, 1, -1, 100, -100, 1e30, -1e30]
        func same(_ op: UnaryMathOp, _ expected: [Float?], line: UInt = #line) {
            let y = apply(op, x)
            for i in 0..<x.count {
                guard let e = expected[i] else {
                    XCTAssertTrue(y[i].isFinite, "\(op)(\(x[i])) = \(y[i])", line: line)
                    continue
                }
                let ok = e.isNaN ? y[i].isNaN : (y[i] == e && y[i].sign == e.sign)
                XCTAssertTrue(ok, "\(op)(\(x[i])) = \(y[i]), expected \(e)", line: line)
            }
        }
        same(.exp, [nan, inf, 0, 1, 1, 1, 1, nil, nil, inf, nil, inf, 0])
        same(.log, [nan, inf, nan, -inf, -inf, nil, nan, 0, nan, nil, nan, nil, nan])
        same(.sqrt, [nan, inf, nan, 0, -0.0, nil, nan, 1, nan, 10, nan, nil, nan])
        same(.reciprocal, [nan, 0, -0.0, inf, -inf, inf, -inf, 1, -1, nil, nil, nil, nil])
        same(.tanh, [nan, 1, -1, 0, -0.0, 1e-40, -1e-40, nil, nil, 1, -1, 1, -1])
        same(.erf, [nan, 1, -1, 0, -0.0, nil, nil, nil, nil, 1, -1, 1, -1])
        same(.softsign, [nan, nan, nan, 0, -0.0, 1e-40, -1e-40, 0.5, -0.5, nil, nil, 1, -1])
        same(.softplus, [nan, inf, 0, nil, nil, nil, nil, nil, nil, 100, nil, 1e30, 0])
        same(.hardSwish, [nan, inf, nan, 0, -0.0, nil, nil, nil, nil, 100, -0.0, 1e30, -0.0])
        same(.hardSigmoid(alpha: 0.2, beta: 0.5), [nan, 1, 0, 0.5, 0.5, 0.5, 0.5, nil, nil, 1, 0, 1, 0])
        same(.elu(alpha: 2), [nan, inf, -2, 0, -0.0, 1e-40, nil, 1, nil, 100, -2, 1e30, -2])
        same(.selu(alpha: 2, gamma: 3), [nan, inf, -6, 0, 0, nil, nil, 3, nil, 300, -6, nil, -6])
        same(.gelu, [nan, inf, nan, 0, -0.0, nil, nil, nil, nil, 100, -0.0, 1e30, -0.0])
        same(.geluTanh, [nan, inf, nan, 0, -0.0, nil, nil, nil, nil, 100, -0.0, 1e30, -0.0])
        same(.pow(exponent: 0.5), [nan, inf, inf, 0, 0, nil, nan, 1, nan, 10, nan, nil, nan])
        same(.pow(exponent: -3), [nan, 0, -0.0, inf, -inf, inf, -inf, 1, -1, nil, nil, 0, -0.0])
        same(.pow(exponent: 2), [nan, inf, inf, 0, 0, 0, 0, 1, 1, 10000, 10000, inf, inf])
        same(.pow(exponent: 0), [Float?](repeating: 1, count: x.count))
        // exp and softplus keep subnormal results
        XCTAssertEqual(apply(.exp, [-100])[0], Float(Foundation.exp(-100.0)))
        XCTAssertEqual(apply(.softplus, [-100])[0], Float(Foundation.exp(-100.0)))
        XCTAssertEqual(apply(.log, [1e-40])[0], Float(Foundation.log(Double(Float(1e-40)))))
    }

    func testTailsAndInPlace() {
        // every count 0...40: the SIMD tail agrees with the same values in full vectors
        var rng = RNG(seed: 21)
        let ops: [UnaryMathOp] = [.exp, .log, .sqrt, .reciprocal, .tanh, .erf, .softplus, .softsign, .elu(alpha: 0.5),
                                  .selu(alpha: 1.5, gamma: 2), .hardSigmoid(alpha: 0.3, beta: 0.4), .hardSwish, .gelu,
                                  .geluTanh, .pow(exponent: 2), .pow(exponent: 3), .pow(exponent: 0.5), .pow(exponent: 1),
                                  .pow(exponent: -1.5)]
        let base = rng.floats(48, scale: 4).map { Swift.abs($0) + 0.01 }
        for op in ops {
            let full = apply(op, base)
            for n in 0...40 {
                var y = [Float](repeating: 123, count: n + 1)
                base.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { yp in
                        activeKernels.unaryMath(op, input: xp.baseAddress!, output: yp.baseAddress!, count: n)
                    }
                }
                XCTAssertEqual(y[n], 123, "\(op): wrote past the end at n = \(n)")
                XCTAssertEqual(Array(y[0..<n]), Array(full[0..<n]), "\(op) n = \(n)")
            }
            var z = base
            z.withUnsafeMutableBufferPointer { b in activeKernels.unaryMath(op, input: b.baseAddress!, output: b.baseAddress!, count: b.count) }
            XCTAssertEqual(z, full, "\(op) in place")
        }
    }
}

final class BinaryMathTests: XCTestCase {
    func refPow(_ a: Float, _ b: Float) -> Float { Glibc.powf(a, b) }
    func refPrelu(_ a: Float, _ s: Float) -> Float { a < 0 ? a * s : a }

    func check(_ op: BinaryMathOp, _ sa: [Int], _ sb: [Int], seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        var rng = RNG(seed: seed)
        let out = broadcastShape(sa, sb)
        var a = rng.floats(numel(sa), scale: 3)
        var b = rng.floats(numel(sb), scale: 3)
        let sp: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 1, -1, 2]
        for i in 0..<a.count where i % 5 == 1 { a[i] = sp[i % sp.count] }
        for i in 0..<b.count where i % 3 == 0 { b[i] = (b[i] * 2).rounded() }
        for i in 0..<b.count where i % 7 == 2 { b[i] = sp[(i / 7) % sp.count] }
        let total = numel(out)
        var expected = [Float](repeating: 0, count: total)
        for i in 0..<total {
            let idx = unflatten(i, out)
            let x = a[sourceIndex(idx, sa)], y = b[sourceIndex(idx, sb)]
            expected[i] = op == .pow ? refPow(x, y) : refPrelu(x, y)
        }
        var y = [Float](repeating: 7, count: total)
        activeKernels.binaryMath(op, a: a, aStrides: broadcastStrides(sa, to: out)!, b: b, bStrides: broadcastStrides(sb, to: out)!,
                                 output: &y, outShape: out)
        // powf itself is within 1 ulp; drsn's pow is correctly rounded
        assertClose(y, expected, tol: 2.5e-7, relative: true, "\(op) \(sa) \(sb)", file: file, line: line)
    }

    func testBroadcastShapes() {
        let pairs: [([Int], [Int])] = [([17], [17]), ([3, 33], []), ([], [7, 5]), ([7, 17], [17]), ([7, 17], [7, 1]),
                                       ([2, 3, 5], [1, 3, 1]), ([2, 1, 5], [3, 1]), ([7, 3, 4, 9], [3, 1, 9]), ([4, 0, 3], [3])]
        var seed: UInt64 = 100
        for op in [BinaryMathOp.pow, .prelu] {
            for (sa, sb) in pairs {
                seed += 1
                check(op, sa, sb, seed: seed)
                check(op, sb, sa, seed: seed + 50)
            }
        }
    }
}
