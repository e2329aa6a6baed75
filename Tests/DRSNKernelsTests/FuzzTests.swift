import XCTest
import DRSNKernels

/// Randomised shapes (ranks 0-6, sizes 1-5) for the stride-collapsing kernels.
final class FuzzTests: XCTestCase {
    func randomShape(_ rng: inout RNG, maxRank: Int = 6) -> [Int] {
        let r = rng.int(0..<(maxRank + 1))
        return (0..<r).map { _ in rng.int(1..<6) }
    }

    func testBinaryFuzz() {
        var rng = RNG(seed: 77)
        let ops: [BinaryOp] = [.add, .sub, .mul, .div, .max, .min, .greater, .less, .greaterOrEqual, .lessOrEqual, .equal]
        for iter in 0..<400 {
            let out = randomShape(&rng)
            // Derive broadcastable input shapes: drop leading dims, set some dims to 1.
            func derive(_ rng: inout RNG) -> [Int] {
                let drop = rng.int(0..<(out.count + 1))
                return out.dropFirst(drop).map { rng.int(0..<3) == 0 ? 1 : $0 }
            }
            let sa = derive(&rng), sb = derive(&rng)
            let outShape = broadcastShape(sa, sb)
            let a = rng.floats(numel(sa)), b = rng.floats(numel(sb))
            let op = ops[iter % ops.count]
            let total = numel(outShape)
            var expected = [Float](repeating: 0, count: total)
            for i in 0..<total {
                let idx = unflatten(i, outShape)
                expected[i] = refBinary(op, a[sourceIndex(idx, sa)], b[sourceIndex(idx, sb)])
            }
            var y = [Float](repeating: .nan, count: total)
            activeKernels.binary(op, a: a, aStrides: broadcastStrides(sa, to: outShape)!, b: b,
                                 bStrides: broadcastStrides(sb, to: outShape)!, output: &y, outShape: outShape)
            assertClose(y, expected, tol: 1e-6, relative: true, "\(op) \(sa) \(sb)")
        }
    }

    func testReduceFuzz() {
        var rng = RNG(seed: 78)
        for iter in 0..<300 {
            let shape = randomShape(&rng)
            let axes = shape.map { _ in rng.int(0..<2) == 0 }
            let x = rng.floats(numel(shape))
            let op: ReduceOp = [.sum, .mean, .max][iter % 3]
            let outShape = shape.enumerated().map { axes[$0.offset] ? 1 : $0.element }
            var acc = [Double](repeating: op == .max ? -.infinity : 0, count: numel(outShape))
            for i in 0..<x.count {
                var idx = unflatten(i, shape)
                for d in 0..<shape.count where axes[d] { idx[d] = 0 }
                let o = flatten(idx, outShape)
                acc[o] = op == .max ? max(acc[o], Double(x[i])) : acc[o] + Double(x[i])
            }
            let cnt = Double(x.count / max(numel(outShape), 1))
            let expected = acc.map { op == .mean ? Float($0 / cnt) : Float($0) }
            var y = [Float](repeating: .nan, count: expected.count)
            activeKernels.reduce(op, input: x, shape: shape, axes: axes, output: &y)
            assertClose(y, expected, tol: 1e-5, relative: true, "\(op) \(shape) \(axes)")
        }
    }

    func testTransposeSlicePadFuzz() {
        var rng = RNG(seed: 79)
        for _ in 0..<300 {
            let shape = randomShape(&rng).map { $0 + rng.int(0..<8) }
            let x = rng.floats(numel(shape))
            // Transpose with a random permutation.
            var perm = Array(0..<shape.count)
            for i in stride(from: perm.count - 1, to: 0, by: -1) { perm.swapAt(i, rng.int(0..<(i + 1))) }
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
            assertClose(y, expected, tol: 0, "transpose \(shape) \(perm)")

            // Slice with random steps (possibly negative).
            var starts = [Int](), steps = [Int](), sOut = [Int]()
            for d in 0..<shape.count {
                let step = [1, 1, 2, -1, -2, 3][rng.int(0..<6)]
                let start = rng.int(0..<shape[d])
                let avail = step > 0 ? (shape[d] - start + step - 1) / step : (start + (-step)) / (-step)
                starts.append(start); steps.append(step); sOut.append(rng.int(1..<(avail + 1)))
            }
            var ys = [Float](repeating: .nan, count: numel(sOut))
            activeKernels.slice(input: x, shape: shape, starts: starts, steps: steps, outShape: sOut, output: &ys)
            var es = [Float](repeating: 0, count: ys.count)
            for i in 0..<ys.count {
                let oi = unflatten(i, sOut)
                es[i] = x[flatten((0..<shape.count).map { starts[$0] + oi[$0] * steps[$0] }, shape)]
            }
            assertClose(ys, es, tol: 0, "slice \(shape) \(starts) \(steps) \(sOut)")

            // Pad / crop.
            let pb = shape.map { rng.int(-($0 - 1)..<3) }
            let pe = shape.enumerated().map { rng.int(-($0.element - 1 + min(pb[$0.offset], 0))..<3) }
            let pOut = (0..<shape.count).map { shape[$0] + pb[$0] + pe[$0] }
            if pOut.contains(where: { $0 <= 0 }) { continue }
            var yp = [Float](repeating: .nan, count: numel(pOut))
            activeKernels.padConstant(input: x, shape: shape, padsBegin: pb, outShape: pOut, value: -3, output: &yp)
            var ep = [Float](repeating: -3, count: yp.count)
            for i in 0..<yp.count {
                let oi = unflatten(i, pOut)
                let ii = (0..<shape.count).map { oi[$0] - pb[$0] }
                if (0..<shape.count).allSatisfy({ ii[$0] >= 0 && ii[$0] < shape[$0] }) { ep[i] = x[flatten(ii, shape)] }
            }
            assertClose(yp, ep, tol: 0, "pad \(shape) \(pb) \(pe)")
        }
    }
}
