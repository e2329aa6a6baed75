// Transposed convolution (ONNX ConvTranspose, NCHW; 1-D is height 1).
//
// The parameters are a `ConvParams` read the transposed way: `inChannels`, `inHeight`,
// `inWidth` describe the input X [N, C, H, W], `outChannels`, `outHeight`, `outWidth` the
// output Y [N, M, outH, outW]; weights are [C, M / groups, kH, kW]; `padTop` / `padLeft` are
// the pads at the beginning of each axis (the end pads are implied by the output size). Input
// position (ih, iw) and tap (kh, kw) contribute to output position
//
//     oh = ih * strideHeight - padTop + kh * dilationHeight,  ow likewise,
//
// so y[b, g * Mg + m, oh, ow] = bias[m] + sum over c of group g and the taps landing there of
// x[b, c, ih, iw] * w[c, m, kh, kw]. Positions outside the output (pads) are dropped;
// output positions no tap reaches (output_padding, a larger output_shape) hold the bias.
//
// Computed as GEMM + col2im: for each image and group, cols[(m, kh, kw), j] = sum over c of
// w[c, (m, kh, kw)] * x[c, j] over a block of input positions j (the packed sgemm with A
// transposed: the weights are read in their ONNX order, nothing is repacked at load), then
// every row of cols is scatter-added into the output plane of its channel at its tap's
// offset (contiguous vector adds for stride 1, strided adds otherwise).

import DRSNKernelTypes

/// Input positions per GEMM block: the column block of `cols` stays near 128 KB.
@inline(__always)
func convTransposeBlock(_ p: ConvParams) -> Int {
    let rows = max(1, (p.outChannels / max(p.groups, 1)) &* p.kernelHeight &* p.kernelWidth)
    let plane = p.inHeight &* p.inWidth
    return max(1, min(plane, max(64, 32_768 / rows)))
}

extension ISAKernels {
    /// Floats of scratch one `convTranspose` call needs (per thread when the work is split):
    /// one block of columns plus the GEMM's packing buffers.
    public static func convTransposeScratchElements(_ p: ConvParams) -> Int {
        let g = max(p.groups, 1)
        let rows = (p.outChannels / g) &* p.kernelHeight &* p.kernelWidth
        let block = convTransposeBlock(p)
        return rows &* block &+ sgemmScratchElements(m: rows, n: block, k: p.inChannels / g)
    }
}

extension ISAKernels {
    /// ConvTranspose of images `batchRange`, output channels `channelRange` (any sub-range of
    /// 0..<outChannels; it may cut across groups). `input` / `output` are the base pointers of
    /// the full tensors, `weights` [inChannels, outChannels / groups, kH, kW], `bias` nil or
    /// `outChannels` floats. Writes every element of the selected output planes. Threads
    /// splitting the work pass their own scratch of `convTransposeScratchElements(p)` floats.
    public static func convTranspose(_ p: ConvParams, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                                     bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                                     scratch: UnsafeMutablePointer<Float>, batchRange: Range<Int>,
                                     channelRange: Range<Int>) {
        kernelPrecondition(p.isConsistent, "convTranspose: inconsistent parameters \(p)")
        kernelPrecondition(batchRange.lowerBound >= 0 && batchRange.upperBound <= p.batch,
                           "convTranspose: batchRange \(batchRange) outside 0..<\(p.batch)")
        kernelPrecondition(channelRange.lowerBound >= 0 && channelRange.upperBound <= p.outChannels,
                           "convTranspose: channelRange \(channelRange) outside 0..<\(p.outChannels)")
        let outPlane = p.outHeight &* p.outWidth
        if batchRange.isEmpty || channelRange.isEmpty || outPlane == 0 { return }
        let g = max(p.groups, 1)
        let cg = p.inChannels / g
        let mg = p.outChannels / g
        let taps = p.kernelHeight &* p.kernelWidth
        let inPlane = p.inHeight &* p.inWidth
        let block = convTransposeBlock(p)
        let cols = scratch
        let gemmScratch = scratch + mg &* taps &* block
        for b in batchRange {
            for m in channelRange {
                var value: Float = 0
                if let bias { value = bias[m] }
                fill(output + (b &* p.outChannels &+ m) &* outPlane, outPlane, value)
            }
            if cg == 0 || inPlane == 0 || taps == 0 { continue }
            var gi = channelRange.lowerBound / max(mg, 1)
            while gi < g && gi &* mg < channelRange.upperBound {
                let m0 = max(channelRange.lowerBound, gi &* mg) &- gi &* mg
                let m1 = min(channelRange.upperBound, (gi &+ 1) &* mg) &- gi &* mg
                let x = input + (b &* p.inChannels &+ gi &* cg) &* inPlane
                let w = weights + (gi &* cg &* mg &* taps &+ m0 &* taps)
                let y = output + (b &* p.outChannels &+ gi &* mg &+ m0) &* outPlane
                var j0 = 0
                while j0 < inPlane {
                    let n = min(block, inPlane &- j0)
                    sgemm(transA: true, transB: false, m: (m1 &- m0) &* taps, n: n, k: cg, alpha: 1, a: w,
                          lda: mg &* taps, b: x + j0, ldb: inPlane, beta: 0, c: cols, ldc: n, scratch: gemmScratch)
                    col2imAdd(p, cols: UnsafePointer(cols), n: n, j0: j0, channels: m1 &- m0, output: y)
                    j0 &+= n
                }
                gi &+= 1
            }
        }
    }
}

/// Scatter-adds a block of columns (rows (m, kh, kw) for `channels` channels, `n` columns =
/// input positions j0 ..< j0 + n, row-major with row length n) into the output planes
/// starting at `output` (channel m at m * outH * outW).
@inline(__always)
func col2imAdd(_ p: ConvParams, cols: UnsafePointer<Float>, n: Int, j0: Int, channels: Int,
               output: UnsafeMutablePointer<Float>) {
    let inW = p.inWidth, outW = p.outWidth, outH = p.outHeight
    let sh = p.strideHeight, sw = p.strideWidth
    let outPlane = outH &* outW
    let ih0 = j0 / inW, ih1 = (j0 &+ n &- 1) / inW
    var row = cols
    for m in 0..<channels {
        let plane = output + m &* outPlane
        for kh in 0..<p.kernelHeight {
            let offH = kh &* p.dilationHeight &- p.padTop
            for kw in 0..<p.kernelWidth {
                defer { row += n }
                let offW = kw &* p.dilationWidth &- p.padLeft
                // Input columns whose output column lies in 0 ..< outW.
                let iwLo = max(0, ceilDiv(-offW, sw))
                let iwHi = min(inW, floorDiv(outW &- 1 &- offW, sw) &+ 1)
                if iwLo >= iwHi { continue }
                var ih = ih0
                while ih <= ih1 {
                    let oh = ih &* sh &+ offH
                    if oh >= 0 && oh < outH {
                        let rowStart = ih &* inW
                        let a = max(iwLo, j0 &- rowStart), e = min(iwHi, j0 &+ n &- rowStart)
                        if a < e {
                            let src = row + (rowStart &+ a &- j0)
                            let dst = plane + (oh &* outW &+ a &* sw &+ offW)
                            if sw == 1 {
                                scatterAddContiguous(dst, src, e &- a)
                            } else {
                                var i = 0
                                let cnt = e &- a
                                while i < cnt { dst[i &* sw] += src[i]; i &+= 1 }
                            }
                        }
                    }
                    ih &+= 1
                }
            }
        }
    }
}

/// dst[i] += src[i] for i in 0..<count.
@inline(__always)
func scatterAddContiguous(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ count: Int) {
    var i = 0
    while i &+ 16 <= count {
        store8(load8(dst + i) + load8(src + i), dst + i)
        store8(load8(dst + (i &+ 8)) + load8(src + (i &+ 8)), dst + (i &+ 8))
        i &+= 16
    }
    while i &+ 8 <= count { store8(load8(dst + i) + load8(src + i), dst + i); i &+= 8 }
    while i < count { dst[i] += src[i]; i &+= 1 }
}
