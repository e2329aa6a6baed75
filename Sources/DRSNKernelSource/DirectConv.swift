// Direct convolution for stride-1, ungrouped convolutions (the 3x3 and k3 convolutions that

import DRSNKernelTypes
// dominate DRSNs). The GEMM formulation must pack an im2col panel (K x N) per call, which
// costs as much as the arithmetic when the output has few channels (M = 4..64); here the
// input image is copied once into a zero-padded buffer and each input vector load feeds
// MR output channels with broadcast weights, so no panel is packed at all.
//
// Tile: MR output channels x 2 register-width vectors of consecutive output positions.
// Rows of the padded buffer are rounded up to whole tiles, so loads never leave the buffer;
// stores at the right edge write only the valid columns.

/// Output positions per tile (two register-width vectors).
@inline(__always) @usableFromInline var directTileWidth: Int { 2 &* VG.scalarCount }

/// Whether `directConv` handles these parameters.
@inline(__always) @usableFromInline
func directConvApplies(_ p: ConvParams) -> Bool {
    p.groups == 1 && p.strideHeight == 1 && p.strideWidth == 1 && p.inChannels >= 1 && p.outChannels >= 1
        && !(p.kernelHeight == 1 && p.kernelWidth == 1)
}

/// The padded image: `rows` x `width` per channel, channels `planeStride` apart. Output
/// position (oy, ox) reads padded (oy + kh*dH, ox + kw*dW), so positions are computed on the
/// flattened padded grid q = oy * width + ox (columns ox >= outWidth are discarded) and every
/// kernel tap is a contiguous vector load.
@inline(__always) @usableFromInline
func directPaddedGeometry(_ p: ConvParams) -> (rows: Int, width: Int, planeStride: Int) {
    let rows = p.outHeight &+ (p.kernelHeight &- 1) &* p.dilationHeight
    let width = p.outWidth &+ (p.kernelWidth &- 1) &* p.dilationWidth
    return (rows, width, roundUp(rows &* width &+ directTileWidth &+ (p.kernelWidth &- 1) &* p.dilationWidth, 16))
}

/// Scratch floats `directConv` needs (one padded image, 64-byte aligned).
@usableFromInline
func directConvScratchElements(_ p: ConvParams) -> Int {
    let (_, _, planeStride) = directPaddedGeometry(p)
    return p.inChannels &* planeStride &+ 16
}

/// Copies image `src` ([C, inH, inW]) into the zero-padded buffer.
@inline(__always)
func padImage(_ p: ConvParams, _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
              rows: Int, width: Int, planeStride: Int) {
    fill(dst, p.inChannels &* planeStride, 0)
    let inW = p.inWidth
    let copyW = min(inW, width &- p.padLeft)
    if copyW <= 0 { return }
    for c in 0..<p.inChannels {
        for iy in 0..<p.inHeight {
            let py = iy &+ p.padTop
            if py >= rows { break }
            let s = src + ((c &* p.inHeight &+ iy) &* inW)
            let d = dst + (c &* planeStride &+ py &* width &+ p.padLeft)
            d.update(from: s, count: copyW)
        }
    }
}

@inline(__always)
func epilogue(_ v: VG, _ bias: Float, _ relu: Bool) -> VG {
    var r = v + VG(repeating: bias)
    if relu { r.replace(with: VG(), where: r .< VG()) }
    return r
}

/// Writes a tile's 2W values for flattened positions q0 ..< q0 + 2W into the output plane,
/// dropping the discarded columns.
@inline(__always)
func scatterTile(_ lo: VG, _ hi: VG, q0: Int, total: Int, width: Int, outWidth: Int,
                 plane: UnsafeMutablePointer<Float>) {
    let W = VG.scalarCount
    var q = q0
    let end = min(q0 &+ 2 &* W, total)
    var oy = q / width, ox = q &- oy &* width
    // Fast path: the whole tile lies inside one output row.
    if ox &+ (end &- q) <= outWidth && end &- q == 2 &* W {
        let d = plane + (oy &* outWidth &+ ox)
        UnsafeMutableRawPointer(d).storeBytes(of: lo, as: VG.self)
        UnsafeMutableRawPointer(d + W).storeBytes(of: hi, as: VG.self)
        return
    }
    while q < end {
        let seg = min(width &- ox, end &- q)
        if ox < outWidth {
            let n = min(seg, outWidth &- ox)
            let d = plane + (oy &* outWidth &+ ox)
            var i = 0
            while i < n {
                let lane = q &- q0 &+ i
                d[i] = lane < W ? lo[lane] : hi[lane &- W]
                i &+= 1
            }
        }
        q &+= seg
        oy &+= 1
        ox = 0
    }
}

/// Tile of 4 output channels from `m0` at flattened positions q0 ..< q0 + 2W.
@inline(__always)
func directTile4(_ p: ConvParams, padded: UnsafePointer<Float>, width: Int, planeStride: Int,
                 weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, relu: Bool,
                 out: UnsafeMutablePointer<Float>, m0: Int, q0: Int, total: Int) {
    let W = VG.scalarCount
    let kH = p.kernelHeight, kW = p.kernelWidth
    let ck = p.inChannels &* kH &* kW
    var a0 = VG(), b0 = VG(), a1 = VG(), b1 = VG(), a2 = VG(), b2 = VG(), a3 = VG(), b3 = VG()
    let w0 = weights + (m0 &* ck)
    var idx = 0
    for c in 0..<p.inChannels {
        let base = padded + (c &* planeStride &+ q0)
        for kh in 0..<kH {
            let row = base + (kh &* p.dilationHeight &* width)
            for kw in 0..<kW {
                let s = row + (kw &* p.dilationWidth)
                let u = loadG(s), v = loadG(s + W)
                let wa = VG(repeating: w0[idx]), wb = VG(repeating: w0[idx &+ ck])
                let wc = VG(repeating: w0[idx &+ 2 &* ck]), wd = VG(repeating: w0[idx &+ 3 &* ck])
                a0 = madd(a0, u, wa); b0 = madd(b0, v, wa)
                a1 = madd(a1, u, wb); b1 = madd(b1, v, wb)
                a2 = madd(a2, u, wc); b2 = madd(b2, v, wc)
                a3 = madd(a3, u, wd); b3 = madd(b3, v, wd)
                idx &+= 1
            }
        }
    }
    let plane = p.outHeight &* p.outWidth
    @inline(__always) func put(_ lo: VG, _ hi: VG, _ i: Int) {
        let bv = bias?[m0 &+ i] ?? 0
        scatterTile(epilogue(lo, bv, relu), epilogue(hi, bv, relu), q0: q0, total: total, width: width,
                    outWidth: p.outWidth, plane: out + ((m0 &+ i) &* plane))
    }
    put(a0, b0, 0); put(a1, b1, 1); put(a2, b2, 2); put(a3, b3, 3)
}

/// Tile of a single output channel (channel counts that are not multiples of 4).
@inline(__always)
func directTile1(_ p: ConvParams, padded: UnsafePointer<Float>, width: Int, planeStride: Int,
                 weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, relu: Bool,
                 out: UnsafeMutablePointer<Float>, m0: Int, q0: Int, total: Int) {
    let W = VG.scalarCount
    let kH = p.kernelHeight, kW = p.kernelWidth
    let ck = p.inChannels &* kH &* kW
    var a = VG(), b = VG()
    let w0 = weights + (m0 &* ck)
    var idx = 0
    for c in 0..<p.inChannels {
        let base = padded + (c &* planeStride &+ q0)
        for kh in 0..<kH {
            let row = base + (kh &* p.dilationHeight &* width)
            for kw in 0..<kW {
                let s = row + (kw &* p.dilationWidth)
                let w = VG(repeating: w0[idx])
                a = madd(a, loadG(s), w)
                b = madd(b, loadG(s + W), w)
                idx &+= 1
            }
        }
    }
    let bv = bias?[m0] ?? 0
    scatterTile(epilogue(a, bv, relu), epilogue(b, bv, relu), q0: q0, total: total, width: width,
                outWidth: p.outWidth, plane: out + (m0 &* p.outHeight &* p.outWidth))
}

/// Direct convolution of the images in `batchRange`; `scratch` holds
/// `directConvScratchElements(p)` floats (per thread).
@usableFromInline
func directConv(_ p: ConvParams, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                bias: UnsafePointer<Float>?, activation: Activation,
                output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, batchRange: Range<Int>) {
    let (rows, width, planeStride) = directPaddedGeometry(p)
    let padded = UnsafeMutablePointer<Float>(bitPattern: (Int(bitPattern: scratch) &+ 63) & ~63)!
    let relu = activation == .relu
    let tile = directTileWidth
    let total = p.outHeight &* width
    let inImage = p.inChannels &* p.inHeight &* p.inWidth
    let outImage = p.outChannels &* p.outHeight &* p.outWidth
    let m4 = p.outChannels & ~3
    for b in batchRange {
        padImage(p, input + (b &* inImage), padded, rows: rows, width: width, planeStride: planeStride)
        let out = output + (b &* outImage)
        var m0 = 0
        while m0 < m4 {
            var q0 = 0
            while q0 < total {
                directTile4(p, padded: padded, width: width, planeStride: planeStride, weights: weights,
                            bias: bias, relu: relu, out: out, m0: m0, q0: q0, total: total)
                q0 &+= tile
            }
            m0 &+= 4
        }
        while m0 < p.outChannels {
            var q0 = 0
            while q0 < total {
                directTile1(p, padded: padded, width: width, planeStride: planeStride, weights: weights,
                            bias: bias, relu: relu, out: out, m0: m0, q0: q0, total: total)
                q0 &+= tile
            }
            m0 &+= 1
        }
    }
}
