import XCTest
import DRSNKernels

/// Naive ConvTranspose by its definition: input (ih, iw) and tap (kh, kw) land on output
/// (ih * sh - padTop + kh * dh, iw * sw - padLeft + kw * dw); outside positions are dropped.
func refConvTranspose(_ p: ConvParams, input: [Float], weights: [Float], bias: [Float]?) -> [Float] {
    let g = p.groups, cg = p.inChannels / g, mg = p.outChannels / g
    var y = [Double](repeating: 0, count: p.batch * p.outChannels * p.outHeight * p.outWidth)
    for b in 0..<p.batch {
        for c in 0..<p.inChannels {
            let gi = c / cg
            for ih in 0..<p.inHeight {
                for iw in 0..<p.inWidth {
                    let xi: Int = ((b * p.inChannels + c) * p.inHeight + ih) * p.inWidth + iw
                    let xv = Double(input[xi])
                    for m in 0..<mg {
                        for kh in 0..<p.kernelHeight {
                            let oh = ih * p.strideHeight - p.padTop + kh * p.dilationHeight
                            guard oh >= 0 && oh < p.outHeight else { continue }
                            for kw in 0..<p.kernelWidth {
                                let ow = iw * p.strideWidth - p.padLeft + kw * p.dilationWidth
                                guard ow >= 0 && ow < p.outWidth else { continue }
                                let wi: Int = ((c * mg + m) * p.kernelHeight + kh) * p.kernelWidth + kw
                                let channel: Int = b * p.outChannels + gi * mg + m
                                let yi: Int = (channel * p.outHeight + oh) * p.outWidth + ow
                                y[yi] += xv * Double(weights[wi])
                            }
                        }
                    }
                }
            }
        }
    }
    if let bias {
        let plane = p.outHeight * p.outWidth
        for i in 0..<y.count { y[i] += Double(bias[(i / plane) % p.outChannels]) }
    }
    return y.map { Float($0) }
}

final class ConvTransposeTests: XCTestCase {
    func check(_ p: ConvParams, bias: Bool, seed: UInt64, channelSplit: Int = 1,
               file: StaticString = #filePath, line: UInt = #line) {
        var rng = RNG(seed: seed)
        let x = rng.floats(p.batch * p.inChannels * p.inHeight * p.inWidth)
        let w = rng.floats(p.inChannels * (p.outChannels / p.groups) * p.kernelHeight * p.kernelWidth)
        let bv: [Float]? = bias ? rng.floats(p.outChannels) : nil
        let expected = refConvTranspose(p, input: x, weights: w, bias: bv)
        var y = [Float](repeating: .nan, count: expected.count)
        var scratch = [Float](repeating: .nan, count: activeKernels.convTransposeScratchElements(p) + 1)
        let b = bv ?? [0]
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                b.withUnsafeBufferPointer { bp in
                    y.withUnsafeMutableBufferPointer { yp in
                        scratch.withUnsafeMutableBufferPointer { sp in
                            // Images one at a time, channels in `channelSplit` parts (as threads split them).
                            for image in 0..<p.batch {
                                for part in 0..<channelSplit {
                                    let channels = (part * p.outChannels / channelSplit)..<((part + 1) * p.outChannels / channelSplit)
                                    activeKernels.convTranspose(p, input: xp.baseAddress!, weights: wp.baseAddress!,
                                                                bias: bias ? bp.baseAddress! : nil, output: yp.baseAddress!,
                                                                scratch: sp.baseAddress!, batchRange: image..<(image + 1),
                                                                channelRange: channels)
                                }
                            }
                        }
                    }
                }
            }
        }
        assertClose(y, expected, tol: 1e-4, relative: true, "\(p)", file: file, line: line)
    }

    /// Output size with explicit pads: (in - 1) * s + op + (k - 1) * d + 1 - pads.
    func make(batch: Int, c: Int, h: Int, w: Int, oc: Int, kh: Int, kw: Int, sh: Int = 1, sw: Int = 1, dh: Int = 1,
              dw: Int = 1, pt: Int = 0, pl: Int = 0, pb: Int = 0, pr: Int = 0, oph: Int = 0, opw: Int = 0,
              g: Int = 1) -> ConvParams {
        ConvParams(batch: batch, inChannels: c, inHeight: h, inWidth: w, outChannels: oc,
                   outHeight: (h - 1) * sh + oph + (kh - 1) * dh + 1 - pt - pb,
                   outWidth: (w - 1) * sw + opw + (kw - 1) * dw + 1 - pl - pr,
                   kernelHeight: kh, kernelWidth: kw, strideHeight: sh, strideWidth: sw,
                   dilationHeight: dh, dilationWidth: dw, padTop: pt, padLeft: pl, groups: g)
    }

    func testOneD() {
        check(make(batch: 2, c: 3, h: 1, w: 9, oc: 4, kh: 1, kw: 3), bias: true, seed: 1)
        check(make(batch: 1, c: 4, h: 1, w: 33, oc: 2, kh: 1, kw: 4, sw: 2, pl: 1, pr: 1), bias: false, seed: 2)
        check(make(batch: 3, c: 2, h: 1, w: 7, oc: 5, kh: 1, kw: 5, sw: 3, dw: 2, pl: 2, pr: 0, opw: 1), bias: true, seed: 3)
    }

    func testTwoD() {
        check(make(batch: 2, c: 3, h: 5, w: 6, oc: 4, kh: 3, kw: 3), bias: true, seed: 4)
        check(make(batch: 1, c: 5, h: 7, w: 4, oc: 3, kh: 4, kw: 2, sh: 2, sw: 3, pt: 1, pl: 0, pb: 2, pr: 1, oph: 1, opw: 2),
              bias: true, seed: 5)
        check(make(batch: 1, c: 2, h: 6, w: 6, oc: 2, kh: 3, kw: 3, dh: 2, dw: 3, pt: 2, pl: 3, pb: 1, pr: 0), bias: false, seed: 6)
    }

    func testGroupsAndChannelSplits() {
        let p = make(batch: 2, c: 6, h: 5, w: 7, oc: 9, kh: 3, kw: 2, sh: 2, sw: 1, pt: 1, pb: 1, g: 3)
        for parts in [1, 2, 4, 9] { check(p, bias: true, seed: 7, channelSplit: parts) }
        check(make(batch: 1, c: 4, h: 1, w: 20, oc: 4, kh: 1, kw: 3, sw: 2, pl: 1, pr: 1, opw: 1, g: 4), bias: true,
              seed: 8, channelSplit: 3)
    }

    func testBlockedColumns() {
        // more input positions than one column block: the GEMM runs in blocks that cut rows
        check(make(batch: 1, c: 3, h: 1, w: 3000, oc: 16, kh: 1, kw: 8, sw: 2, pl: 3, pr: 3), bias: true, seed: 9)
        check(make(batch: 1, c: 2, h: 45, w: 37, oc: 24, kh: 4, kw: 4, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1),
              bias: false, seed: 10)
    }
}
