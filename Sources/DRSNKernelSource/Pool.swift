// 2-D max / average pooling over [planes, H, W] (planes = N*C). 1-D is height 1.

import DRSNKernelTypes

/// Kernel-index range [lo, hi) whose input coordinate start + k*dil lies in [minC, maxC).
@inline(__always)
func kernelRange(start: Int, dil: Int, k: Int, minC: Int, maxC: Int) -> (Int, Int) {
    // start + i*dil >= minC  -> i >= ceil((minC - start)/dil)
    // start + i*dil <  maxC  -> i <= floor((maxC - 1 - start)/dil)
    var lo = ceilDiv(minC &- start, dil)
    var hi = floorDiv(maxC &- 1 &- start, dil) &+ 1
    if lo < 0 { lo = 0 }
    if hi > k { hi = k }
    if hi < lo { hi = lo }
    return (lo, hi)
}

/// Output range [lo, hi) whose windows lie entirely inside the input (no range math needed).
@inline(__always)
func interiorRange(outSize: Int, inSize: Int, stride: Int, dil: Int, k: Int, pad: Int) -> (Int, Int) {
    var lo = ceilDiv(pad, stride)
    var hi = floorDiv(inSize &- 1 &- (k &- 1) &* dil &+ pad, stride) &+ 1
    if lo < 0 { lo = 0 }
    if lo > outSize { lo = outSize }
    if hi > outSize { hi = outSize }
    if hi < lo { hi = lo }
    return (lo, hi)
}

/// Visits every output cell of one plane with its valid kernel ranges and divisor counts.
/// body(oh, ow, hs, ws, khLo, khHi, kwLo, kwHi, count).
@inline(__always)
func forEachWindow(_ p: PoolParams, _ body: (Int, Int, Int, Int, Int, Int, Int, Int, Int) -> Void) {
    let (ihLo, ihHi) = interiorRange(outSize: p.outHeight, inSize: p.inHeight, stride: p.strideHeight,
                                     dil: p.dilationHeight, k: p.kernelHeight, pad: p.padTop)
    let (iwLo, iwHi) = interiorRange(outSize: p.outWidth, inSize: p.inWidth, stride: p.strideWidth,
                                     dil: p.dilationWidth, k: p.kernelWidth, pad: p.padLeft)
    for oh in 0..<p.outHeight {
        let hs = oh &* p.strideHeight &- p.padTop
        var khLo = 0, khHi = p.kernelHeight, cntH = p.kernelHeight
        if oh < ihLo || oh >= ihHi {
            (khLo, khHi) = kernelRange(start: hs, dil: p.dilationHeight, k: p.kernelHeight, minC: 0, maxC: p.inHeight)
            cntH = khHi &- khLo
            if p.countIncludePad {
                let (a, b) = kernelRange(start: hs, dil: p.dilationHeight, k: p.kernelHeight,
                                         minC: -p.padTop, maxC: p.inHeight &+ p.padBottom)
                cntH = b &- a
            }
        }
        @inline(__always) func edge(_ ow: Int) {
            let ws = ow &* p.strideWidth &- p.padLeft
            let (kwLo, kwHi) = kernelRange(start: ws, dil: p.dilationWidth, k: p.kernelWidth, minC: 0, maxC: p.inWidth)
            var cntW = kwHi &- kwLo
            if p.countIncludePad {
                let (a, b) = kernelRange(start: ws, dil: p.dilationWidth, k: p.kernelWidth,
                                         minC: -p.padLeft, maxC: p.inWidth &+ p.padRight)
                cntW = b &- a
            }
            body(oh, ow, hs, ws, khLo, khHi, kwLo, kwHi, cntH &* cntW)
        }
        var ow = 0
        while ow < iwLo { edge(ow); ow &+= 1 }
        let cntInterior = cntH &* p.kernelWidth
        while ow < iwHi {
            body(oh, ow, hs, ow &* p.strideWidth &- p.padLeft, khLo, khHi, 0, p.kernelWidth, cntInterior)
            ow &+= 1
        }
        while ow < p.outWidth { edge(ow); ow &+= 1 }
    }
}

extension ISAKernels {
    /// Max pooling; padding never wins (acts as -inf). A window with no input cell yields -inf.
    /// NaN inputs propagate.
    public static func maxPool2D(_ p: PoolParams, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        kernelPrecondition(p.isConsistent, "maxPool2D: inconsistent parameters \(p)")
        let inPlane = p.inHeight &* p.inWidth
        let outPlane = p.outHeight &* p.outWidth
        let dh = p.dilationHeight, dw = p.dilationWidth, inW = p.inWidth, outW = p.outWidth
        for pl in 0..<p.planes {
            let src = input + pl &* inPlane
            let dst = output + pl &* outPlane
            forEachWindow(p) { oh, ow, hs, ws, khLo, khHi, kwLo, kwHi, _ in
                var m: Float = -.infinity
                var kh = khLo
                while kh < khHi {
                    let row = src + ((hs &+ kh &* dh) &* inW &+ ws)
                    var kw = kwLo
                    while kw < kwHi { m = maxNaNScalar(m, row[kw &* dw]); kw &+= 1 }
                    kh &+= 1
                }
                dst[oh &* outW &+ ow] = m
            }
        }
    }
}

extension ISAKernels {
    /// Average pooling. Divisor: cells inside the input (countIncludePad == false) or inside
    /// input + explicit pads (true); cells beyond the explicit pads (ceil_mode overhang) never
    /// count, like onnxruntime. A window with a zero divisor yields 0.
    public static func averagePool2D(_ p: PoolParams, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        kernelPrecondition(p.isConsistent, "averagePool2D: inconsistent parameters \(p)")
        let inPlane = p.inHeight &* p.inWidth
        let outPlane = p.outHeight &* p.outWidth
        if p.kernelHeight == 1 && p.kernelWidth == 1 && p.padTop == 0 && p.padLeft == 0 && p.outHeight > 0 && p.outWidth > 0
            && (p.outHeight &- 1) &* p.strideHeight < p.inHeight && (p.outWidth &- 1) &* p.strideWidth < p.inWidth {
            // 1x1 window inside the input (the strided shortcut of a residual unit): every
            // window holds exactly one element, so the average is that element.
            subsample(p, input: input, output: output)
            return
        }
        let dh = p.dilationHeight, dw = p.dilationWidth, inW = p.inWidth, outW = p.outWidth
        for pl in 0..<p.planes {
            let src = input + pl &* inPlane
            let dst = output + pl &* outPlane
            forEachWindow(p) { oh, ow, hs, ws, khLo, khHi, kwLo, kwHi, cnt in
                var s: Float = 0
                var kh = khLo
                while kh < khHi {
                    let row = src + ((hs &+ kh &* dh) &* inW &+ ws)
                    var kw = kwLo
                    while kw < kwHi { s += row[kw &* dw]; kw &+= 1 }
                    kh &+= 1
                }
                dst[oh &* outW &+ ow] = cnt > 0 ? s / Float(cnt) : 0
            }
        }
    }
}

/// out[oh, ow] = in[oh * strideHeight, ow * strideWidth] per plane (1x1 pooling windows).
@inline(__always)
func subsample(_ p: PoolParams, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
    let inPlane = p.inHeight &* p.inWidth, outPlane = p.outHeight &* p.outWidth
    let inW = p.inWidth, outW = p.outWidth, sH = p.strideHeight, sW = p.strideWidth
    for pl in 0..<p.planes {
        let src = input + pl &* inPlane
        let dst = output + pl &* outPlane
        for oh in 0..<p.outHeight {
            let s = src + oh &* sH &* inW
            let d = dst + oh &* outW
            var ow = 0
            if sW == 1 {
                copySegment(s, d, outW)
                continue
            }
            if sW == 2 {
                // Even elements of 16-float loads; the last load must end inside the row.
                while ow &+ 8 <= outW && 2 &* ow &+ 16 <= inW {
                    store8(load16(s + 2 &* ow).evenHalf, d + ow)
                    ow &+= 8
                }
            }
            while ow < outW {
                d[ow] = s[ow &* sW]
                ow &+= 1
            }
        }
    }
}
