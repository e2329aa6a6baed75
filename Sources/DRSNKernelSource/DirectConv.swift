// Direct convolution for ungrouped convolutions with strides 1 or 2 (the 3x3 and k3
// convolutions, plain and strided, that dominate DRSNs).

import DRSNKernelTypes

// The GEMM formulation must pack an im2col panel (K x N) per call, which costs as much as
// the arithmetic when the output has few channels (M = 4..128); here the input image is
// copied once into a zero-padded buffer and each input vector load feeds MR output
// channels with broadcast weights, so no panel is packed at all.
//
// Strides: the padded image is split into sH x sW phase images, phase (ph, pw) holding the
// padded pixels (r*sH + ph, j*sW + pw). Output (oy, ox) with tap (kh, kw) reads padded
// (oy*sH + kh*dH, ox*sW + kw*dW) = phase ((kh*dH) % sH, (kw*dW) % sW) at
// (oy + (kh*dH)/sH, ox + (kw*dW)/sW): a unit-stride read. Stride 1 is the single-phase case.
//
// Output positions are computed on the flattened phase grid q = oy * widthP + ox (columns
// ox >= outWidth are discarded), so every kernel tap is one contiguous vector load at a
// fixed offset from q. Tile: MR output channels (8 on AVX-512, 4 otherwise) x 2 register
// vectors of consecutive positions (generated: Generated/DirectConvTiles.swift). Weights are
// packed (at load, or else once per call) into [block][c][kh][kw][MR] (zero rows for a partial
// block), in the inner loop's read order.
// Positions are processed in chunks so that the chunk's input rows stay in L2 while every
// channel block sweeps them.

/// Output positions per tile (two register-width vectors).
@inline(__always) @usableFromInline var directTileWidth: Int { 2 &* VG.scalarCount }

/// Output channels per register tile.
#if DRSN_ISA_AVX512
@inline(__always) @usableFromInline var directMR: Int { 8 }
#else
@inline(__always) @usableFromInline var directMR: Int { 4 }
#endif

/// Whether `directConv` handles these parameters.
@inline(__always) @usableFromInline
func directConvApplies(_ p: ConvParams) -> Bool {
    p.groups == 1 && p.strideHeight >= 1 && p.strideHeight <= 2 && p.strideWidth >= 1 && p.strideWidth <= 2
        && p.inChannels >= 1 && p.outChannels >= 1 && p.dilationHeight >= 1 && p.dilationWidth >= 1
        && !(p.kernelHeight == 1 && p.kernelWidth == 1)
}

/// Phase image rows / width, floats per phase image, floats per channel (all phases);
/// flattened output positions (outHeight * widthP); scratch layout (float offsets from the
/// 64-byte aligned base); `dense`: the shifted-copy layout (below). A tuple, not a struct: a
/// struct's value witnesses would be shared weak symbols across the ISA variants
/// (Tests/hygiene.sh).
///
/// Dense layout (several output rows, kW > 1, an output width that is not a vector
/// multiple, e.g. 8x8 maps on AVX-512; any strides): instead of padded (phase) images whose
/// flattened grid has discarded columns, each channel holds sH x kW planes of outHeight'
/// rows by outWidth columns, plane (ph, kw) row r column x holding padded pixel
/// (r * sH + ph, x * sW + kw * dilationWidth). Tap (kh, kw) of output q = oy * outWidth + ox
/// reads plane ((kh * dH) % sH, kw) at q + ((kh * dH) / sH) * outWidth: every computed
/// position is an output, so nothing is wasted on discarded columns.
@usableFromInline
typealias DirectGeometry = (rowsP: Int, widthP: Int, phasePlane: Int, chanStride: Int, total: Int,
                            weightsOffset: Int, tapsOffset: Int, tmpOffset: Int, end: Int, dense: Bool)

@inline(__always) @usableFromInline
func directGeometry(_ p: ConvParams) -> DirectGeometry {
    let sH = p.strideHeight, sW = p.strideWidth
    // Where the output width is a vector multiple, row mode on the phase images wastes
    // nothing and pads with one copy of the input; the dense planes cost sH x kW copies.
    let dense = p.outHeight > 1 && p.kernelWidth > 1 && p.outWidth % VG.scalarCount != 0
    let rowsP = p.outHeight &+ ((p.kernelHeight &- 1) &* p.dilationHeight) / sH
    let widthP = dense ? p.outWidth : p.outWidth &+ ((p.kernelWidth &- 1) &* p.dilationWidth) / sW
    let phasePlane = roundUp(rowsP &* widthP &+ directTileWidth, 16)
    let chanStride = dense ? sH &* p.kernelWidth &* phasePlane : sH &* sW &* phasePlane
    let ck = p.inChannels &* p.kernelHeight &* p.kernelWidth
    let weightsOffset = roundUp(p.inChannels &* chanStride, 16)
    let tapsOffset = weightsOffset &+ roundUp(roundUp(p.outChannels, 8) &* ck, 16)
    let tmpOffset = tapsOffset &+ roundUp(2 &* ck, 16)
    let end = tmpOffset &+ roundUp(directTileWidth, 16)
    return (rowsP: rowsP, widthP: widthP, phasePlane: phasePlane, chanStride: chanStride,
            total: p.outHeight &* widthP, weightsOffset: weightsOffset, tapsOffset: tapsOffset,
            tmpOffset: tmpOffset, end: end, dense: dense)
}

/// Scratch floats `directConv` needs (phase images, packed weights, tap table; 64-byte aligned).
@usableFromInline
func directConvScratchElements(_ p: ConvParams) -> Int {
    if winogradApplies(p) { return winogradScratchElements(p) }
    return directGeometry(p).end &+ 16
}

/// Copies image `src` ([C, inH, inW]) into the dense layout's sH x kW planes per channel
/// (see `DirectGeometry`); every float a tile can read is written (zeros as in
/// `padImagePhases`). Prologue as in `padImagePhases`.
@inline(never)
func padImageDense(_ p: ConvParams, _ g: DirectGeometry, _ src: UnsafePointer<Float>,
                   _ dst: UnsafeMutablePointer<Float>, preScale: UnsafePointer<Float>?,
                   preShift: UnsafePointer<Float>?, zeros: Bool) {
    let inW = p.inWidth, inH = p.inHeight, outW = p.outWidth
    let sH = p.strideHeight, sW = p.strideWidth
    let used = g.rowsP &* outW
    let pre = preScale != nil && preShift != nil
    let flat = sH == 1 && sW == 1 && inW == outW
    for c in 0..<p.inChannels {
        let srcC = src + c &* inH &* inW
        let k: Float = pre ? preScale.unsafelyUnwrapped[c] : 1
        let t: Float = pre ? preShift.unsafelyUnwrapped[c] : 0
        for ph in 0..<sH {
            for kw in 0..<p.kernelWidth {
                let d0 = dst + (c &* g.chanStride &+ (ph &* p.kernelWidth &+ kw) &* g.phasePlane)
                // Output column x reads input column x * sW + shift: valid for x in [x0, x1).
                let shift = kw &* p.dilationWidth &- p.padLeft
                let x0 = min(max(0, ceilDiv(-shift, sW)), outW)
                let x1 = max(min(outW, floorDiv(inW &- 1 &- shift, sW) &+ 1), x0)
                if flat {
                    // Rows of equal width: the data rows are one contiguous block at a fixed
                    // offset from the input; the columns that block carries over from the
                    // neighbouring row are zeroed again afterwards.
                    if zeros { fill(d0, g.phasePlane, 0) }
                    let rA = min(p.padTop, g.rowsP), rB = max(min(g.rowsP, inH &+ p.padTop), rA)
                    if rB > rA && x1 > x0 {
                        let first = rA &* outW &+ x0, last = (rB &- 1) &* outW &+ x1
                        let s = srcC + ((rA &- p.padTop) &* inW &+ x0 &+ shift)
                        if pre {
                            copySegmentScaleShiftRelu(s, d0 + first, last &- first, k, t)
                        } else {
                            copySegment(s, d0 + first, last &- first)
                        }
                        if x0 > 0 || x1 < outW {
                            for r in rA..<rB {
                                let dr = d0 + r &* outW
                                for x in 0..<x0 { dr[x] = 0 }
                                for x in x1..<outW { dr[x] = 0 }
                            }
                        }
                    }
                    continue
                }
                if zeros { fill(d0 + used, g.phasePlane &- used, 0) }
                for r in 0..<g.rowsP {
                    let dr = d0 + r &* outW
                    let iy = r &* sH &+ ph &- p.padTop
                    if iy < 0 || iy >= inH || x1 == x0 {
                        if zeros { fill(dr, outW, 0) }
                        continue
                    }
                    if zeros { fill(dr, x0, 0) }
                    let s = srcC + (iy &* inW &+ shift)
                    if sW == 1 {
                        if pre {
                            copySegmentScaleShiftRelu(s + x0, dr + x0, x1 &- x0, k, t)
                        } else {
                            copySegment(s + x0, dr + x0, x1 &- x0)
                        }
                    } else {
                        var x = x0
                        if sW == 2 && x1 &- x0 >= 8 {
                            // Even elements of 16-float loads ending inside the row; the last
                            // 8 outputs (possibly overlapping) take the odd elements of a load
                            // starting one float earlier, which ends inside the row too.
                            while x &+ 8 <= x1 && 2 &* x &+ shift &+ 16 <= inW {
                                var v = load16(s + 2 &* x)
                                if pre { v = scaleShiftRelu16(v, k, t) }
                                store8(v.evenHalf, dr + x)
                                x &+= 8
                            }
                            let xl = x1 &- 8
                            if x < x1 && 2 &* xl &+ shift &- 1 >= 0 && 2 &* xl &+ shift &+ 15 <= inW {
                                var v = load16(s + (2 &* xl &- 1))
                                if pre { v = scaleShiftRelu16(v, k, t) }
                                store8(v.oddHalf, dr + xl)
                                x = x1
                            }
                        }
                        while x < x1 {
                            let v = s[x &* sW]
                            dr[x] = pre ? scaleShiftRelu1(v, k, t) : v
                            x &+= 1
                        }
                    }
                    if zeros { fill(dr + x1, outW &- x1, 0) }
                }
            }
        }
    }
}

/// Copies image `src` ([C, inH, inW]) into the zero-padded phase images (every float of
/// the buffer that a tile can read is written: data or zero; the zeros only when `zeros`,
/// for a buffer that already holds this geometry's padding). With `preScale`/`preShift`,
/// channel c's data is written as max(x * preScale[c] + preShift[c], 0); padding stays 0.
@inline(never)
func padImagePhases(_ p: ConvParams, _ g: DirectGeometry, _ src: UnsafePointer<Float>,
                    _ dst: UnsafeMutablePointer<Float>, preScale: UnsafePointer<Float>?,
                    preShift: UnsafePointer<Float>?, zeros: Bool) {
    if p.strideWidth == 2 {
        padImageColumnPhases(p, g, src, dst, preScale: preScale, preShift: preShift, zeros: zeros)
        return
    }
    // Column stride 1: phase ph of the rows only; row r holds input row r * sH + ph - padTop,
    // columns [j0, j1) hold the input row from column j0 - padLeft.
    let sH = p.strideHeight
    let inW = p.inWidth, inH = p.inHeight
    let widthP = g.widthP
    let used = g.rowsP &* widthP
    let j0 = min(max(p.padLeft, 0), widthP)
    let j1 = max(min(inW &+ p.padLeft, widthP), j0)
    let pre = preScale != nil && preShift != nil
    for c in 0..<p.inChannels {
        let srcC = src + c &* inH &* inW
        let k: Float = pre ? preScale.unsafelyUnwrapped[c] : 1
        let t: Float = pre ? preShift.unsafelyUnwrapped[c] : 0
        for ph in 0..<sH {
            let d0 = dst + (c &* g.chanStride &+ ph &* g.phasePlane)
            if zeros { fill(d0 + used, g.phasePlane &- used, 0) }
            for r in 0..<g.rowsP {
                let iy = r &* sH &+ ph &- p.padTop
                let dr = d0 + r &* widthP
                if iy < 0 || iy >= inH {
                    if zeros { fill(dr, widthP, 0) }
                    continue
                }
                let srow = srcC + iy &* inW
                if zeros { fill(dr, j0, 0) }
                if j1 > j0 {
                    if pre {
                        copySegmentScaleShiftRelu(srow + (j0 &- p.padLeft), dr + j0, j1 &- j0, k, t)
                    } else {
                        copySegment(srow + (j0 &- p.padLeft), dr + j0, j1 &- j0)
                    }
                }
                if zeros { fill(dr + j1, widthP &- j1, 0) }
            }
        }
    }
}

/// `padImagePhases` for column stride 2 (any row stride): one pass over each input row,
/// whose even elements go to one column phase and odd elements to the other (phase pw,
/// column j holds input column 2j + pw - padLeft), 16 floats per load. The zeros (padding,
/// and columns / rows no input reaches) are written only when `zeros`, as a fill of the
/// channel's phase images before the data.
@inline(__always)
func padImageColumnPhases(_ p: ConvParams, _ g: DirectGeometry, _ src: UnsafePointer<Float>,
                          _ dst: UnsafeMutablePointer<Float>, preScale: UnsafePointer<Float>?,
                          preShift: UnsafePointer<Float>?, zeros: Bool) {
    let sH = p.strideHeight
    let inW = p.inWidth, inH = p.inHeight, widthP = g.widthP, pl = p.padLeft
    let pre = preScale != nil && preShift != nil
    // Even input columns 2m land in phase pe at column m + oe, odd ones 2m + 1 in po at m + oo.
    let pe = pl & 1, po = (pl &+ 1) & 1
    let oe = pl >> 1, oo = (pl &+ 1) >> 1
    // Input columns reaching a phase column: 2m + 1 < inW and m + max(oe, oo) < widthP.
    let mFull = min(inW / 2, widthP &- max(oe, oo))  // pairs (2m, 2m + 1) both stored
    for c in 0..<p.inChannels {
        let srcC = src + c &* inH &* inW
        let k: Float = pre ? preScale.unsafelyUnwrapped[c] : 1
        let t: Float = pre ? preShift.unsafelyUnwrapped[c] : 0
        let d0 = dst + c &* g.chanStride
        if zeros { fill(d0, sH &* 2 &* g.phasePlane, 0) }
        for iy in 0..<inH {
            let rp = iy &+ p.padTop
            let r = rp / sH
            if rp < 0 || r >= g.rowsP { continue }
            let s = srcC + iy &* inW
            let row = d0 + ((rp &- r &* sH) &* 2 &* g.phasePlane &+ r &* widthP)
            let de = row + (pe &* g.phasePlane &+ oe), dd = row + (po &* g.phasePlane &+ oo)
            var m = 0
            while m &+ 8 <= mFull {
                var v = load16(s + 2 &* m)
                if pre { v = scaleShiftRelu16(v, k, t) }
                store8(v.evenHalf, de + m)
                store8(v.oddHalf, dd + m)
                m &+= 8
            }
            // The rest one by one: up to 7 pairs, an unpaired last even column, and pairs cut
            // off by the phase width.
            while 2 &* m < inW {
                if m &+ oe < widthP {
                    let v = s[2 &* m]
                    de[m] = pre ? scaleShiftRelu1(v, k, t) : v
                }
                if 2 &* m &+ 1 < inW && m &+ oo < widthP {
                    let v = s[2 &* m &+ 1]
                    dd[m] = pre ? scaleShiftRelu1(v, k, t) : v
                }
                m &+= 1
            }
        }
    }
}

/// Output channels' worth of packed weights per tap for `outChannels` channels in blocks of
/// MR from channel 0 (a last block of <= 4 channels packed 4 wide, any other padded to MR).
@inline(__always)
func directPackedChannels(_ outChannels: Int) -> Int {
    let MR = directMR
    let full = outChannels / MR, rest = outChannels &- full &* MR
    return full &* MR &+ (rest == 0 ? 0 : (rest <= 4 ? 4 : MR))
}

/// Packs output channels m0 ..< m1 in blocks of MR from m0 (see `directPackedChannels`),
/// each block [c][kh][kw][mrPack], into `dst`.
@inline(__always)
func packDirectBlocks(_ weights: UnsafePointer<Float>, ck: Int, m0 mStart: Int, m1 mEnd: Int,
                      dst: UnsafeMutablePointer<Float>) {
    let MR = directMR
    var m0 = mStart, off = 0
    while m0 < mEnd {
        let mr = min(MR, mEnd &- m0)
        let pack = mr <= 4 ? 4 : MR
        packDirectWeights(weights, ck: ck, m0: m0, mr: mr, mrPack: pack, dst: dst + off)
        off &+= ck &* pack
        m0 &+= mr
    }
}

/// Packs the weights of output channels m0 ..< m0+mr as [c][kh][kw][mrPack], zero-filled.
@inline(__always)
func packDirectWeights(_ weights: UnsafePointer<Float>, ck: Int, m0: Int, mr: Int, mrPack: Int,
                       dst: UnsafeMutablePointer<Float>) {
    for t in 0..<ck {
        let d = dst + t &* mrPack
        var i = 0
        while i < mr { d[i] = weights[(m0 &+ i) &* ck &+ t]; i &+= 1 }
        while i < mrPack { d[i] = 0; i &+= 1 }
    }
}

@_transparent
func epilogue(_ v: VG, _ bias: Float, _ relu: Bool) -> VG {
    var r = v + VG(repeating: bias)
    if relu { r.replace(with: VG(), where: r .< VG()) }
    return r
}

/// Copies n floats with vector moves (overlapping tail), never touching d[n...].
@inline(__always)
func copySegment(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int) {
    let W = VG.scalarCount
    if n >= W && W > 8 {
        var i = 0
        while i &+ W <= n { storeG(loadG(s + i), d + i); i &+= W }
        if i < n { storeG(loadG(s + (n &- W)), d + (n &- W)) }
    } else if n >= 8 {
        var i = 0
        while i &+ 8 <= n { store8(load8(s + i), d + i); i &+= 8 }
        if i < n { store8(load8(s + (n &- 8)), d + (n &- 8)) }
    } else if n >= 4 {
        UnsafeMutableRawPointer(d).storeBytes(of: UnsafeRawPointer(s).loadUnaligned(as: V4.self), as: V4.self)
        let t = n &- 4
        UnsafeMutableRawPointer(d + t).storeBytes(of: UnsafeRawPointer(s + t).loadUnaligned(as: V4.self), as: V4.self)
    } else {
        var i = 0
        while i < n { d[i] = s[i]; i &+= 1 }
    }
}

@_transparent
func scaleShiftRelu1(_ x: Float, _ k: Float, _ t: Float) -> Float {
    let y = x * k + t
    return y < 0 ? 0 : y
}

@_transparent
func scaleShiftRelu8(_ x: V8, _ k: Float, _ t: Float) -> V8 {
    var y = madd(V8(repeating: t), x, V8(repeating: k))
    y.replace(with: V8(), where: y .< V8())
    return y
}

@_transparent
func scaleShiftRelu16(_ x: V16, _ k: Float, _ t: Float) -> V16 {
    var y = madd(V16(repeating: t), x, V16(repeating: k))
    y.replace(with: V16(), where: y .< V16())
    return y
}

/// `copySegment` writing max(x * k + t, 0) (NaN stays NaN).
@inline(__always)
func copySegmentScaleShiftRelu(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int,
                               _ k: Float, _ t: Float) {
    let W = VG.scalarCount
    if n >= W && W > 8 {
        var i = 0
        let vk = VG(repeating: k), vt = VG(repeating: t)
        @inline(__always) func f(_ x: VG) -> VG {
            var y = madd(vt, x, vk)
            y.replace(with: VG(), where: y .< VG())
            return y
        }
        while i &+ W <= n { storeG(f(loadG(s + i)), d + i); i &+= W }
        if i < n { storeG(f(loadG(s + (n &- W))), d + (n &- W)) }
    } else if n >= 8 {
        var i = 0
        while i &+ 8 <= n { store8(scaleShiftRelu8(load8(s + i), k, t), d + i); i &+= 8 }
        if i < n { store8(scaleShiftRelu8(load8(s + (n &- 8)), k, t), d + (n &- 8)) }
    } else {
        var i = 0
        while i < n { d[i] = scaleShiftRelu1(s[i], k, t); i &+= 1 }
    }
}

/// Writes a tile's 2W values for flattened positions q0 ..< q0 + 2W into the output plane,
/// dropping the discarded columns.
@inline(__always)
func scatterTile(_ lo: VG, _ hi: VG, q0: Int, total: Int, width: Int, outWidth: Int,
                 plane: UnsafeMutablePointer<Float>, tmp: UnsafeMutablePointer<Float>) {
    let W = VG.scalarCount
    // Flattened grid without discarded columns (dense layout, kW == 1): positions are outputs.
    if width == outWidth && q0 &+ 2 &* W <= total {
        storeG(lo, plane + q0)
        storeG(hi, plane + (q0 &+ W))
        return
    }
    let end = min(q0 &+ 2 &* W, total)
    var oy = q0 / width, ox = q0 &- oy &* width
    // Fast path: the whole tile lies inside one output row.
    if ox &+ 2 &* W <= outWidth && end &- q0 == 2 &* W {
        let d = plane + (oy &* outWidth &+ ox)
        storeG(lo, d)
        storeG(hi, d + W)
        return
    }
    storeG(lo, tmp)
    storeG(hi, tmp + W)
    var q = q0
    while q < end {
        let seg = min(width &- ox, end &- q)
        if ox < outWidth {
            let n = min(seg, outWidth &- ox)
            copySegment(tmp + (q &- q0), plane + (oy &* outWidth &+ ox), n)
        }
        q &+= seg
        oy &+= 1
        ox = 0
    }
}

/// Bias, activation and store of one output channel's tile.
@inline(__always)
func directPut(_ lo: VG, _ hi: VG, _ m: Int, _ q0: Int, _ bias: UnsafePointer<Float>?, _ relu: Bool, _ total: Int,
               _ width: Int, _ outWidth: Int, _ plane: UnsafeMutablePointer<Float>, _ tmp: UnsafeMutablePointer<Float>) {
    let bv = bias?[m] ?? 0
    scatterTile(epilogue(lo, bv, relu), epilogue(hi, bv, relu), q0: q0, total: total, width: width,
                outWidth: outWidth, plane: plane, tmp: tmp)
}

/// Stores output channel m0 + i of a tile: row mode writes the two vectors at oA / oB
/// (oB only when hasB), flattened mode scatters 2W positions from q0.
@_transparent
func directStore(_ lo: VG, _ hi: VG, _ i: Int, _ m0: Int, _ rowMode: Bool, _ q0: Int, _ oA: Int, _ oB: Int,
                 _ hasB: Bool, _ bias: UnsafePointer<Float>?, _ relu: Bool, _ total: Int, _ width: Int,
                 _ outWidth: Int, _ outM: UnsafeMutablePointer<Float>, _ plane: Int, _ tmp: UnsafeMutablePointer<Float>) {
    let bv = bias?[m0 &+ i] ?? 0
    let dst = outM + i &* plane
    if rowMode {
        storeG(epilogue(lo, bv, relu), dst + oA)
        if hasB { storeG(epilogue(hi, bv, relu), dst + oB) }
    } else {
        directScatterStore(lo, hi, bv, relu, q0, total, width, outWidth, dst, tmp)
    }
}

@inline(never)
func directScatterStore(_ lo: VG, _ hi: VG, _ bv: Float, _ relu: Bool, _ q0: Int, _ total: Int, _ width: Int,
                        _ outWidth: Int, _ dst: UnsafeMutablePointer<Float>, _ tmp: UnsafeMutablePointer<Float>) {
    scatterTile(epilogue(lo, bv, relu), epilogue(hi, bv, relu), q0: q0, total: total, width: width,
                outWidth: outWidth, plane: dst, tmp: tmp)
}

// MARK: - Register tiles

/// The tap loop of a direct-convolution register tile (the tiles, with their accumulators and
/// per-channel helpers, are generated: Generated/DirectConvTiles.swift): for each of the `count`
/// taps (offsets from q0 into `padded`), `channels` packed weights are multiplied into the
/// accumulators; a single-vector tile (vs == 0: a tail of at most W positions) uses `tap1`, and
/// its second vector of each channel stays 0.
@inline(__always)
func directConvTileLoop<Acc>(_ zero: Acc, _ channels: Int, _ padded: UnsafePointer<Float>, _ offsets: UnsafePointer<Int>,
                             _ count: Int, _ wp: UnsafePointer<Float>, _ q0: Int, _ vs: Int,
                             _ tap: (inout Acc, UnsafePointer<Float>, Int, UnsafePointer<Float>) -> Void,
                             _ tap1: (inout Acc, UnsafePointer<Float>, UnsafePointer<Float>) -> Void) -> Acc {
    var acc = zero
    let base = padded + q0
    var w = wp
    var o = offsets
    let oEnd = offsets + count
    if vs == 0 {
        while o < oEnd {
            tap1(&acc, base + o[0], w)
            w += channels
            o += 1
        }
        return acc
    }
    while o < oEnd {
        tap(&acc, base + o[0], vs, w)
        w += channels
        o += 1
    }
    return acc
}

// MARK: - Driver

/// Output channels per unit of work when a convolution's channels are split over threads
/// (`conv2D(..., channelRange:)`); 0 when the convolution cannot be split by channels.
@usableFromInline
func directChannelBlock(_ p: ConvParams) -> Int {
    directConvApplies(p) ? directMR : 0
}

/// Direct convolution of the images in `batchRange`, output channels `channelRange`;
/// `scratch` holds `directConvScratchElements(p)` floats (per thread).
@usableFromInline
func directConv(_ p: ConvParams, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                bias: UnsafePointer<Float>?, activation: Activation,
                output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                batchRange: Range<Int>, channelRange: Range<Int>, fusion: ConvFusion) {
    if channelRange.isEmpty { return }
    if winogradApplies(p) {
        winogradConv(p, input: input, weights: weights, bias: bias, activation: activation, output: output,
                     scratch: scratch, batchRange: batchRange, channelRange: channelRange, fusion: fusion)
        return
    }
    let g = directGeometry(p)
    let aligned = UnsafeMutablePointer<Float>(bitPattern: (Int(bitPattern: scratch) &+ 63) & ~63)!
    let padded = aligned
    let scratchWeights = aligned + g.weightsOffset
    let taps = UnsafeMutableRawPointer(aligned + g.tapsOffset).assumingMemoryBound(to: Int.self)
    let tmp = aligned + g.tmpOffset
    let relu = activation == .relu
    let tile = directTileWidth
    let kH = p.kernelHeight, kW = p.kernelWidth
    let sH = p.strideHeight, sW = p.strideWidth
    let C = p.inChannels
    let ck = C &* kH &* kW
    let total = g.total
    let plane = p.outHeight &* p.outWidth
    let inImage = C &* p.inHeight &* p.inWidth
    let outImage = p.outChannels &* plane
    let MR = directMR

    // Offsets of every (c, kh, kw) tap from the tile's first position, in packed-weight order.
    for kh in 0..<kH {
        let ry = kh &* p.dilationHeight
        for kw in 0..<kW {
            let rx = kw &* p.dilationWidth
            taps[kh &* kW &+ kw] = g.dense
                ? ((ry % sH) &* kW &+ kw) &* g.phasePlane &+ (ry / sH) &* g.widthP
                : ((ry % sH) &* sW &+ rx % sW) &* g.phasePlane &+ (ry / sH) &* g.widthP &+ rx / sW
        }
    }
    let kArea = kH &* kW
    for c in 1..<max(C, 1) {
        for t in 0..<kArea { taps[c &* kArea &+ t] = c &* g.chanStride &+ taps[t] }
    }

    // Blocks: m0 steps by MR from channelRange.lowerBound; a last block of <= 4 channels
    // uses the 4-wide tile (on AVX-512), anything else is zero-padded to MR. Weights packed
    // at load (`packConvWeights`: blocks from channel 0, only the last one partial) are used
    // when the range's blocks are those blocks; otherwise they are packed here.
    let mLo = channelRange.lowerBound, mHi = channelRange.upperBound
    var packed = UnsafePointer(scratchWeights)
    if let pre = fusion.packedWeights, mLo % MR == 0, mHi % MR == 0 || mHi == p.outChannels {
        packed = pre + (mLo / MR) &* ck &* MR
    } else {
        packDirectBlocks(weights, ck: ck, m0: mLo, m1: mHi, dst: scratchWeights)
    }

    // Positions per chunk: the chunk's input (all channels) should fit in ~192 KB of L2.
    let rowsSpan = ((kH &- 1) &* p.dilationHeight) / sH &* g.widthP
    var chunk = (48 &* 1024) / max(C &* (g.dense ? sH &* kW : sH &* sW), 1) &- rowsSpan
    chunk = max(tile, chunk / tile &* tile)

    // Row mode (outWidth a multiple of W): each tile is two whole vectors of output row
    // segments ("slots", row-major), so nothing is computed for discarded columns and every
    // store is a full vector. Otherwise tiles are 2W consecutive flattened positions.
    let W = VG.scalarCount
    let rowMode = !g.dense && p.outWidth % W == 0
    let vpr = p.outWidth / W
    let nItems = rowMode ? p.outHeight &* vpr : total
    let step = rowMode ? 2 : tile
    let chunkItems = rowMode ? max(2, (chunk / W) & ~1) : chunk
    let widthP = g.widthP, outW = p.outWidth

    for b in batchRange {
        // The zero padding sits at the same places for every image: written for the first only.
        let zeros = b == batchRange.lowerBound
        if g.dense {
            padImageDense(p, g, input + (b &* inImage), padded, preScale: fusion.preScale, preShift: fusion.preShift,
                          zeros: zeros)
        } else {
            padImagePhases(p, g, input + (b &* inImage), padded, preScale: fusion.preScale, preShift: fusion.preShift,
                           zeros: zeros)
        }
        let out = output + (b &* outImage)
        var c0 = 0
        while c0 < nItems {
            let c1 = min(c0 &+ chunkItems, nItems)
            var m0 = mLo
            var off = 0
            while m0 < mHi {
                let mr = min(MR, mHi &- m0)
                let wp = UnsafePointer(packed + off)
                let outM = out + m0 &* plane
                var k = c0
                // Row mode: (ya, xa) is slot k's row and first column, advanced incrementally.
                var ya = rowMode ? c0 / vpr : 0
                var xa = rowMode ? (c0 &- ya &* vpr) &* W : 0
                while k < c1 {
                    var qa = k, vs = total &- k <= W ? 0 : W, oA = 0, oB = 0, hasB = true
                    if rowMode {
                        qa = ya &* widthP &+ xa
                        oA = ya &* outW &+ xa
                        xa &+= W
                        if xa == outW { xa = 0; ya &+= 1 }
                        if k &+ 1 < nItems {
                            vs = ya &* widthP &+ xa &- qa
                            oB = ya &* outW &+ xa
                        } else {
                            vs = 0
                            hasB = false
                        }
                        xa &+= W
                        if xa == outW { xa = 0; ya &+= 1 }
                    }
                    // Per output channel m0 + i of the tile: bias, activation and store (it captures
                    // constants only: a captured var would be boxed and `put` not inlined).
                    let (m, q, a0, b0, b1) = (m0, qa, oA, oB, hasB)
                    @inline(__always) func put(_ lo: VG, _ hi: VG, _ i: Int) {
                        directStore(lo, hi, i, m, rowMode, q, a0, b0, b1, bias, relu, total, widthP, outW, outM, plane, tmp)
                    }
#if DRSN_ISA_AVX512
                    if mr > 4 {
                        let a = f32DirectConvTile8xTW(padded: padded, offsets: taps, count: ck, wp: wp, q0: qa, vs: vs)
                        directConvAcc8ForEach(a, mr, put)
                        k &+= step
                        continue
                    }
#endif
                    let a = f32DirectConvTile4xTW(padded: padded, offsets: taps, count: ck, wp: wp, q0: qa, vs: vs)
                    directConvAcc4ForEach(a, mr, put)
                    k &+= step
                }
                off &+= ck &* (mr > 4 ? MR : 4)
                m0 &+= mr
            }
            c0 = c1
        }
        if let am = fusion.absMean {
            ISAKernels.absMean(input: out + mLo &* plane, output: am + (b &* p.outChannels &+ mLo), planes: mHi &- mLo,
                               planeSize: plane)
        }
    }
}

/// Floats `packConvWeights` writes for these parameters (0: the convolution does not use
/// packed weights).
@usableFromInline
func directPackedWeightsCount(_ p: ConvParams) -> Int {
    guard directConvApplies(p) else { return 0 }
    if winogradApplies(p) { return winogradPackedWeightsCount(p) }
    return p.inChannels &* p.kernelHeight &* p.kernelWidth &* directPackedChannels(p.outChannels)
}

/// Packs all output channels' weights in the order `directConv` reads them (blocks of MR
/// channels from channel 0).
@usableFromInline
func directPackWeights(_ p: ConvParams, weights: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
    if winogradApplies(p) {
        winogradPackWeights(p, weights: weights, output: output)
        return
    }
    packDirectBlocks(weights, ck: p.inChannels &* p.kernelHeight &* p.kernelWidth, m0: 0, m1: p.outChannels,
                     dst: output)
}
