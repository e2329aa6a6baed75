// 2-D max / average pooling over [planes, H, W] (planes = N*C). 1-D is height 1.

public struct PoolParams: Sendable, Equatable {
    public var planes: Int
    public var inHeight: Int
    public var inWidth: Int
    public var outHeight: Int
    public var outWidth: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var strideHeight: Int
    public var strideWidth: Int
    public var dilationHeight: Int
    public var dilationWidth: Int
    public var padTop: Int
    public var padLeft: Int
    public var padBottom: Int
    public var padRight: Int
    public var countIncludePad: Bool

    public init(planes: Int, inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int,
                kernelHeight: Int, kernelWidth: Int, strideHeight: Int = 1, strideWidth: Int = 1,
                dilationHeight: Int = 1, dilationWidth: Int = 1,
                padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0,
                countIncludePad: Bool = false) {
        self.planes = planes
        self.inHeight = inHeight
        self.inWidth = inWidth
        self.outHeight = outHeight
        self.outWidth = outWidth
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.dilationHeight = dilationHeight
        self.dilationWidth = dilationWidth
        self.padTop = padTop
        self.padLeft = padLeft
        self.padBottom = padBottom
        self.padRight = padRight
        self.countIncludePad = countIncludePad
    }
}

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

/// Max pooling; padding never wins (acts as -inf). A window with no input cell yields -inf.
/// NaN inputs propagate.
public func maxPool2D(_ p: PoolParams, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
    let inPlane = p.inHeight &* p.inWidth
    let outPlane = p.outHeight &* p.outWidth
    for pl in 0..<p.planes {
        let src = input + pl &* inPlane
        let dst = output + pl &* outPlane
        for oh in 0..<p.outHeight {
            let hs = oh &* p.strideHeight &- p.padTop
            let (khLo, khHi) = kernelRange(start: hs, dil: p.dilationHeight, k: p.kernelHeight, minC: 0, maxC: p.inHeight)
            for ow in 0..<p.outWidth {
                let ws = ow &* p.strideWidth &- p.padLeft
                let (kwLo, kwHi) = kernelRange(start: ws, dil: p.dilationWidth, k: p.kernelWidth, minC: 0, maxC: p.inWidth)
                var m: Float = -.infinity
                var kh = khLo
                while kh < khHi {
                    let row = src + ((hs &+ kh &* p.dilationHeight) &* p.inWidth &+ ws)
                    var kw = kwLo
                    while kw < kwHi { m = maxNaNScalar(m, row[kw &* p.dilationWidth]); kw &+= 1 }
                    kh &+= 1
                }
                dst[oh &* p.outWidth &+ ow] = m
            }
        }
    }
}

/// Average pooling. Divisor: cells inside the input (countIncludePad == false) or inside
/// input + explicit pads (true); cells beyond the explicit pads (ceil_mode overhang) never
/// count, like onnxruntime.
public func averagePool2D(_ p: PoolParams, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
    let inPlane = p.inHeight &* p.inWidth
    let outPlane = p.outHeight &* p.outWidth
    for pl in 0..<p.planes {
        let src = input + pl &* inPlane
        let dst = output + pl &* outPlane
        for oh in 0..<p.outHeight {
            let hs = oh &* p.strideHeight &- p.padTop
            let (khLo, khHi) = kernelRange(start: hs, dil: p.dilationHeight, k: p.kernelHeight, minC: 0, maxC: p.inHeight)
            var cntH = khHi &- khLo
            if p.countIncludePad {
                let (a, b) = kernelRange(start: hs, dil: p.dilationHeight, k: p.kernelHeight,
                                         minC: -p.padTop, maxC: p.inHeight &+ p.padBottom)
                cntH = b &- a
            }
            for ow in 0..<p.outWidth {
                let ws = ow &* p.strideWidth &- p.padLeft
                let (kwLo, kwHi) = kernelRange(start: ws, dil: p.dilationWidth, k: p.kernelWidth, minC: 0, maxC: p.inWidth)
                var cntW = kwHi &- kwLo
                if p.countIncludePad {
                    let (a, b) = kernelRange(start: ws, dil: p.dilationWidth, k: p.kernelWidth,
                                             minC: -p.padLeft, maxC: p.inWidth &+ p.padRight)
                    cntW = b &- a
                }
                var s: Float = 0
                var kh = khLo
                while kh < khHi {
                    let row = src + ((hs &+ kh &* p.dilationHeight) &* p.inWidth &+ ws)
                    var kw = kwLo
                    while kw < kwHi { s += row[kw &* p.dilationWidth]; kw &+= 1 }
                    kh &+= 1
                }
                let cnt = cntH &* cntW
                dst[oh &* p.outWidth &+ ow] = cnt > 0 ? s / Float(cnt) : 0
            }
        }
    }
}
