// Winograd F(2x2, 3x3) convolution for 3x3, stride-1, undilated, ungrouped layers whose
// tile rows line up with the register width (the body convolutions of 2-D DRSNs, e.g.
// 8x8 to 64x64 maps): 16 multiplies per 2x2 output tile and input channel instead of 36.
//
//   Y = A^T [ sum_c (G g_c G^T) o (B^T d_c B) ] A      (o: elementwise, 4x4)
//
// with d_c the 4x4 input patch of tile (ty, tx) (padded input rows 2ty + 0..3, columns
// 2tx + 0..3), g_c the 3x3 filter, and
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1].
// The padded input is split into its 2x2 phase images (as for a stride-2 convolution), so
// patch element (i, j) of tiles tx .. tx + W - 1 is one contiguous vector of phase
// (i % 2, j % 2) at row ty + i / 2, column tx + j / 2. The transformed filters U (16 per
// output/input channel pair) are packed like the direct convolution's weights, one set
// per transform position xi, so the 16 products M_xi = U_xi V_xi run on the direct
// convolution's register tiles (taps = input channels, positions = tiles). Tiles are
// processed in chunks whose transformed input stays in L2; a map of exactly one vector of
// tiles is processed together with the next image's, so the tiles' two vectors are used.
// Rounding: the transforms only add, subtract and halve (G's 0.5 is exact); measured on
// benchmarks/models/drsn_cw_2d, the logits stay within 5e-6 of onnxruntime's, as with the
// direct kernel (kernel tests hold both to 1e-4 relative against the naive reference).

import DRSNKernelTypes

/// Tile rows per register vector: 1 when a tile row (outWidth / 2 tiles) is a multiple of
/// the vector width, 2 or 4 (AVX-512 only, with a multiple of 4 tile rows) when it is half
/// or a quarter of it; 0 when the Winograd path does not apply.
@inline(__always) @usableFromInline
func winogradRowsPerVector(_ p: ConvParams) -> Int {
    let W = VG.scalarCount
    let tilesW = p.outWidth / 2, tilesH = p.outHeight / 2
    guard p.groups == 1 && p.kernelHeight == 3 && p.kernelWidth == 3 && p.strideHeight == 1 && p.strideWidth == 1
        && p.dilationHeight == 1 && p.dilationWidth == 1 && p.inChannels >= 8 && p.outChannels >= 8
        && tilesH >= 1 && tilesW >= 1 && p.outHeight % 2 == 0 && p.outWidth % 2 == 0 else { return 0 }
    if tilesW % W == 0 { return 1 }
    if 2 &* tilesW == W { return 2 }
#if DRSN_ISA_AVX512
    if 4 &* tilesW == W && tilesH % 4 == 0 { return 4 }
#endif
    return 0
}

/// Whether `conv2D` takes the Winograd path for these parameters (3x3, stride 1, no
/// dilation or groups, >= 8 channels in and out, even output sizes whose tile rows fit the
/// register width).
@inline(__always) @usableFromInline
func winogradApplies(_ p: ConvParams) -> Bool {
    winogradRowsPerVector(p) > 0
}

/// Tile grid, phase-image geometry, tiles per chunk and the scratch layout (float offsets
/// from the 64-byte aligned base).
@usableFromInline
typealias WinogradGeometry = (tilesH: Int, tilesW: Int, tiles: Int, chunk: Int, phases: DirectGeometry,
                              vOffset: Int, mOffset: Int, uOffset: Int, offsetsOffset: Int, tmpOffset: Int, end: Int)

/// The 4x4 / stride-2 window whose phase images hold every tile's input patch.
@inline(__always)
func winogradPatchParams(_ p: ConvParams) -> ConvParams {
    ConvParams(batch: p.batch, inChannels: p.inChannels, inHeight: p.inHeight, inWidth: p.inWidth,
               outChannels: p.outChannels, outHeight: p.outHeight / 2, outWidth: p.outWidth / 2,
               kernelHeight: 4, kernelWidth: 4, strideHeight: 2, strideWidth: 2,
               padTop: p.padTop, padLeft: p.padLeft)
}

@inline(__always) @usableFromInline
func winogradGeometry(_ p: ConvParams) -> WinogradGeometry {
    let tilesH = p.outHeight / 2, tilesW = p.outWidth / 2
    let tiles = tilesH &* tilesW
    let tw = directTileWidth
    let rowsP = tilesH &+ 1, widthP = tilesW &+ 1
    // Two extra zero rows: the transform of the junk tiles after the last full tile pair reads them.
    let phasePlane = roundUp((rowsP &+ 2) &* widthP &+ tw, 16)
    let chanStride = 4 &* phasePlane
    let C = p.inChannels
    // Tiles per chunk: the chunk's transformed input (16 x C x chunk floats) within ~256 KB.
    var chunk = (64 &* 1024) / (16 &* C) / tw &* tw
    chunk = max(tw, min(chunk, roundUp(tiles, tw)))  // >= 2W: also a pair of one-vector images
    let vOffset = roundUp(C &* chanStride, 16)
    let mOffset = vOffset &+ 16 &* C &* chunk
    let uOffset = mOffset &+ 16 &* 8 &* tw
    let uCount = 16 &* C &* roundUp(p.outChannels, 8)
    let offsetsOffset = uOffset &+ roundUp(uCount, 16)
    let tmpOffset = offsetsOffset &+ roundUp(2 &* C, 16)  // C Ints
    let end = tmpOffset &+ 4 &* tw
    let phases: DirectGeometry = (rowsP: rowsP, widthP: widthP, phasePlane: phasePlane, chanStride: chanStride,
                                  total: tilesH &* widthP, weightsOffset: 0, tapsOffset: 0, tmpOffset: 0, end: 0,
                                  dense: false)
    return (tilesH: tilesH, tilesW: tilesW, tiles: tiles, chunk: chunk, phases: phases, vOffset: vOffset,
            mOffset: mOffset, uOffset: uOffset, offsetsOffset: offsetsOffset, tmpOffset: tmpOffset, end: end)
}

@usableFromInline
func winogradScratchElements(_ p: ConvParams) -> Int {
    winogradGeometry(p).end &+ 16
}

/// Floats of one transform position's packed filters (the direct layout with ck = inC).
@inline(__always)
func winogradSetFloats(_ p: ConvParams) -> Int {
    p.inChannels &* directPackedChannels(p.outChannels)
}

/// Floats of packed transformed weights (16 sets).
@usableFromInline
func winogradPackedWeightsCount(_ p: ConvParams) -> Int {
    16 &* winogradSetFloats(p)
}

/// Transforms and packs weights [outC, inC, 3, 3] (set xi, then blocks of MR channels from
/// channel 0, [c][mrPack]).
@usableFromInline
func winogradPackWeights(_ p: ConvParams, weights: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
    winogradPackRange(p, weights: weights, m0: 0, m1: p.outChannels, output: output, setStride: winogradSetFloats(p))
}

/// Packs output channels mStart ..< mEnd (blocks from mStart) into sets `setStride` floats apart.
@inline(__always)
func winogradPackRange(_ p: ConvParams, weights: UnsafePointer<Float>, m0 mStart: Int, m1 mEnd: Int,
                       output: UnsafeMutablePointer<Float>, setStride: Int) {
    let C = p.inChannels
    let MR = directMR
    var m0 = mStart, off = 0
    while m0 < mEnd {
        let mr = min(MR, mEnd &- m0)
        let pack = mr <= 4 ? 4 : MR
        for c in 0..<C {
            for i in 0..<pack {
                let d = output + (off &+ c &* pack &+ i)
                if i >= mr {
                    for xi in 0..<16 { d[xi &* setStride] = 0 }
                    continue
                }
                let g = weights + ((m0 &+ i) &* C &+ c) &* 9
                // t = G g (4x3, rows g0, r1, r2, g2), U = t G^T (4x4).
                let g0 = (g[0], g[1], g[2]), g1 = (g[3], g[4], g[5]), g2 = (g[6], g[7], g[8])
                let r1 = ((g0.0 + g1.0 + g2.0) * 0.5, (g0.1 + g1.1 + g2.1) * 0.5, (g0.2 + g1.2 + g2.2) * 0.5)
                let r2 = ((g0.0 - g1.0 + g2.0) * 0.5, (g0.1 - g1.1 + g2.1) * 0.5, (g0.2 - g1.2 + g2.2) * 0.5)
                @inline(__always) func putRow(_ a: Int, _ r: (Float, Float, Float)) {
                    d[(a &* 4) &* setStride] = r.0
                    d[(a &* 4 &+ 1) &* setStride] = (r.0 + r.1 + r.2) * 0.5
                    d[(a &* 4 &+ 2) &* setStride] = (r.0 - r.1 + r.2) * 0.5
                    d[(a &* 4 &+ 3) &* setStride] = r.2
                }
                putRow(0, g0)
                putRow(1, r1)
                putRow(2, r2)
                putRow(3, g2)
            }
        }
        off &+= C &* pack
        m0 &+= mr
    }
}

/// Half a register vector.
#if DRSN_ISA_AVX512
typealias VGHalf = V8
#elseif DRSN_ISA_AVX2
typealias VGHalf = V4
#else
typealias VGHalf = SIMD2<Float>
#endif

/// (a0, b0, a1, b1, ...) as two register vectors.
@inline(__always)
func zipLanes(_ a: VG, _ b: VG) -> (VG, VG) {
#if DRSN_ISA_AVX512
    (VG(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7]),
     VG(a[8], b[8], a[9], b[9], a[10], b[10], a[11], b[11], a[12], b[12], a[13], b[13], a[14], b[14], a[15], b[15]))
#elseif DRSN_ISA_AVX2
    (VG(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3]), VG(a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7]))
#else
    (VG(a[0], b[0], a[1], b[1]), VG(a[2], b[2], a[3], b[3]))
#endif
}

/// V[xi][c][at + t - t0] = (B^T d B)[xi] of tiles t0 ..< t0 + len (multiples of W) from the
/// phase images; a vector spans `rows` tile rows (1, 2 or 4: a constant per call site).
@inline(__always)
func winogradInputTransform(_ phases: UnsafeMutablePointer<Float>, _ vbuf: UnsafeMutablePointer<Float>, t0: Int,
                            len: Int, at: Int, channels C: Int, chunk: Int, tilesW: Int, widthP: Int,
                            phasePlane pp: Int, chanStride cs: Int, rows: Int) {
    let W = VG.scalarCount
    let cstride = C &* chunk
    for c in 0..<C {
        let pc = UnsafePointer(phases + c &* cs)
        let vc = vbuf + (c &* chunk &+ at)
        var k = 0
        while k < len {
            let t = t0 &+ k
            let ty = t / tilesW, tx = t &- ty &* tilesW
            let base = pc + (ty &* widthP &+ tx)
            @inline(__always) func d(_ i: Int, _ j: Int) -> VG {
                let s = base + (((i & 1) &* 2 &+ (j & 1)) &* pp &+ (i >> 1) &* widthP &+ (j >> 1))
                // (Vectors assembled through bit casts, not the stdlib's half initialisers:
                // see the stores in winogradConv.)
                if rows == 2 {
                    let lo = UnsafeRawPointer(s).loadUnaligned(as: VGHalf.self)
                    let hi = UnsafeRawPointer(s + widthP).loadUnaligned(as: VGHalf.self)
                    return unsafeBitCast((lo, hi), to: VG.self)
                }
#if DRSN_ISA_AVX512
                if rows == 4 {
                    @inline(__always) func q(_ r: Int) -> V4 { UnsafeRawPointer(s + r &* widthP).loadUnaligned(as: V4.self) }
                    return unsafeBitCast((q(0), q(1), q(2), q(3)), to: VG.self)
                }
#endif
                return loadG(s)
            }
            @inline(__always) func rowB(_ i: Int) -> (VG, VG, VG, VG) {
                let x0 = d(i, 0), x1 = d(i, 1), x2 = d(i, 2), x3 = d(i, 3)
                return (x0 - x2, x1 + x2, x2 - x1, x1 - x3)
            }
            let r0 = rowB(0), r1 = rowB(1), r2 = rowB(2), r3 = rowB(3)
            @inline(__always) func put(_ xi: Int, _ v: VG) { storeG(v, vc + (xi &* cstride &+ k)) }
            put(0, r0.0 - r2.0); put(1, r0.1 - r2.1); put(2, r0.2 - r2.2); put(3, r0.3 - r2.3)
            put(4, r1.0 + r2.0); put(5, r1.1 + r2.1); put(6, r1.2 + r2.2); put(7, r1.3 + r2.3)
            put(8, r2.0 - r1.0); put(9, r2.1 - r1.1); put(10, r2.2 - r1.2); put(11, r2.3 - r1.3)
            put(12, r1.0 - r3.0); put(13, r1.1 - r3.1); put(14, r1.2 - r3.2); put(15, r1.3 - r3.3)
            k &+= W
        }
    }
}

/// Winograd convolution of the images in `batchRange`, output channels `channelRange`;
/// `scratch` holds `winogradScratchElements(p)` floats (per thread). Same contract as
/// `directConv` (prologue, packed weights, |y| means).
@usableFromInline
func winogradConv(_ p: ConvParams, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                  bias: UnsafePointer<Float>?, activation: Activation,
                  output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                  batchRange: Range<Int>, channelRange: Range<Int>, fusion: ConvFusion) {
    kernelPrecondition(p.isConsistent && winogradApplies(p), "winogradConv: parameters \(p) are not a Winograd convolution")
    kernelPrecondition(batchRange.lowerBound >= 0 && batchRange.upperBound <= p.batch && channelRange.lowerBound >= 0
                       && channelRange.upperBound <= p.outChannels,
                       "winogradConv: batchRange \(batchRange) or channelRange \(channelRange) outside the tensors")
    if channelRange.isEmpty { return }
    let g = winogradGeometry(p)
    let q = winogradPatchParams(p)
    let aligned = UnsafeMutablePointer<Float>(bitPattern: (Int(bitPattern: scratch) &+ 63) & ~63)!
    let phases = aligned
    let vbuf = aligned + g.vOffset
    let mbuf = aligned + g.mOffset
    let offsets = UnsafeMutableRawPointer(aligned + g.offsetsOffset).assumingMemoryBound(to: Int.self)
    let C = p.inChannels, MR = directMR, W = VG.scalarCount, TW = directTileWidth
    let relu = activation == .relu
    let mLo = channelRange.lowerBound, mHi = channelRange.upperBound
    let plane = p.outHeight &* p.outWidth
    let inImage = C &* p.inHeight &* p.inWidth
    let outImage = p.outChannels &* plane
    let outW = p.outWidth
    let tilesW = g.tilesW, tiles = g.tiles
    let pp = g.phases.phasePlane, cs = g.phases.chanStride, widthP = g.phases.widthP
    let chunk = g.chunk
    let rows = winogradRowsPerVector(p)
    // Images per group: a map of exactly one vector of tiles is paired with the next image
    // so that the register tiles (2 vectors of tiles) hold no junk.
    let group = tiles == W ? 2 : 1

    // Transformed weights: packed at load when the range's blocks are the packed blocks.
    let u: UnsafePointer<Float>
    let setStride: Int
    if let pre = fusion.packedWeights, mLo % MR == 0, mHi % MR == 0 || mHi == p.outChannels {
        setStride = winogradSetFloats(p)
        u = pre + (mLo / MR) &* C &* MR
    } else {
        setStride = C &* roundUp(mHi &- mLo, 8)
        winogradPackRange(p, weights: weights, m0: mLo, m1: mHi, output: aligned + g.uOffset, setStride: setStride)
        u = UnsafePointer(aligned + g.uOffset)
    }
    for c in 0..<C { offsets[c] = c &* chunk }
    var first = true
    @inline(__always) func pad(_ image: Int) {
        padImagePhases(q, g.phases, input + image &* inImage, phases, preScale: fusion.preScale,
                       preShift: fusion.preShift, zeros: first)
        first = false
    }
    @inline(__always) func transform(t0: Int, len: Int, at: Int) {
        switch rows {
        case 2:
            winogradInputTransform(phases, vbuf, t0: t0, len: len, at: at, channels: C, chunk: chunk, tilesW: tilesW,
                                   widthP: widthP, phasePlane: pp, chanStride: cs, rows: 2)
        case 4:
            winogradInputTransform(phases, vbuf, t0: t0, len: len, at: at, channels: C, chunk: chunk, tilesW: tilesW,
                                   widthP: widthP, phasePlane: pp, chanStride: cs, rows: 4)
        default:
            winogradInputTransform(phases, vbuf, t0: t0, len: len, at: at, channels: C, chunk: chunk, tilesW: tilesW,
                                   widthP: widthP, phasePlane: pp, chanStride: cs, rows: 1)
        }
    }

    var b = batchRange.lowerBound
    while b < batchRange.upperBound {
        let images = min(group, batchRange.upperBound &- b)
        // Virtual tiles: image b + v / tiles, tile v % tiles.
        let vTiles = images &* tiles
        let vPad = roundUp(vTiles, TW)
        if group == 1 { pad(b) }
        var t0 = 0
        while t0 < vPad {
            let len = min(chunk, vPad &- t0)
            // Input transform V = B^T d B, stored [xi][c][virtual tile - t0].
            if group == 1 {
                transform(t0: t0, len: len, at: 0)
            } else {
                for gi in 0..<images {
                    pad(b &+ gi)
                    transform(t0: 0, len: tiles, at: gi &* tiles)
                }
            }
            // Per block of output channels and pair of tile vectors: the 16 products, then
            // the output transform Y = A^T M A with bias and activation.
            var m0 = mLo
            var off = 0
            while m0 < mHi {
                let mr = min(MR, mHi &- m0)
                let pack = mr <= 4 ? 4 : MR
                var k = 0
                while k < len {
                    for xi in 0..<16 {
                        let vx = UnsafePointer(vbuf + xi &* C &* chunk)
                        let wp = u + (xi &* setStride &+ off)
                        let mx = mbuf + xi &* 8 &* TW
                        // Channel i's two vectors of products go to row i of M (row stride TW).
                        @inline(__always) func put(_ lo: VG, _ hi: VG, _ i: Int) {
                            storeG(lo, mx + i &* TW)
                            storeG(hi, mx + (i &* TW &+ W))
                        }
#if DRSN_ISA_AVX512
                        if pack == 8 {
                            let a = f32DirectConvTile8xTW(padded: vx, offsets: offsets, count: C, wp: wp, q0: k, vs: W)
                            directConvAcc8ForEach(a, 8, put)
                            continue
                        }
#endif
                        let a = f32DirectConvTile4xTW(padded: vx, offsets: offsets, count: C, wp: wp, q0: k, vs: W)
                        directConvAcc4ForEach(a, 4, put)
                    }
                    for i in 0..<mr {
                        let bv = bias?[m0 &+ i] ?? 0
                        for h in 0..<2 {
                            let v = t0 &+ k &+ h &* W
                            if v >= vTiles { break }
                            let image = b &+ v / tiles
                            let tb = v % tiles
                            let outM = output + (image &* outImage &+ (m0 &+ i) &* plane)
                            let mb = UnsafePointer(mbuf + (i &* TW &+ h &* W))
                            @inline(__always) func m(_ xi: Int) -> VG { loadG(mb + xi &* 8 &* TW) }
                            @inline(__always) func col(_ j: Int) -> (VG, VG) {
                                let x0 = m(j), x1 = m(4 &+ j), x2 = m(8 &+ j), x3 = m(12 &+ j)
                                return (x0 + x1 + x2, x1 - x2 - x3)
                            }
                            let c0 = col(0), c1 = col(1), c2 = col(2), c3 = col(3)
                            let y00 = epilogue(c0.0 + c1.0 + c2.0, bv, relu)
                            let y01 = epilogue(c1.0 - c2.0 - c3.0, bv, relu)
                            let y10 = epilogue(c0.1 + c1.1 + c2.1, bv, relu)
                            let y11 = epilogue(c1.1 - c2.1 - c3.1, bv, relu)
                            let (a0, a1) = zipLanes(y00, y01)
                            let (b0, b1) = zipLanes(y10, y11)
                            let ty = tb / tilesW, tx = tb &- ty &* tilesW
                            let r0 = outM + (2 &* ty &* outW &+ 2 &* tx)
                            switch rows {
                            case 1:
                                storeG(a0, r0)
                                storeG(a1, r0 + W)
                                storeG(b0, r0 + outW)
                                storeG(b1, r0 + (outW &+ W))
                            case 2:
                                // Tile rows ty, ty + 1: output rows 2ty .. 2ty + 3 of W floats
                                // each; row ty + 1 may lie past the grid.
                                storeG(a0, r0)
                                storeG(b0, r0 + outW)
                                if ty &+ 1 < g.tilesH {
                                    storeG(a1, r0 + 2 &* outW)
                                    storeG(b1, r0 + 3 &* outW)
                                }
                            default:
#if DRSN_ISA_AVX512
                                // Tile rows ty .. ty + 3 (tilesH is a multiple of 4): output rows
                                // 2ty .. 2ty + 7 of W / 2 floats each.
                                // (Halves through bit casts: the stdlib's lowHalf/highHalf accessors
                                // would be emitted as weak symbols shared across ISA variants.)
                                let a0h = unsafeBitCast(a0, to: (V8, V8).self), b0h = unsafeBitCast(b0, to: (V8, V8).self)
                                let a1h = unsafeBitCast(a1, to: (V8, V8).self), b1h = unsafeBitCast(b1, to: (V8, V8).self)
                                store8(a0h.0, r0)
                                store8(b0h.0, r0 + outW)
                                store8(a0h.1, r0 + 2 &* outW)
                                store8(b0h.1, r0 + 3 &* outW)
                                store8(a1h.0, r0 + 4 &* outW)
                                store8(b1h.0, r0 + 5 &* outW)
                                store8(a1h.1, r0 + 6 &* outW)
                                store8(b1h.1, r0 + 7 &* outW)
#endif
                                break
                            }
                        }
                    }
                    k &+= TW
                }
                off &+= C &* pack
                m0 &+= mr
            }
            t0 &+= len
        }
        if let am = fusion.absMean {
            for image in b..<(b &+ images) {
                ISAKernels.absMean(input: output + (image &* outImage &+ mLo &* plane), output: am + (image &* p.outChannels &+ mLo),
                                   planes: mHi &- mLo, planeSize: plane)
            }
        }
        b &+= images
    }
}
