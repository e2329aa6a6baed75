import XCTest
import DRSNKernels

private func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

/// Naive ONNX LSTM (layout 0, gates i, o, f, c; no bias: the projection is given with it).
/// `projected` [seq * batch, directions * 4h], rT [directions, h, 4h].
func refRecurrent(_ p: RecurrentParams, lstm: Bool, linearBeforeReset: Bool, projected: [Float], rT: [Float],
                  rbh: [Float]?, h0: [Float]?, c0: [Float]?) -> (y: [Float], yH: [Float], yC: [Float]) {
    let h = p.hiddenSize, g = p.gates
    var y = [Float](repeating: 0, count: p.seqLength * p.directions * p.batch * h)
    var yH = [Float](repeating: 0, count: p.directions * p.batch * h)
    var yC = yH
    for d in 0..<p.directions {
        let reverse = d == 1
        for b in 0..<p.batch {
            var hs = (0..<h).map { Double(h0?[(d * p.batch + b) * h + $0] ?? 0) }
            var cs = (0..<h).map { Double(c0?[(d * p.batch + b) * h + $0] ?? 0) }
            for s in 0..<p.seqLength {
                let t = reverse ? p.seqLength - 1 - s : s
                let xw = (0..<(g * h)).map { Double(projected[p.projectedOffset(t: t, b: b, direction: d) + $0]) }
                func rec(_ state: [Double], _ j: Int) -> Double {
                    var acc = 0.0
                    for k in 0..<h { acc += state[k] * Double(rT[(d * h + k) * g * h + j]) }
                    return acc
                }
                var next = [Double](repeating: 0, count: h)
                for j in 0..<h {
                    if lstm {
                        let i: Double = sigmoid(xw[j] + rec(hs, j))
                        let o: Double = sigmoid(xw[h + j] + rec(hs, h + j))
                        let f: Double = sigmoid(xw[2 * h + j] + rec(hs, 2 * h + j))
                        let c: Double = tanh(xw[3 * h + j] + rec(hs, 3 * h + j))
                        cs[j] = f * cs[j] + i * c
                        next[j] = o * tanh(cs[j])
                    } else {
                        let z: Double = sigmoid(xw[j] + rec(hs, j))
                        let r: [Double] = (0..<h).map { sigmoid(xw[h + $0] + rec(hs, h + $0)) }
                        let n: Double
                        let xh: Double = xw[2 * h + j]
                        if linearBeforeReset {
                            var linear: Double = rec(hs, 2 * h + j)
                            if let rbh { linear += Double(rbh[d * h + j]) }
                            n = tanh(xh + r[j] * linear)
                        } else {
                            let reset: [Double] = (0..<h).map { r[$0] * hs[$0] }
                            n = tanh(xh + rec(reset, 2 * h + j))
                        }
                        next[j] = (1 - z) * n + z * hs[j]
                    }
                }
                hs = next
                for j in 0..<h { y[p.yOffset(t: t, b: b, direction: d) + j] = Float(hs[j]) }
            }
            for j in 0..<h {
                yH[p.stateOffset(b: b, direction: d) + j] = Float(hs[j])
                yC[p.stateOffset(b: b, direction: d) + j] = Float(cs[j])
            }
        }
    }
    return (y, yH, yC)
}

final class RecurrentTests: XCTestCase {
    func check(lstm: Bool, linearBeforeReset: Bool = false, seq: Int, batch: Int, hidden: Int, directions: Int,
               initial: Bool, rowSplit: Int = 1, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        let p = RecurrentParams(seqLength: seq, batch: batch, hiddenSize: hidden, directions: directions,
                                gates: lstm ? 4 : 3, batchMajor: false)
        var rng = RNG(seed: seed)
        let projected = rng.floats(seq * batch * p.projectedRowLength, scale: 1.5)
        let rT = rng.floats(directions * hidden * p.gates * hidden, scale: 0.6)
        let rbh: [Float]? = !lstm && linearBeforeReset ? rng.floats(directions * hidden) : nil
        let h0: [Float]? = initial ? rng.floats(directions * batch * hidden) : nil
        let c0: [Float]? = initial && lstm ? rng.floats(directions * batch * hidden) : nil
        let want = refRecurrent(p, lstm: lstm, linearBeforeReset: linearBeforeReset, projected: projected, rT: rT,
                                rbh: rbh, h0: h0, c0: c0)
        var y = [Float](repeating: .nan, count: want.y.count)
        var yH = [Float](repeating: .nan, count: want.yH.count)
        var yC = [Float](repeating: .nan, count: want.yC.count)
        var scratch = [Float](repeating: .nan, count: activeKernels.recurrentScratchElements(p) + 1)
        let h0v = h0 ?? [0], c0v = c0 ?? [0], rbhv = rbh ?? [0]
        projected.withUnsafeBufferPointer { xw in rT.withUnsafeBufferPointer { r in
            h0v.withUnsafeBufferPointer { h0p in c0v.withUnsafeBufferPointer { c0p in rbhv.withUnsafeBufferPointer { rb in
                y.withUnsafeMutableBufferPointer { yp in yH.withUnsafeMutableBufferPointer { yhp in
                    yC.withUnsafeMutableBufferPointer { ycp in scratch.withUnsafeMutableBufferPointer { sp in
                        for d in 0..<directions {
                            for part in 0..<rowSplit {
                                let rows = (part * batch / rowSplit)..<((part + 1) * batch / rowSplit)
                                let rTd = r.baseAddress! + d * hidden * p.gates * hidden
                                if lstm {
                                    activeKernels.lstmSequence(p, direction: d, reverse: d == 1, rows: rows,
                                                               projected: xw.baseAddress!, recurrentT: rTd, peephole: nil,
                                                               initialH: h0 == nil ? nil : h0p.baseAddress!,
                                                               initialC: c0 == nil ? nil : c0p.baseAddress!,
                                                               y: yp.baseAddress!, yH: yhp.baseAddress!, yC: ycp.baseAddress!,
                                                               scratch: sp.baseAddress!)
                                } else {
                                    activeKernels.gruSequence(p, direction: d, reverse: d == 1,
                                                              linearBeforeReset: linearBeforeReset, rows: rows,
                                                              projected: xw.baseAddress!, recurrentT: rTd,
                                                              recurrentBiasH: rbh == nil ? nil : rb.baseAddress! + d * hidden,
                                                              initialH: h0 == nil ? nil : h0p.baseAddress!,
                                                              y: yp.baseAddress!, yH: yhp.baseAddress!, scratch: sp.baseAddress!)
                                }
                            }
                        }
                    } }
                } }
            } } }
        } }
        let tag = "\(lstm ? "LSTM" : "GRU lbr \(linearBeforeReset)") \(p)"
        assertClose(y, want.y, tol: 1e-5, "Y " + tag, file: file, line: line)
        assertClose(yH, want.yH, tol: 1e-5, "Y_h " + tag, file: file, line: line)
        if lstm { assertClose(yC, want.yC, tol: 1e-5, "Y_c " + tag, file: file, line: line) }
    }

    func testLSTM() {
        check(lstm: true, seq: 5, batch: 1, hidden: 3, directions: 1, initial: false, seed: 1)
        check(lstm: true, seq: 4, batch: 3, hidden: 8, directions: 2, initial: true, seed: 2)
        check(lstm: true, seq: 7, batch: 5, hidden: 21, directions: 2, initial: true, rowSplit: 3, seed: 3)
        check(lstm: true, seq: 0, batch: 2, hidden: 4, directions: 1, initial: true, seed: 4)
        // 4 * 130 gate columns: more than one packed panel of R^T (packed per step, not reused)
        check(lstm: true, seq: 3, batch: 2, hidden: 130, directions: 1, initial: true, seed: 9)
    }

    func testGRU() {
        for lbr in [false, true] {
            check(lstm: false, linearBeforeReset: lbr, seq: 5, batch: 1, hidden: 3, directions: 1, initial: false, seed: 5)
            check(lstm: false, linearBeforeReset: lbr, seq: 4, batch: 3, hidden: 8, directions: 2, initial: true, seed: 6)
            check(lstm: false, linearBeforeReset: lbr, seq: 6, batch: 4, hidden: 19, directions: 2, initial: false,
                  rowSplit: 2, seed: 7)
            check(lstm: false, linearBeforeReset: lbr, seq: 6, batch: 4, hidden: 19, directions: 1, initial: true,
                  rowSplit: 4, seed: 8)
        }
    }
}
