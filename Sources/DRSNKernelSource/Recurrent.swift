// LSTM and GRU recurrences (ONNX semantics with the default activations: sigmoid for the
// gates, tanh for the candidate and the output). The input projection X * W^T (+ the biases
// that only add) of every time step is computed beforehand by one GEMM (`projected`, see
// `RecurrentParams`); what remains per time step is one small GEMM of the previous hidden
// states with R^T (the packed sgemm; its matrix-vector path for a single batch row) and one
// fused pass over the gates per batch row, in SIMD8 lanes over the hidden units. R^T is packed
// for the GEMM once per sequence, not per step (`recurrentProduct`).
//
// One call runs one direction for a contiguous range of batch rows over the whole sequence
// (rows are independent, so threads split the (direction, batch row) pairs). The hidden
// state of step t is read back from Y (written at step t), the cell state lives in Y_c
// (updated in place), and Y_h receives the last hidden state.

import DRSNKernelTypes

/// sigmoid lane-wise (stable: the shared `SigmoidK`).
@_transparent
func gateSigmoid(_ x: V8) -> V8 { SigmoidK()(x) }

/// tanh lane-wise: sign(x) * (1 - e) / (1 + e) with e = exp(-2|x|) (absolute error ~1e-7, no
/// overflow; NaN propagates).
@_transparent
func gateTanh(_ x: V8) -> V8 {
    let e = expNonPositive(absV(x) * V8(repeating: -2))
    let t = (V8(repeating: 1) - e) / (V8(repeating: 1) + e)
    let sign = unsafeBitCast(x, to: SIMD8<UInt32>.self) & SIMD8<UInt32>(repeating: 0x8000_0000)
    return unsafeBitCast(unsafeBitCast(t, to: SIMD8<UInt32>.self) | sign, to: V8.self)
}

/// `count` (1...8) floats: a full vector load when count == 8.
@_transparent
func loadLanes(_ p: UnsafePointer<Float>, _ count: Int) -> V8 {
    count == 8 ? load8(p) : loadPartial8(p, count)
}

@_transparent
func storeLanes(_ v: V8, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    if count == 8 { store8(v, p) } else { storePartial8(v, p, count) }
}

extension ISAKernels {
    /// Floats of scratch one `lstmSequence` / `gruSequence` call needs (per thread when the
    /// rows are split): the recurrent products of every batch row, GRU's r * h_{t-1}, and the
    /// packing buffers of two GEMMs (GRU with linear_before_reset = 0 alternates two products,
    /// each keeping its packed R^T panel).
    public static func recurrentScratchElements(_ p: RecurrentParams) -> Int {
        let n = p.gates &* p.hiddenSize
        return p.batch &* n &+ p.batch &* p.hiddenSize &+ 2 &* sgemmScratchElements(m: p.batch, n: n, k: p.hiddenSize)
    }
}

/// c = a * b for the recurrent product H_{t-1} R^T (m rows of a, lda apart; b is R^T or a
/// column block of it, k x n, ldb apart; c m x n, ldc apart) on the packed sgemm. When R^T is
/// a single packed panel (n <= gemmNC, k <= gemmKC) it is packed on the first time step only
/// (`packed` false) and reused from `scratch` afterwards: the caller passes the same scratch,
/// m, n, k and b for every step of a sequence and uses that scratch for nothing else. One row
/// (m == 1) takes sgemm's matrix-vector path, which packs nothing.
@inline(__always)
func recurrentProduct(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      c: UnsafeMutablePointer<Float>, ldc: Int, scratch: UnsafeMutablePointer<Float>,
                      packed: inout Bool) {
    if m == 1 || n > gemmNC || k > gemmKC || n <= 0 || k <= 0 {
        ISAKernels.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb,
                         beta: 0, c: c, ldc: ldc, scratch: scratch)
        return
    }
    let reuse = packed
    gemmPackedB(transA: false, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, beta: 0, c: c, ldc: ldc,
                scratch: scratch) { pc, kc, jc, nc, dst in
        if !reuse { packBNormal(gemmNR, b + (pc &* ldb &+ jc), ldb, kc: kc, nc: nc, into: dst) }
    }
    packed = true
}

// MARK: - LSTM

/// One LSTM row, lanes j ..< j + count of the hidden units: gates in ONNX order i, o, f, c at
/// offsets 0, h, 2h, 3h of `xw` (input projection + biases) and `rec` (H_{t-1} R^T; nil: 0);
/// peepholes P = (p_i, p_o, p_f) at 0, h, 2h; updates the cell state `c` in place and writes
/// the hidden state to `hOut`.
@_transparent
func lstmLanes(_ xw: UnsafePointer<Float>, _ rec: UnsafePointer<Float>?, _ peep: UnsafePointer<Float>?,
               _ c: UnsafeMutablePointer<Float>, _ hOut: UnsafeMutablePointer<Float>, _ h: Int, _ j: Int,
               _ count: Int) {
    var gi = loadLanes(xw + j, count)
    var go = loadLanes(xw + (h &+ j), count)
    var gf = loadLanes(xw + (2 &* h &+ j), count)
    var gc = loadLanes(xw + (3 &* h &+ j), count)
    if let rec {
        gi += loadLanes(rec + j, count)
        go += loadLanes(rec + (h &+ j), count)
        gf += loadLanes(rec + (2 &* h &+ j), count)
        gc += loadLanes(rec + (3 &* h &+ j), count)
    }
    let cPrev = loadLanes(UnsafePointer(c + j), count)
    if let peep {
        gi = madd(gi, loadLanes(peep + j, count), cPrev)
        gf = madd(gf, loadLanes(peep + (2 &* h &+ j), count), cPrev)
    }
    let cNew = madd(gateSigmoid(gf) * cPrev, gateSigmoid(gi), gateTanh(gc))
    if let peep { go = madd(go, loadLanes(peep + (h &+ j), count), cNew) }
    storeLanes(cNew, c + j, count)
    storeLanes(gateSigmoid(go) * gateTanh(cNew), hOut + j, count)
}

extension ISAKernels {
    /// The LSTM recurrence of direction `direction` for batch rows `rows` over all time steps
    /// (backwards in time when `reverse`). `projected`: see `RecurrentParams` (biases included);
    /// `recurrentT`: this direction's R transposed, [hidden, 4 * hidden]; `peephole`: nil or
    /// this direction's P (3 * hidden: i, o, f); `initialH` / `initialC`: nil (zeros) or the
    /// full initial_h / initial_c tensors. Writes the rows' parts of Y (every time step), Y_h
    /// and Y_c (the full output tensors). `scratch`: `recurrentScratchElements(p)` floats.
    public static func lstmSequence(_ p: RecurrentParams, direction: Int, reverse: Bool, rows: Range<Int>,
                                    projected: UnsafePointer<Float>, recurrentT: UnsafePointer<Float>,
                                    peephole: UnsafePointer<Float>?, initialH: UnsafePointer<Float>?,
                                    initialC: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                                    yH: UnsafeMutablePointer<Float>, yC: UnsafeMutablePointer<Float>,
                                    scratch: UnsafeMutablePointer<Float>) {
        kernelPrecondition(p.gates == 4 && p.hiddenSize >= 0 && p.seqLength >= 0 && p.batch >= 0
                           && (p.directions == 1 || p.directions == 2), "lstmSequence: parameters \(p)")
        kernelPrecondition(direction >= 0 && direction < p.directions && rows.lowerBound >= 0
                           && rows.upperBound <= p.batch, "lstmSequence: direction \(direction), rows \(rows) for \(p)")
        let h = p.hiddenSize, n4 = 4 &* h, nb = rows.count, b0 = rows.lowerBound
        if nb <= 0 || h == 0 { return }
        let rec = scratch
        let gemmScratch = scratch + (p.batch &* n4 &+ p.batch &* h)
        let stateStride = p.stateBatchStride
        let c = yC + p.stateOffset(b: b0, direction: direction)
        for r in 0..<nb {
            if let initialC {
                copyFloats(initialC + (p.stateOffset(b: b0, direction: direction) &+ r &* stateStride),
                           c + r &* stateStride, h)
            } else {
                fill(c + r &* stateStride, h, 0)
            }
        }
        var hPrev: UnsafePointer<Float>? = nil
        if let initialH { hPrev = initialH + p.stateOffset(b: b0, direction: direction) }
        var hStride = stateStride
        let xwStride = p.projectedBatchStride, yStride = p.yBatchStride
        var packed = false
        for s in 0..<p.seqLength {
            let t = reverse ? p.seqLength &- 1 &- s : s
            var recRows: UnsafePointer<Float>? = nil
            if let hp = hPrev {
                recurrentProduct(m: nb, n: n4, k: h, a: hp, lda: hStride, b: recurrentT, ldb: n4, c: rec, ldc: n4,
                                 scratch: gemmScratch, packed: &packed)
                recRows = UnsafePointer(rec)
            }
            let xw = projected + p.projectedOffset(t: t, b: b0, direction: direction)
            let yt = y + p.yOffset(t: t, b: b0, direction: direction)
            for r in 0..<nb {
                let xr = xw + r &* xwStride
                var rr: UnsafePointer<Float>? = nil
                if let recRows { rr = recRows + r &* n4 }
                let cr = c + r &* stateStride, hr = yt + r &* yStride
                var j = 0
                while j &+ 8 <= h { lstmLanes(xr, rr, peephole, cr, hr, h, j, 8); j &+= 8 }
                if j < h { lstmLanes(xr, rr, peephole, cr, hr, h, j, h &- j) }
            }
            hPrev = UnsafePointer(yt)
            hStride = yStride
        }
        copyFinalState(p, direction: direction, rows: rows, from: hPrev, stride: hStride, to: yH)
    }
}

/// Y_h rows of `rows` for `direction`: the last hidden state (`last`, rows `stride` apart), or
/// zeros when there is none (no time step and no initial state).
@inline(__always)
func copyFinalState(_ p: RecurrentParams, direction: Int, rows: Range<Int>, from last: UnsafePointer<Float>?,
                    stride: Int, to yH: UnsafeMutablePointer<Float>) {
    let h = p.hiddenSize
    let dst = yH + p.stateOffset(b: rows.lowerBound, direction: direction)
    for r in 0..<rows.count {
        if let last {
            copyFloats(last + r &* stride, dst + r &* p.stateBatchStride, h)
        } else {
            fill(dst + r &* p.stateBatchStride, h, 0)
        }
    }
}

// MARK: - GRU

/// One GRU row with linear_before_reset = 1, lanes j ..< j + count: gates z, r, h at offsets
/// 0, h, 2h of `xw` (projection + Wb, + Rb for z and r) and `rec` (H_{t-1} R^T; nil: 0);
/// `rbh`: nil or Rb of the h gate (added to the recurrent product before the reset gate
/// scales it); `hPrev`: nil (0) or H_{t-1}.
@_transparent
func gruLinearLanes(_ xw: UnsafePointer<Float>, _ rec: UnsafePointer<Float>?, _ rbh: UnsafePointer<Float>?,
                    _ hPrev: UnsafePointer<Float>?, _ hOut: UnsafeMutablePointer<Float>, _ h: Int, _ j: Int,
                    _ count: Int) {
    var gz = loadLanes(xw + j, count)
    var gr = loadLanes(xw + (h &+ j), count)
    var lin = V8()
    if let rec {
        gz += loadLanes(rec + j, count)
        gr += loadLanes(rec + (h &+ j), count)
        lin = loadLanes(rec + (2 &* h &+ j), count)
    }
    if let rbh { lin += loadLanes(rbh + j, count) }
    let z = gateSigmoid(gz)
    let cand = gateTanh(madd(loadLanes(xw + (2 &* h &+ j), count), gateSigmoid(gr), lin))
    var hp = V8()
    if let hPrev { hp = loadLanes(hPrev + j, count) }
    storeLanes(madd(cand, z, hp - cand), hOut + j, count)
}

/// linear_before_reset = 0, first half: z into `rec` (over its pre-activation) and
/// r * H_{t-1} into `rh`.
@_transparent
func gruResetLanes(_ xw: UnsafePointer<Float>, _ rec: UnsafeMutablePointer<Float>, _ hPrev: UnsafePointer<Float>,
                   _ rh: UnsafeMutablePointer<Float>, _ h: Int, _ j: Int, _ count: Int) {
    let z = gateSigmoid(loadLanes(xw + j, count) + loadLanes(UnsafePointer(rec + j), count))
    let r = gateSigmoid(loadLanes(xw + (h &+ j), count) + loadLanes(UnsafePointer(rec + (h &+ j)), count))
    storeLanes(z, rec + j, count)
    storeLanes(r * loadLanes(hPrev + j, count), rh + j, count)
}

/// linear_before_reset = 0, second half: candidate tanh(xw_h + (r * H_{t-1}) R_h^T) and the
/// new state. `rec`: z at 0 and the product at 2h, or nil when H_{t-1} is 0 (then z is
/// computed here from `xw` alone).
@_transparent
func gruCandidateLanes(_ xw: UnsafePointer<Float>, _ rec: UnsafePointer<Float>?, _ hPrev: UnsafePointer<Float>?,
                       _ hOut: UnsafeMutablePointer<Float>, _ h: Int, _ j: Int, _ count: Int) {
    var pre = loadLanes(xw + (2 &* h &+ j), count)
    let z: V8
    var hp = V8()
    if let rec, let hPrev {
        pre += loadLanes(rec + (2 &* h &+ j), count)
        z = loadLanes(rec + j, count)
        hp = loadLanes(hPrev + j, count)
    } else {
        z = gateSigmoid(loadLanes(xw + j, count))
    }
    let cand = gateTanh(pre)
    storeLanes(madd(cand, z, hp - cand), hOut + j, count)
}

extension ISAKernels {
    /// The GRU recurrence of direction `direction` for batch rows `rows` (backwards in time
    /// when `reverse`). `projected`: see `RecurrentParams` (with Wb + Rb for z and r, Wb for h,
    /// and Rb for h too when `linearBeforeReset` is false); `recurrentT`: this direction's R
    /// transposed, [hidden, 3 * hidden]; `recurrentBiasH`: nil or this direction's Rb of the h
    /// gate (read only when `linearBeforeReset`); `initialH`: nil (zeros) or the full initial_h.
    /// Writes the rows' parts of Y (every time step) and Y_h. `scratch`:
    /// `recurrentScratchElements(p)` floats.
    public static func gruSequence(_ p: RecurrentParams, direction: Int, reverse: Bool, linearBeforeReset: Bool,
                                   rows: Range<Int>, projected: UnsafePointer<Float>, recurrentT: UnsafePointer<Float>,
                                   recurrentBiasH: UnsafePointer<Float>?, initialH: UnsafePointer<Float>?,
                                   y: UnsafeMutablePointer<Float>, yH: UnsafeMutablePointer<Float>,
                                   scratch: UnsafeMutablePointer<Float>) {
        kernelPrecondition(p.gates == 3 && p.hiddenSize >= 0 && p.seqLength >= 0 && p.batch >= 0
                           && (p.directions == 1 || p.directions == 2), "gruSequence: parameters \(p)")
        kernelPrecondition(direction >= 0 && direction < p.directions && rows.lowerBound >= 0
                           && rows.upperBound <= p.batch, "gruSequence: direction \(direction), rows \(rows) for \(p)")
        let h = p.hiddenSize, n3 = 3 &* h, nb = rows.count, b0 = rows.lowerBound
        if nb <= 0 || h == 0 { return }
        let rec = scratch
        let rh = scratch + p.batch &* n3
        let gemmScratch = rh + p.batch &* h
        let gemmScratch2 = gemmScratch + sgemmScratchElements(m: p.batch, n: n3, k: h)
        var packed = false, packed2 = false
        var hPrev: UnsafePointer<Float>? = nil
        if let initialH { hPrev = initialH + p.stateOffset(b: b0, direction: direction) }
        var hStride = p.stateBatchStride
        let xwStride = p.projectedBatchStride, yStride = p.yBatchStride
        for s in 0..<p.seqLength {
            let t = reverse ? p.seqLength &- 1 &- s : s
            let xw = projected + p.projectedOffset(t: t, b: b0, direction: direction)
            let yt = y + p.yOffset(t: t, b: b0, direction: direction)
            if linearBeforeReset {
                var recRows: UnsafePointer<Float>? = nil
                if let hp = hPrev {
                    recurrentProduct(m: nb, n: n3, k: h, a: hp, lda: hStride, b: recurrentT, ldb: n3, c: rec, ldc: n3,
                                     scratch: gemmScratch, packed: &packed)
                    recRows = UnsafePointer(rec)
                }
                for r in 0..<nb {
                    let xr = xw + r &* xwStride
                    var rr: UnsafePointer<Float>? = nil
                    if let recRows { rr = recRows + r &* n3 }
                    var hr: UnsafePointer<Float>? = nil
                    if let hp = hPrev { hr = hp + r &* hStride }
                    let out = yt + r &* yStride
                    var j = 0
                    while j &+ 8 <= h { gruLinearLanes(xr, rr, recurrentBiasH, hr, out, h, j, 8); j &+= 8 }
                    if j < h { gruLinearLanes(xr, rr, recurrentBiasH, hr, out, h, j, h &- j) }
                }
            } else if let hp = hPrev {
                recurrentProduct(m: nb, n: 2 &* h, k: h, a: hp, lda: hStride, b: recurrentT, ldb: n3, c: rec, ldc: n3,
                                 scratch: gemmScratch, packed: &packed)
                for r in 0..<nb {
                    let xr = xw + r &* xwStride, rr = rec + r &* n3, hr = hp + r &* hStride, rhr = rh + r &* h
                    var j = 0
                    while j &+ 8 <= h { gruResetLanes(xr, rr, hr, rhr, h, j, 8); j &+= 8 }
                    if j < h { gruResetLanes(xr, rr, hr, rhr, h, j, h &- j) }
                }
                recurrentProduct(m: nb, n: h, k: h, a: rh, lda: h, b: recurrentT + 2 &* h, ldb: n3, c: rec + 2 &* h,
                                 ldc: n3, scratch: gemmScratch2, packed: &packed2)
                for r in 0..<nb {
                    let xr = xw + r &* xwStride, rr = UnsafePointer(rec + r &* n3), hr = hp + r &* hStride
                    let out = yt + r &* yStride
                    var j = 0
                    while j &+ 8 <= h { gruCandidateLanes(xr, rr, hr, out, h, j, 8); j &+= 8 }
                    if j < h { gruCandidateLanes(xr, rr, hr, out, h, j, h &- j) }
                }
            } else {
                for r in 0..<nb {
                    let xr = xw + r &* xwStride, out = yt + r &* yStride
                    var j = 0
                    while j &+ 8 <= h { gruCandidateLanes(xr, nil, nil, out, h, j, 8); j &+= 8 }
                    if j < h { gruCandidateLanes(xr, nil, nil, out, h, j, h &- j) }
                }
            }
            hPrev = UnsafePointer(yt)
            hStride = yStride
        }
        copyFinalState(p, direction: direction, rows: rows, from: hPrev, stride: hStride, to: yH)
    }
}
