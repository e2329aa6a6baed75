import XCTest
import Foundation
import DRSNKernels

final class ReduceTests: XCTestCase {
    func refReduce(_ op: ReduceOp, _ x: [Float], _ shape: [Int], _ axes: [Bool]) -> [Float] {
        let outShape = shape.enumerated().map { axes[$0.offset] ? 1 : $0.element }
        let outCount = numel(outShape)
        var acc = [Double](repeating: op == .max ? -.infinity : 0, count: outCount)
        var cnt = 1
        for d in 0..<shape.count where axes[d] { cnt *= shape[d] }
        for i in 0..<x.count {
            var idx = unflatten(i, shape)
            for d in 0..<shape.count where axes[d] { idx[d] = 0 }
            let o = flatten(idx, outShape)
            if op == .max {
                if x[i].isNaN || acc[o].isNaN { acc[o] = .nan } else { acc[o] = Swift.max(acc[o], Double(x[i])) }
            } else {
                acc[o] += Double(x[i])
            }
        }
        return acc.map { op == .mean ? Float($0 / Double(cnt)) : Float($0) }
    }

    func check(_ op: ReduceOp, _ shape: [Int], _ axes: [Bool], seed: UInt64, nan: Bool = false,
               file: StaticString = #filePath, line: UInt = #line) {
        var rng = RNG(seed: seed)
        var x = rng.floats(numel(shape))
        if nan && x.count > 3 { x[x.count / 2] = .nan }
        let expected = refReduce(op, x, shape, axes)
        var y = [Float](repeating: 77, count: expected.count)
        activeKernels.reduce(op, input: x, shape: shape, axes: axes, output: &y)
        assertClose(y, expected, tol: 1e-5, relative: true, "\(op) \(shape) \(axes)", file: file, line: line)
    }

    func testReduce() {
        let cases: [([Int], [Bool])] = [
            ([7, 17], [false, true]),
            ([7, 17], [true, false]),
            ([7, 17], [true, true]),
            ([1, 65, 33], [false, false, true]),
            ([7, 3, 31], [false, true, true]),   // global average pool layout
            ([3, 5, 7, 9], [true, false, true, false]),
            ([3, 5, 7, 9], [false, true, false, true]),
            ([3, 5, 7, 9], [false, false, false, false]),
            ([2, 1, 3], [false, true, false]),
            ([1000], [true]),
            ([], []),
            ([4, 1], [false, true]),
            ([2, 3, 2, 3, 2, 3, 2, 3], [true, false, true, true, false, false, true, false]),
        ]
        var seed: UInt64 = 1
        for op in [ReduceOp.sum, .mean, .max] {
            for (s, a) in cases {
                seed += 1
                check(op, s, a, seed: seed)
                check(op, s, a, seed: seed + 100, nan: true)
            }
        }
    }

    func testEmptyReduction() {
        let x: [Float] = []
        var y = [Float](repeating: 5, count: 3)
        activeKernels.reduce(.sum, input: x, shape: [3, 0], axes: [false, true], output: &y)
        XCTAssertEqual(y, [0, 0, 0])
        activeKernels.reduce(.max, input: x, shape: [3, 0], axes: [false, true], output: &y)
        XCTAssertEqual(y, [-.infinity, -.infinity, -.infinity])
        activeKernels.reduce(.mean, input: x, shape: [3, 0], axes: [false, true], output: &y)
        XCTAssertTrue(y.allSatisfy { $0.isNaN })
        var z: [Float] = [9]
        activeKernels.reduce(.sum, input: x, shape: [0, 3], axes: [false, true], output: &z)  // no outputs
        XCTAssertEqual(z, [9])
    }

    func testGlobalAveragePool() {
        var rng = RNG(seed: 3)
        for (planes, size) in [(1, 1), (7, 17), (3, 1000), (33, 65)] {
            let x = rng.floats(planes * size)
            var y = [Float](repeating: 0, count: planes)
            activeKernels.globalAveragePool(input: x, output: &y, planes: planes, planeSize: size)
            let expected = (0..<planes).map { p in Float((0..<size).reduce(0.0) { $0 + Double(x[p * size + $1]) } / Double(size)) }
            assertClose(y, expected, tol: 1e-5)
        }
    }

    func testSoftmax() {
        var rng = RNG(seed: 4)
        for (outer, axis, inner) in [(1, 1, 1), (7, 17, 1), (3, 33, 5), (2, 1000, 1), (1, 7, 31)] {
            var x = rng.floats(outer * axis * inner, scale: 20)
            x[0] = 1000  // stability
            var y = [Float](repeating: 0, count: x.count)
            activeKernels.softmax(input: x, output: &y, outer: outer, axisSize: axis, inner: inner)
            var expected = [Float](repeating: 0, count: x.count)
            for o in 0..<outer {
                for j in 0..<inner {
                    var m = -Double.infinity
                    for a in 0..<axis { m = max(m, Double(x[(o * axis + a) * inner + j])) }
                    var s = 0.0
                    for a in 0..<axis { s += exp(Double(x[(o * axis + a) * inner + j]) - m) }
                    for a in 0..<axis { expected[(o * axis + a) * inner + j] = Float(exp(Double(x[(o * axis + a) * inner + j]) - m) / s) }
                }
            }
            assertClose(y, expected, tol: 1e-6, relative: true)
        }
    }
}

final class PoolTests: XCTestCase {
    func refPool(_ p: PoolParams, _ x: [Float], max isMax: Bool) -> [Float] {
        var out = [Float]()
        for pl in 0..<p.planes {
            for oh in 0..<p.outHeight {
                for ow in 0..<p.outWidth {
                    var m = -Float.infinity
                    var s = 0.0
                    var valid = 0, withPad = 0
                    for kh in 0..<p.kernelHeight {
                        for kw in 0..<p.kernelWidth {
                            let ih = oh * p.strideHeight - p.padTop + kh * p.dilationHeight
                            let iw = ow * p.strideWidth - p.padLeft + kw * p.dilationWidth
                            let inPadded = ih >= -p.padTop && ih < p.inHeight + p.padBottom
                                && iw >= -p.padLeft && iw < p.inWidth + p.padRight
                            if inPadded { withPad += 1 }
                            if ih < 0 || ih >= p.inHeight || iw < 0 || iw >= p.inWidth { continue }
                            let v = x[(pl * p.inHeight + ih) * p.inWidth + iw]
                            valid += 1
                            s += Double(v)
                            if v.isNaN || m.isNaN { m = .nan } else { m = Swift.max(m, v) }
                        }
                    }
                    if isMax { out.append(m) } else {
                        let c = p.countIncludePad ? withPad : valid
                        out.append(c > 0 ? Float(s / Double(c)) : 0)
                    }
                }
            }
        }
        return out
    }

    func make(planes: Int, h: Int, w: Int, kh: Int, kw: Int, sh: Int = 1, sw: Int = 1, dh: Int = 1, dw: Int = 1,
              pt: Int = 0, pl: Int = 0, pb: Int = 0, pr: Int = 0, ceil: Bool = false, include: Bool = false) -> PoolParams {
        func o(_ i: Int, _ k: Int, _ s: Int, _ d: Int, _ p0: Int, _ p1: Int) -> Int {
            let span = i + p0 + p1 - ((k - 1) * d + 1)
            var r = (ceil ? (span + s - 1) / s : span / s) + 1
            // ONNX/PyTorch rule: the last window must start inside input or left padding.
            if ceil && (r - 1) * s >= i + p0 { r -= 1 }
            return r
        }
        return PoolParams(planes: planes, inHeight: h, inWidth: w, outHeight: o(h, kh, sh, dh, pt, pb), outWidth: o(w, kw, sw, dw, pl, pr),
                          kernelHeight: kh, kernelWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw,
                          padTop: pt, padLeft: pl, padBottom: pb, padRight: pr, countIncludePad: include)
    }

    func testPools() {
        let cases: [PoolParams] = [
            make(planes: 1, h: 7, w: 7, kh: 3, kw: 3),
            make(planes: 7, h: 17, w: 17, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1),
            make(planes: 3, h: 17, w: 31, kh: 2, kw: 3, sh: 2, sw: 3, pt: 1, pl: 0, pb: 0, pr: 2),
            make(planes: 3, h: 17, w: 31, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1, ceil: true),
            make(planes: 2, h: 8, w: 8, kh: 3, kw: 3, sh: 2, sw: 2, ceil: true),  // overhang, no pads
            make(planes: 2, h: 9, w: 10, kh: 3, kw: 2, sh: 1, sw: 2, dh: 2, dw: 3, pt: 2, pl: 1, pb: 2, pr: 1),
            make(planes: 5, h: 1, w: 65, kh: 1, kw: 3, sh: 1, sw: 2, pl: 1, pr: 1),
            make(planes: 1, h: 1, w: 33, kh: 1, kw: 4, sh: 1, sw: 3, pl: 0, pr: 2, ceil: true),
            // 1x1 windows (strided residual shortcuts): the subsampling path, incl. vector/tail splits.
            make(planes: 4, h: 1, w: 1024, kh: 1, kw: 1, sh: 1, sw: 2),
            make(planes: 3, h: 1, w: 37, kh: 1, kw: 1, sh: 1, sw: 2),
            make(planes: 3, h: 1, w: 16, kh: 1, kw: 1, sh: 1, sw: 2),
            make(planes: 2, h: 1, w: 17, kh: 1, kw: 1, sh: 1, sw: 2),
            make(planes: 2, h: 32, w: 32, kh: 1, kw: 1, sh: 2, sw: 2),
            make(planes: 2, h: 9, w: 11, kh: 1, kw: 1, sh: 3, sw: 2),
            make(planes: 2, h: 9, w: 11, kh: 1, kw: 1, sh: 2, sw: 3),
            make(planes: 2, h: 5, w: 7, kh: 1, kw: 1, sh: 1, sw: 1),
            make(planes: 2, h: 8, w: 8, kh: 1, kw: 1, sh: 3, sw: 3, ceil: true),  // last window outside: not subsampled
            make(planes: 2, h: 6, w: 6, kh: 1, kw: 1, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1),  // padded: not subsampled
        ]
        var seed: UInt64 = 1
        for base in cases {
            for include in [false, true] {
                var p = base
                p.countIncludePad = include
                seed += 1
                var rng = RNG(seed: seed)
                let x = rng.floats(p.planes * p.inHeight * p.inWidth)
                var y = [Float](repeating: .nan, count: p.planes * p.outHeight * p.outWidth)
                activeKernels.averagePool2D(p, input: x, output: &y)
                assertClose(y, refPool(p, x, max: false), tol: 1e-5, "avg \(p)")
                activeKernels.maxPool2D(p, input: x, output: &y)
                assertClose(y, refPool(p, x, max: true), tol: 0, "max \(p)")
            }
        }
    }

    func testMaxPoolNegativeWithPadding() {
        // Padding must never win over negative values.
        let p = make(planes: 1, h: 3, w: 3, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1)
        let x = [Float](repeating: -5, count: 9)
        var y = [Float](repeating: 0, count: 9)
        activeKernels.maxPool2D(p, input: x, output: &y)
        XCTAssertEqual(y, [Float](repeating: -5, count: 9))
    }
}

final class ShapeOpTests: XCTestCase {
    func testTranspose() {
        let cases: [([Int], [Int])] = [
            ([], []), ([5], [0]), ([7, 17], [1, 0]), ([33, 65], [1, 0]), ([1, 17], [1, 0]),
            ([2, 3, 4], [2, 0, 1]), ([2, 3, 4], [0, 2, 1]), ([7, 9, 17], [2, 1, 0]), ([2, 3, 4, 5], [0, 1, 2, 3]),
            ([2, 3, 4, 5], [3, 2, 1, 0]), ([3, 1, 4, 9], [1, 3, 0, 2]), ([2, 3, 2, 3, 2, 3, 2, 2], [7, 5, 3, 1, 0, 2, 4, 6]),
            ([4, 16, 24], [0, 2, 1]), ([5, 0, 3], [2, 1, 0]),
        ]
        var rng = RNG(seed: 1)
        for (shape, perm) in cases {
            let x = rng.floats(numel(shape))
            let outShape = perm.map { shape[$0] }
            var y = [Float](repeating: .nan, count: x.count)
            activeKernels.transpose(input: x, shape: shape, permutation: perm, output: &y)
            var expected = [Float](repeating: 0, count: x.count)
            for i in 0..<x.count {
                let oi = unflatten(i, outShape)
                var ii = [Int](repeating: 0, count: shape.count)
                for d in 0..<perm.count { ii[perm[d]] = oi[d] }
                expected[i] = x[flatten(ii, shape)]
            }
            assertClose(y, expected, tol: 0, "\(shape) \(perm)")
        }
    }

    func testConcat() {
        var rng = RNG(seed: 2)
        for (outer, sizes, inner) in [(1, [3], 1), (7, [1, 17, 3], 5), (2, [0, 4], 3), (3, [2, 2, 2, 2], 1)] {
            let ins = sizes.map { rng.floats(outer * $0 * inner) }
            let total = sizes.reduce(0, +)
            var y = [Float](repeating: .nan, count: outer * total * inner)
            var expected = [Float]()
            for o in 0..<outer { for (i, s) in sizes.enumerated() { expected += ins[i][(o * s * inner)..<((o + 1) * s * inner)] } }
            let ptrs = ins.map { arr -> UnsafeMutablePointer<Float> in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: max(arr.count, 1))
                p.initialize(from: arr, count: arr.count)
                return p
            }
            activeKernels.concat(inputs: ptrs.map { UnsafePointer($0) }, axisSizes: sizes, outer: outer, inner: inner, output: &y)
            ptrs.forEach { $0.deallocate() }
            assertClose(y, expected, tol: 0)
        }
    }

    func testSlice() {
        // (shape, starts, steps, outShape)
        let cases: [([Int], [Int], [Int], [Int])] = [
            ([17], [2], [1], [10]),
            ([17], [16], [-1], [17]),
            ([17], [15], [-3], [6]),
            ([7, 9], [1, 8], [2, -2], [3, 5]),
            ([3, 5, 7], [0, 1, 2], [1, 1, 1], [3, 3, 4]),
            ([3, 5, 7], [2, 4, 6], [-1, -2, -3], [3, 3, 3]),
            ([2, 3, 4, 5], [0, 0, 0, 0], [1, 1, 1, 1], [2, 3, 4, 5]),
            ([4, 4], [0, 0], [1, 1], [0, 4]),
        ]
        var rng = RNG(seed: 3)
        for (shape, starts, steps, outShape) in cases {
            let x = rng.floats(numel(shape))
            var y = [Float](repeating: .nan, count: numel(outShape))
            activeKernels.slice(input: x, shape: shape, starts: starts, steps: steps, outShape: outShape, output: &y)
            var expected = [Float](repeating: 0, count: y.count)
            for i in 0..<y.count {
                let oi = unflatten(i, outShape)
                let ii = (0..<shape.count).map { starts[$0] + oi[$0] * steps[$0] }
                expected[i] = x[flatten(ii, shape)]
            }
            assertClose(y, expected, tol: 0, "\(shape) \(starts) \(steps)")
        }
    }

    func testPad() {
        // (shape, padsBegin, padsEnd)
        let cases: [([Int], [Int], [Int])] = [
            ([5], [2], [3]), ([5], [-1], [2]), ([3, 4], [1, 0], [0, 2]), ([3, 4], [-1, 2], [1, -2]),
            ([2, 3, 4], [0, 1, 1], [0, 1, 1]), ([2, 3, 4], [0, 0, 0], [0, 0, 0]), ([3, 3], [-3, 0], [1, 0]),
            ([1, 2, 7, 7], [0, 0, 1, 2], [0, 0, 2, 1]),
        ]
        var rng = RNG(seed: 4)
        for (shape, pb, pe) in cases {
            let outShape = (0..<shape.count).map { shape[$0] + pb[$0] + pe[$0] }
            let x = rng.floats(numel(shape))
            var y = [Float](repeating: .nan, count: numel(outShape))
            activeKernels.padConstant(input: x, shape: shape, padsBegin: pb, outShape: outShape, value: 2.5, output: &y)
            var expected = [Float](repeating: 2.5, count: y.count)
            for i in 0..<y.count {
                let oi = unflatten(i, outShape)
                let ii = (0..<shape.count).map { oi[$0] - pb[$0] }
                if (0..<shape.count).allSatisfy({ ii[$0] >= 0 && ii[$0] < shape[$0] }) { expected[i] = x[flatten(ii, shape)] }
            }
            assertClose(y, expected, tol: 0, "\(shape) \(pb) \(pe)")
        }
    }

    func testGather() {
        var rng = RNG(seed: 5)
        for (shape, axis, idx) in [([7], 0, [3, 0, 6, 6]), ([3, 5, 4], 1, [4, 0, 2]), ([3, 5, 4], 2, [1]), ([3, 5], 0, [2, 2, 0, 1, 0]), ([2, 3], 1, [])] {
            let x = rng.floats(numel(shape))
            var outShape = shape
            outShape[axis] = idx.count
            var y = [Float](repeating: .nan, count: numel(outShape))
            activeKernels.gather(input: x, shape: shape, axis: axis, indices: idx, output: &y)
            var expected = [Float](repeating: 0, count: y.count)
            for i in 0..<y.count {
                var oi = unflatten(i, outShape)
                oi[axis] = idx[oi[axis]]
                expected[i] = x[flatten(oi, shape)]
            }
            assertClose(y, expected, tol: 0, "\(shape) \(axis) \(idx)")
        }
    }

    func testChannelScaleShiftAndSoftThreshold() {
        var rng = RNG(seed: 6)
        for (b, c, inner) in [(1, 1, 1), (7, 3, 17), (2, 33, 65), (1, 4, 8)] {
            let x = rng.floats(b * c * inner, scale: 2)
            let sc = rng.floats(c), sh = rng.floats(c)
            var y = [Float](repeating: .nan, count: x.count)
            activeKernels.channelScaleShift(input: x, output: &y, batch: b, channels: c, inner: inner, scale: sc, shift: sh)
            let e1 = (0..<x.count).map { i in x[i] * sc[(i / inner) % c] + sh[(i / inner) % c] }
            assertClose(y, e1, tol: 1e-5)

            var x2 = x
            x2[0] = .nan
            if x2.count > 2 { x2[1] = .infinity; x2[2] = -.infinity }
            let t = rng.floats(b * c).map { Swift.abs($0) }
            activeKernels.softThreshold(input: x2, threshold: t, output: &y, planes: b * c, planeSize: inner)
            let e2 = (0..<x2.count).map { i -> Float in
                let v = x2[i], th = t[i / inner]
                if v.isNaN { return .nan }
                let m = Swift.max(Swift.abs(v) - th, 0)
                return v < 0 ? -m : m
            }
            assertClose(y, e2, tol: 1e-6)
        }
    }
}
