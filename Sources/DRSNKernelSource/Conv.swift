// 2-D convolution (NCHW, weights [outC, inC/groups, kH, kW]); 1-D is height 1.

import DRSNKernelTypes

@usableFromInline
enum ConvPath { case depthwise, pointwise, im2col }

@inline(__always) @usableFromInline
func convPath(_ p: ConvParams) -> ConvPath {
    let cg = p.inChannels / max(p.groups, 1)
    if cg == 1 && p.groups > 1 { return .depthwise }
    if p.kernelHeight == 1 && p.kernelWidth == 1 && p.strideHeight == 1 && p.strideWidth == 1
        && p.padTop == 0 && p.padLeft == 0 && p.outHeight == p.inHeight && p.outWidth == p.inWidth {
        return .pointwise
    }
    return .im2col
}

extension ISAKernels {
    /// Floats of scratch one `conv2D` call needs (independent of the batch range). When work
    /// is split over threads with `batchRange`, every thread needs its own scratch of this size.
    public static func convScratchElements(_ p: ConvParams) -> Int {
        let g = max(p.groups, 1)
        let m = p.outChannels / g
        let n = p.outHeight &* p.outWidth
        let k = (p.inChannels / g) &* p.kernelHeight &* p.kernelWidth
        if directConvApplies(p) { return directConvScratchElements(p) }
        switch convPath(p) {
        case .depthwise:
            return 0
        case .pointwise:
            return sgemmScratchElements(m: m, n: n, k: k)
        case .im2col:
            // No column matrix: the GEMM packs its B panels straight from the input.
            return sgemmScratchElements(m: m, n: min(n, gemmNC), k: k)
        }
    }
}

extension ISAKernels {
    /// Convolution over the whole batch. `scratch` holds `convScratchElements(p)` floats.
    public static func conv2D(_ p: ConvParams, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                              bias: UnsafePointer<Float>?, activation: Activation,
                              output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        conv2D(p, input: input, weights: weights, bias: bias, activation: activation,
               output: output, scratch: scratch, batchRange: 0..<p.batch)
    }
}

extension ISAKernels {
    /// Convolution of the images in `batchRange` only. `input`/`output` are the base pointers
    /// of the full tensors. Threads splitting the batch must each pass their own scratch of
    /// `convScratchElements(p)` floats; everything else may be shared (read-only).
    public static func conv2D(_ p: ConvParams, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                              bias: UnsafePointer<Float>?, activation: Activation,
                              output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                              batchRange: Range<Int>) {
        kernelPrecondition(p.isConsistent, "conv2D: inconsistent parameters \(p)")
        kernelPrecondition(batchRange.lowerBound >= 0 && batchRange.upperBound <= p.batch,
                           "conv2D: batchRange \(batchRange) outside 0..<\(p.batch)")
        if batchRange.isEmpty || p.outChannels == 0 || p.outHeight == 0 || p.outWidth == 0 { return }
        if directConvApplies(p) {
            directConv(p, input: input, weights: weights, bias: bias, activation: activation, output: output,
                       scratch: scratch, batchRange: batchRange, channelRange: 0..<p.outChannels, fusion: ConvFusion())
            return
        }
        let g = max(p.groups, 1)
        let cg = p.inChannels / g
        let mg = p.outChannels / g
        let n = p.outHeight &* p.outWidth
        let k = cg &* p.kernelHeight &* p.kernelWidth
        let inPlane = p.inHeight &* p.inWidth
        let path = convPath(p)

        if path == .depthwise {
            for b in batchRange {
                depthwise(p, input: input + b &* p.inChannels &* inPlane, weights: weights, bias: bias,
                          activation: activation, output: output + b &* p.outChannels &* n)
            }
            return
        }

        if path == .pointwise {
            for b in batchRange {
                for gi in 0..<g {
                    let inG = input + (b &* p.inChannels &+ gi &* cg) &* inPlane
                    let outG = output + (b &* p.outChannels &+ gi &* mg) &* n
                    sgemm(transA: false, transB: false, m: mg, n: n, k: k, alpha: 1,
                          a: weights + gi &* mg &* k, lda: k, b: inG, ldb: n, beta: 0, c: outG, ldc: n,
                          scratch: scratch)
                    biasActivation(outG, rows: mg, cols: n, ld: n, bias: bias.map { $0 + gi &* mg },
                                   activation: activation)
                }
            }
            return
        }

        // Implicit im2col: GEMM over blocks of gemmNC output positions whose B panels are
        // packed directly from the input; each block's bias/activation runs while it is hot.
        for b in batchRange {
            for gi in 0..<g {
                let inG = input + (b &* p.inChannels &+ gi &* cg) &* inPlane
                let outG = output + (b &* p.outChannels &+ gi &* mg) &* n
                let wG = weights + gi &* mg &* k
                var j0 = 0
                while j0 < n {
                    let cols = min(gemmNC, n &- j0)
                    if k == 0 {
                        for r in 0..<mg { fill(outG + (r &* n &+ j0), cols, 0) }
                    } else {
                        gemmPackedB(transA: false, m: mg, n: cols, k: k, alpha: 1, a: wG, lda: k, beta: 0,
                                    c: outG + j0, ldc: n, scratch: scratch) { pc, kc, jc, nc, dst in
                            packConvPanel(p, input: inG, pc: pc, kc: kc, j0: j0 &+ jc, nc: nc, dst: dst)
                        }
                    }
                    biasActivation(outG + j0, rows: mg, cols: cols, ld: n, bias: bias.map { $0 + gi &* mg },
                                   activation: activation)
                    j0 &+= cols
                }
            }
        }
    }
}

extension ISAKernels {
    /// Output channels per unit when one convolution is split over threads by output channel
    /// (`conv2D(..., batchRange:channelRange:)`): channel ranges should start at multiples of
    /// it. 0 when these parameters do not support a channel split (split the batch only).
    public static func convChannelBlock(_ p: ConvParams) -> Int {
        directChannelBlock(p)
    }
}

extension ISAKernels {
    /// Convolution of the images in `batchRange`, output channels `channelRange` only. Only for
    /// parameters with `convChannelBlock(p) > 0` (any other parameters compute all channels
    /// when `channelRange` starts at 0 and nothing otherwise). Threads splitting the work must
    /// each pass their own scratch of `convScratchElements(p)` floats. `fusion` (see
    /// `ConvFusion`): a prologue only when `convSupportsFusion(p)`; pre-packed weights are used
    /// only there; `absMean` is always honoured.
    public static func conv2D(_ p: ConvParams, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                              bias: UnsafePointer<Float>?, activation: Activation,
                              output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                              batchRange: Range<Int>, channelRange: Range<Int>, fusion: ConvFusion) {
        kernelPrecondition(p.isConsistent, "conv2D: inconsistent parameters \(p)")
        kernelPrecondition(batchRange.lowerBound >= 0 && batchRange.upperBound <= p.batch,
                           "conv2D: batchRange \(batchRange) outside 0..<\(p.batch)")
        kernelPrecondition(channelRange.lowerBound >= 0, "conv2D: channelRange \(channelRange) starts below 0")
        if batchRange.isEmpty || p.outChannels == 0 || p.outHeight == 0 || p.outWidth == 0 { return }
        if directConvApplies(p) {
            let lo = max(channelRange.lowerBound, 0), hi = min(channelRange.upperBound, p.outChannels)
            if lo >= hi { return }
            directConv(p, input: input, weights: weights, bias: bias, activation: activation, output: output,
                       scratch: scratch, batchRange: batchRange, channelRange: lo..<hi, fusion: fusion)
            return
        }
        kernelPrecondition(!fusion.hasPrologue, "conv2D: a prologue needs convSupportsFusion(p)")
        if channelRange.lowerBound > 0 { return }
        conv2D(p, input: input, weights: weights, bias: bias, activation: activation, output: output,
               scratch: scratch, batchRange: batchRange)
        if let am = fusion.absMean {
            let plane = p.outHeight &* p.outWidth
            for b in batchRange {
                absMean(input: output + b &* p.outChannels &* plane, output: am + b &* p.outChannels,
                        planes: p.outChannels, planeSize: plane)
            }
        }
    }
}

extension ISAKernels {
    /// Whether `conv2D` applies a `ConvFusion` prologue and pre-packed weights for these parameters.
    public static func convSupportsFusion(_ p: ConvParams) -> Bool {
        directConvApplies(p)
    }
}

extension ISAKernels {
    /// Whether `conv2D` computes these parameters with Winograd F(2x2, 3x3) (its packed weights
    /// are transformed filters, not the direct kernel's layout).
    public static func convUsesWinograd(_ p: ConvParams) -> Bool {
        winogradApplies(p)
    }
}

extension ISAKernels {
    /// Floats of pre-packed weights for these parameters (0 when the path packs nothing).
    public static func convPackedWeightsCount(_ p: ConvParams) -> Int {
        directPackedWeightsCount(p)
    }
}

extension ISAKernels {
    /// Writes `convPackedWeightsCount(p)` floats of packed weights (for `ConvFusion.packedWeights`
    /// of this same ISA variant) from weights [outC, inC, kH, kW].
    public static func packConvWeights(_ p: ConvParams, weights: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        kernelPrecondition(p.isConsistent, "packConvWeights: inconsistent parameters \(p)")
        directPackWeights(p, weights: weights, output: output)
    }
}

@inline(__always)
func biasActivation(_ c: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int,
                    bias: UnsafePointer<Float>?, activation: Activation) {
    if bias == nil && activation == .none { return }
    let relu = activation == .relu
    for r in 0..<rows {
        let row = c + r &* ld
        let bv: Float = bias.map { $0[r] } ?? 0
        let vb = V8(repeating: bv)
        var j = 0
        if relu {
            let z = V8()
            while j &+ 8 <= cols {
                let v = load8(row + j) + vb
                store8(v.replacing(with: z, where: v .< z), row + j)
                j &+= 8
            }
            while j < cols { let v = row[j] + bv; row[j] = v < 0 ? 0 : v; j &+= 1 }
        } else {
            while j &+ 8 <= cols { store8(load8(row + j) + vb, row + j); j &+= 8 }
            while j < cols { row[j] += bv; j &+= 1 }
        }
    }
}

/// Valid output range [lo, hi) along one axis for kernel offset `off` (= k*dilation - pad).
@inline(__always)
func validRange(outSize: Int, inSize: Int, stride: Int, off: Int) -> (Int, Int) {
    // need 0 <= o*stride + off < inSize
    var lo = ceilDiv(-off, stride)
    var hi = floorDiv(inSize &- 1 &- off, stride) &+ 1
    if lo < 0 { lo = 0 }
    if hi > outSize { hi = outSize }
    if hi < lo { hi = lo }
    return (lo, hi)
}

/// Packs the implicit column matrix (rows (c, kh, kw) = pc ..< pc+kc, columns = output
/// positions j0 ..< j0+nc in (outH, outW) order) into gemmNR-wide strips, as `BPacker`.
func packConvPanel(_ p: ConvParams, input: UnsafePointer<Float>, pc: Int, kc: Int, j0: Int, nc: Int,
                   dst: UnsafeMutablePointer<Float>) {
    let NR = gemmNR
    let oh = p.outHeight, ow = p.outWidth
    let kW = p.kernelWidth
    let kArea = p.kernelHeight &* kW
    let inPlane = p.inHeight &* p.inWidth
    let sw = p.strideWidth
    let stripStride = kc &* NR
    if nc % NR != 0 { fill(dst + (nc / NR) &* stripStride, stripStride, 0) }
    let yFirst = j0 / ow, xFirst = j0 % ow
    var ch = pc / kArea
    var kh = (pc % kArea) / kW
    var kw = pc % kW
    for pl in 0..<kc {
        let plane = input + ch &* inPlane
        let offH = kh &* p.dilationHeight &- p.padTop
        let offW = kw &* p.dilationWidth &- p.padLeft
        let (hLo, hHi) = validRange(outSize: oh, inSize: p.inHeight, stride: p.strideHeight, off: offH)
        let (wLo, wHi) = validRange(outSize: ow, inSize: p.inWidth, stride: sw, off: offW)
        let row = dst + pl &* NR

        /// Writes `count` values for local columns l ..< l+count: src[t*sw] or zeros.
        @inline(__always) func emit(_ l0: Int, _ count: Int, _ src: UnsafePointer<Float>?) {
            var l = l0
            var t = 0
            while t < count {
                let inStrip = l & (NR &- 1)
                let chunk = min(NR &- inStrip, count &- t)
                let d = row + ((l / NR) &* stripStride &+ inStrip)
                var u = 0
                if let src {
                    let s = src + t &* sw
                    if sw == 1 {
                        while u &+ 8 <= chunk { store8(load8(s + u), d + u); u &+= 8 }
                        while u < chunk { d[u] = s[u]; u &+= 1 }
                    } else {
                        while u < chunk { d[u] = s[u &* sw]; u &+= 1 }
                    }
                } else {
                    while u &+ 8 <= chunk { store8(V8(), d + u); u &+= 8 }
                    while u < chunk { d[u] = 0; u &+= 1 }
                }
                l &+= chunk
                t &+= chunk
            }
        }

        var l = 0
        var y = yFirst, x0 = xFirst
        while l < nc {
            let x1 = min(ow, x0 &+ (nc &- l))
            if y >= hLo && y < hHi {
                let lo = min(max(wLo, x0), x1)
                let hi = max(min(wHi, x1), lo)
                if lo > x0 { emit(l, lo &- x0, nil) }
                if hi > lo {
                    let srcRow = plane + ((y &* p.strideHeight &+ offH) &* p.inWidth &+ lo &* sw &+ offW)
                    emit(l &+ (lo &- x0), hi &- lo, srcRow)
                }
                if x1 > hi { emit(l &+ (hi &- x0), x1 &- hi, nil) }
            } else {
                emit(l, x1 &- x0, nil)
            }
            l &+= x1 &- x0
            x0 = 0
            y &+= 1
        }
        kw &+= 1
        if kw == kW {
            kw = 0
            kh &+= 1
            if kh == p.kernelHeight { kh = 0; ch &+= 1 }
        }
    }
}

/// Depthwise (inC/groups == 1): each output channel oc reads input channel oc / multiplier.
func depthwise(_ p: ConvParams, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
               bias: UnsafePointer<Float>?, activation: Activation, output: UnsafeMutablePointer<Float>) {
    let oh = p.outHeight, ow = p.outWidth
    let mult = p.outChannels / p.groups
    let inPlane = p.inHeight &* p.inWidth
    let kArea = p.kernelHeight &* p.kernelWidth
    for oc in 0..<p.outChannels {
        let plane = input + (oc / mult) &* inPlane
        let w = weights + oc &* kArea
        let out = output + oc &* oh &* ow
        fill(out, oh &* ow, bias.map { $0[oc] } ?? 0)
        for kh in 0..<p.kernelHeight {
            let offH = kh &* p.dilationHeight &- p.padTop
            let (hLo, hHi) = validRange(outSize: oh, inSize: p.inHeight, stride: p.strideHeight, off: offH)
            if hLo >= hHi { continue }
            for kw in 0..<p.kernelWidth {
                let offW = kw &* p.dilationWidth &- p.padLeft
                let (wLo, wHi) = validRange(outSize: ow, inSize: p.inWidth, stride: p.strideWidth, off: offW)
                if wLo >= wHi { continue }
                let wv = w[kh &* p.kernelWidth &+ kw]
                let vw = V8(repeating: wv)
                for y in hLo..<hHi {
                    let dst = out + y &* ow
                    let srcRow = plane + (y &* p.strideHeight &+ offH) &* p.inWidth
                    if p.strideWidth == 1 {
                        let s = srcRow + offW
                        var x = wLo
                        while x &+ 8 <= wHi {
                            store8(madd(load8(dst + x), load8(s + x), vw), dst + x)
                            x &+= 8
                        }
                        while x < wHi { dst[x] += s[x] * wv; x &+= 1 }
                    } else {
                        let sw = p.strideWidth
                        var x = wLo
                        var s = srcRow + (wLo &* sw &+ offW)
                        while x < wHi { dst[x] += s[0] * wv; s += sw; x &+= 1 }
                    }
                }
            }
        }
        if activation == .relu {
            biasActivation(out, rows: 1, cols: oh &* ow, ld: 0, bias: nil, activation: .relu)
        }
    }
}
