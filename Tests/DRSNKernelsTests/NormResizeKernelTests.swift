import XCTest
import Foundation
import DRSNKernels

/// The reductions added in issue 11 (min, prod, l1, l2, sumSquare, logSumExp) against a
/// Double reference, including NaN propagation and empty reductions.
final class ReduceMoreTests: XCTestCase {
    func reference(_ op: ReduceOp, _ x: [Float], _ shape: [Int], _ axes: [Bool]) -> [Float] {
        let outShape = shape.enumerated().map { axes[$0.offset] ? 1 : $0.element }
        var groups = [[Double]](repeating: [], count: numel(outShape))
        for i in 0..<x.count {
            var idx = unflatten(i, shape)
            for d in 0..<shape.count where axes[d] { idx[d] = 0 }
            groups[flatten(idx, outShape)].append(Double(x[i]))
        }
        return groups.map { g -> Float in
            switch op {
            case .min: return g.contains { $0.isNaN } ? .nan : Float(g.min() ?? .infinity)
            case .max: return g.contains { $0.isNaN } ? .nan : Float(g.max() ?? -.infinity)
            case .prod: return Float(g.reduce(1, *))
            case .l1: return Float(g.reduce(0) { $0 + Swift.abs($1) })
            case .l2: return Float(g.reduce(0) { $0 + $1 * $1 }.squareRoot())
            case .sumSquare: return Float(g.reduce(0) { $0 + $1 * $1 })
            case .logSumExp:
                guard let m = g.max() else { return -.infinity }
                return Float(m + Foundation.log(g.reduce(0) { $0 + Foundation.exp($1 - m) }))
            case .sum: return Float(g.reduce(0, +))
            case .mean: return Float(g.reduce(0, +) / Double(g.count))
            }
        }
    }

    let ops: [ReduceOp] = [.min, .prod, .l1, .l2, .sumSquare, .logSumExp]

    func testAgainstReference() {
        let cases: [([Int], [Bool])] = [
            ([7, 17], [false, true]), ([7, 17], [true, false]), ([7, 17], [true, true]),
            ([1, 65, 33], [false, false, true]), ([7, 3, 31], [false, true, true]),
            ([3, 5, 7, 9], [true, false, true, false]), ([3, 5, 7, 9], [false, true, false, true]),
            ([3, 5, 7, 9], [false, false, false, false]), ([2, 1, 3], [false, true, false]),
            ([1000], [true]), ([], []), ([4, 1], [false, true]),
            ([2, 3, 2, 3, 2, 3], [true, false, true, true, false, false]),
        ]
        var rng = RNG(seed: 11)
        for op in ops {
            for (shape, axes) in cases {
                // products of many values: keep them near 1
                let x = rng.floats(numel(shape)).map { op == .prod ? 1 + $0 * 0.05 : $0 * 3 }
                var y = [Float](repeating: 77, count: numel(shape.enumerated().map { axes[$0.offset] ? 1 : $0.element }))
                activeKernels.reduce(op, input: x, shape: shape, axes: axes, output: &y)
                assertClose(y, reference(op, x, shape, axes), tol: 1e-5, relative: true, "\(op) \(shape) \(axes)")
            }
        }
    }

    func testNaNAndLargeValues() {
        var x: [Float] = [1, .nan, 3, -2, 5, 0.5]
        var y = [Float](repeating: 0, count: 2)
        activeKernels.reduce(.min, input: x, shape: [2, 3], axes: [false, true], output: &y)
        XCTAssertTrue(y[0].isNaN)
        XCTAssertEqual(y[1], -2)
        // logSumExp subtracts the max: no overflow at 100
        x = [100, 101, 0.5, -100, -101, -99]
        activeKernels.reduce(.logSumExp, input: x, shape: [2, 3], axes: [false, true], output: &y)
        assertClose(y, reference(.logSumExp, x, [2, 3], [false, true]), tol: 1e-6, relative: true)
        x = [.infinity, 1, 2, -.infinity, -.infinity, -.infinity]
        activeKernels.reduce(.logSumExp, input: x, shape: [2, 3], axes: [false, true], output: &y)
        XCTAssertEqual(y, [.infinity, -.infinity])
    }

    func testEmptyReductions() {
        let x: [Float] = []
        var y = [Float](repeating: 5, count: 3)
        let expected: [(ReduceOp, Float)] = [(.min, .infinity), (.prod, 1), (.l1, 0), (.l2, 0), (.sumSquare, 0),
                                             (.logSumExp, -.infinity)]
        for (op, value) in expected {
            activeKernels.reduce(op, input: x, shape: [3, 0], axes: [false, true], output: &y)
            XCTAssertEqual(y, [value, value, value], "\(op)")
        }
    }
}

/// LRN, layer and instance normalization against Double references, each also run as
/// separate ranges of planes / rows (a split run).
final class NormalizationKernelTests: XCTestCase {
    func refLRN(_ x: [Float], batch: Int, channels: Int, inner: Int, size: Int, alpha: Float, beta: Float,
                bias: Float) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        let before = (size - 1) / 2, after = size - 1 - before
        for n in 0..<batch {
            for c in 0..<channels {
                for i in 0..<inner {
                    var s = 0.0
                    for j in max(0, c - before)...min(channels - 1, c + after) {
                        let v = Double(x[(n * channels + j) * inner + i]); s += v * v
                    }
                    let k = (n * channels + c) * inner + i
                    y[k] = Float(Double(x[k]) / Foundation.pow(Double(bias) + Double(alpha) / Double(size) * s, Double(beta)))
                }
            }
        }
        return y
    }

    func testLRN() {
        var rng = RNG(seed: 21)
        for (batch, channels, inner) in [(1, 1, 1), (2, 5, 12), (3, 7, 9), (1, 16, 33)] {
            for (size, alpha, beta, bias) in [(1, Float(1e-4), Float(0.75), Float(1)), (3, 0.5, 0.5, 2), (5, 0.3, 1, 1.5),
                                              (4, 0.2, 0.6, 1.2), (9, 0.1, 0.75, 0.9)] {
                let x = rng.floats(batch * channels * inner, scale: 3)
                let expected = refLRN(x, batch: batch, channels: channels, inner: inner, size: size, alpha: alpha,
                                      beta: beta, bias: bias)
                var y = [Float](repeating: .nan, count: x.count)
                let planes = batch * channels, cut = planes / 3
                for r in [0..<cut, cut..<planes] {
                    activeKernels.lrn(input: x, output: &y, channels: channels, inner: inner, planes: r, size: size,
                                      alpha: alpha, beta: beta, bias: bias)
                }
                assertClose(y, expected, tol: 1e-5, relative: true, "lrn \(channels)x\(inner) size \(size) beta \(beta)")
            }
        }
    }

    func statistics(_ row: ArraySlice<Float>, epsilon: Float) -> (Double, Double) {
        let n = Double(row.count)
        let mean = row.reduce(0.0) { $0 + Double($1) } / n
        let variance = row.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        return (mean, 1 / (variance + Double(epsilon)).squareRoot())
    }

    func testLayerNormAndStatistics() {
        var rng = RNG(seed: 22)
        for (rows, cols) in [(1, 1), (3, 7), (5, 16), (4, 33), (2, 1000)] {
            let x = rng.floats(rows * cols, scale: 4).map { $0 + 2 }
            let scale = rng.floats(cols), bias = rng.floats(cols)
            for withBias in [true, false] {
                var expected = [Float](repeating: 0, count: x.count)
                var means = [Float](), invs = [Float]()
                for r in 0..<rows {
                    let (m, inv) = statistics(x[(r * cols)..<((r + 1) * cols)], epsilon: 1e-3)
                    means.append(Float(m)); invs.append(Float(inv))
                    for c in 0..<cols {
                        let v = (Double(x[r * cols + c]) - m) * inv * Double(scale[c]) + (withBias ? Double(bias[c]) : 0)
                        expected[r * cols + c] = Float(v)
                    }
                }
                var y = [Float](repeating: .nan, count: x.count)
                let cut = rows / 2
                for part in [0..<cut, cut..<rows] {
                    bias.withUnsafeBufferPointer { b in
                        activeKernels.layerNorm(input: x, output: &y, rows: part, cols: cols, scale: scale,
                                                bias: withBias ? b.baseAddress : nil, epsilon: 1e-3)
                    }
                }
                assertClose(y, expected, tol: 1e-5, relative: true, "layerNorm \(rows)x\(cols)")
                var mean = [Float](repeating: .nan, count: rows), inv = [Float](repeating: .nan, count: rows)
                activeKernels.layerNormStatistics(input: x, rows: 0..<rows, cols: cols, epsilon: 1e-3, mean: &mean,
                                                  invStdDev: &inv)
                assertClose(mean, means, tol: 1e-5, relative: true)
                assertClose(inv, invs, tol: 1e-5, relative: true)
            }
        }
    }

    func testInstanceNorm() {
        var rng = RNG(seed: 23)
        for (batch, channels, planeSize) in [(1, 1, 1), (2, 3, 7), (3, 4, 64), (1, 5, 1001)] {
            let x = rng.floats(batch * channels * planeSize, scale: 5)
            let scale = rng.floats(channels), bias = rng.floats(channels)
            var expected = [Float](repeating: 0, count: x.count)
            for p in 0..<(batch * channels) {
                let c = p % channels
                let (m, inv) = statistics(x[(p * planeSize)..<((p + 1) * planeSize)], epsilon: 1e-5)
                for i in 0..<planeSize {
                    expected[p * planeSize + i] = Float((Double(x[p * planeSize + i]) - m) * inv * Double(scale[c]) + Double(bias[c]))
                }
            }
            var y = [Float](repeating: .nan, count: x.count)
            let planes = batch * channels, cut = (planes + 1) / 2
            for part in [0..<cut, cut..<planes] {
                activeKernels.instanceNorm(input: x, output: &y, planes: part, channels: channels, planeSize: planeSize,
                                           scale: scale, bias: bias, epsilon: 1e-5)
            }
            assertClose(y, expected, tol: 1e-5, relative: true, "instanceNorm \(batch)x\(channels)x\(planeSize)")
        }
    }
}

/// Resize kernels through hand-made tables (the op computes them): every output element
/// reads the table's sources, also when the rows are split into ranges.
final class ResizeKernelTests: XCTestCase {
    func testNearest() {
        var rng = RNG(seed: 31)
        for (planes, ih, iw, oh, ow) in [(1, 1, 1, 3, 5), (3, 4, 5, 8, 11), (2, 7, 9, 3, 4), (5, 1, 17, 1, 40)] {
            let p = ResizeParams(planes: planes, inHeight: ih, inWidth: iw, outHeight: oh, outWidth: ow)
            let x = rng.floats(planes * ih * iw)
            let rows = (0..<oh).map { ($0 * 7) % ih }, cols = (0..<ow).map { ($0 * 3 + 1) % iw }
            var expected = [Float]()
            for pl in 0..<planes { for y in 0..<oh { for c in 0..<ow { expected.append(x[(pl * ih + rows[y]) * iw + cols[c]]) } } }
            var out = [Float](repeating: .nan, count: planes * oh * ow)
            let cut = p.outRows / 3
            for part in [0..<cut, cut..<p.outRows] {
                activeKernels.resizeNearest(p, input: x, output: &out, rows: part, rowIndex: rows, colIndex: cols)
            }
            XCTAssertEqual(out, expected, "nearest \(p)")
        }
    }

    func testNearestRepeatedRowsAcrossPlanes() {
        // consecutive output rows reading one source row are copied; a new plane must not be
        let p = ResizeParams(planes: 3, inHeight: 2, inWidth: 3, outHeight: 4, outWidth: 6)
        let x = (0..<18).map(Float.init)
        var out = [Float](repeating: .nan, count: 72)
        activeKernels.resizeNearest(p, input: x, output: &out, rows: 0..<12, rowIndex: [0, 0, 1, 1],
                                    colIndex: [0, 0, 1, 1, 2, 2])
        for pl in 0..<3 { for y in 0..<4 { for c in 0..<6 {
            XCTAssertEqual(out[(pl * 4 + y) * 6 + c], x[(pl * 2 + y / 2) * 3 + c / 2])
        } } }
    }

    func testLinear() {
        var rng = RNG(seed: 32)
        for (planes, ih, iw, oh, ow) in [(1, 1, 1, 2, 3), (3, 4, 5, 8, 11), (2, 7, 9, 3, 4), (5, 1, 17, 1, 40), (1, 6, 6, 13, 19)] {
            let p = ResizeParams(planes: planes, inHeight: ih, inWidth: iw, outHeight: oh, outWidth: ow)
            let x = rng.floats(planes * ih * iw)
            func table(_ n: Int, _ len: Int) -> ([Int], [Float]) {
                var idx = [Int](repeating: 0, count: 2 * n), w = [Float](repeating: 0, count: 2 * n)
                for i in 0..<n {
                    idx[i] = (i * 5) % len; idx[n + i] = min(idx[i] + 1, len - 1)
                    let f = Float(i % 4) / 4
                    w[i] = 1 - f; w[n + i] = i % 5 == 0 ? 0 : f
                }
                return (idx, w)
            }
            let (ri, rw) = table(oh, ih), (ci, cw) = table(ow, iw)
            var expected = [Float]()
            for pl in 0..<planes {
                for y in 0..<oh {
                    for c in 0..<ow {
                        func at(_ r: Int, _ k: Int) -> Double { Double(x[(pl * ih + r) * iw + k]) }
                        let top = Double(cw[c]) * at(ri[y], ci[c]) + Double(cw[ow + c]) * at(ri[y], ci[ow + c])
                        let bottom = Double(cw[c]) * at(ri[oh + y], ci[c]) + Double(cw[ow + c]) * at(ri[oh + y], ci[ow + c])
                        expected.append(Float(Double(rw[y]) * top + Double(rw[oh + y]) * bottom))
                    }
                }
            }
            var out = [Float](repeating: .nan, count: planes * oh * ow)
            let cut = p.outRows / 2
            for part in [0..<cut, cut..<p.outRows] {
                activeKernels.resizeLinear(p, input: x, output: &out, rows: part, rowIndex: ri, rowWeight: rw,
                                           colIndex: ci, colWeight: cw)
            }
            assertClose(out, expected, tol: 1e-6, relative: true, "linear \(p)")
        }
    }
}
