import XCTest
import DRSNKernels

func refGemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: [Float], lda: Int,
             b: [Float], ldb: Int, beta: Float, c: [Float], ldc: Int) -> [Float] {
    var out = c
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let av = transA ? a[p * lda + i] : a[i * lda + p]
                let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                s += Double(av) * Double(bv)
            }
            let old = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
            out[i * ldc + j] = Float(Double(alpha) * s + old)
        }
    }
    return out
}

func refConv(_ p: ConvParams, input: [Float], weights: [Float], bias: [Float]?, relu: Bool) -> [Float] {
    var out = [Float](repeating: 0, count: p.batch * p.outChannels * p.outHeight * p.outWidth)
    let cg = p.inChannels / p.groups, mg = p.outChannels / p.groups
    for b in 0..<p.batch {
        for oc in 0..<p.outChannels {
            let g = oc / mg
            for oh in 0..<p.outHeight {
                for ow in 0..<p.outWidth {
                    var s = Double(bias?[oc] ?? 0)
                    for c in 0..<cg {
                        let ic = g * cg + c
                        for kh in 0..<p.kernelHeight {
                            let ih = oh * p.strideHeight - p.padTop + kh * p.dilationHeight
                            if ih < 0 || ih >= p.inHeight { continue }
                            for kw in 0..<p.kernelWidth {
                                let iw = ow * p.strideWidth - p.padLeft + kw * p.dilationWidth
                                if iw < 0 || iw >= p.inWidth { continue }
                                let x = input[((b * p.inChannels + ic) * p.inHeight + ih) * p.inWidth + iw]
                                let w = weights[((oc * cg + c) * p.kernelHeight + kh) * p.kernelWidth + kw]
                                s += Double(x) * Double(w)
                            }
                        }
                    }
                    if relu && s < 0 { s = 0 }
                    out[((b * p.outChannels + oc) * p.outHeight + oh) * p.outWidth + ow] = Float(s)
                }
            }
        }
    }
    return out
}

final class GemmTests: XCTestCase {
    func runGemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float,
                 pad: Int = 0, seed: UInt64, useScratch: Bool = false) {
        var rng = RNG(seed: seed)
        let lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad
        let a = rng.floats(max((transA ? k : m) * lda, 1))
        let b = rng.floats(max((transB ? n : k) * ldb, 1))
        var c = rng.floats(max(m * ldc, 1))
        if beta == 0 { for i in 0..<c.count where i % 3 == 0 { c[i] = .nan } }
        let expected = refGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                               b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        var got = c
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                got.withUnsafeMutableBufferPointer { cp in
                    if useScratch {
                        var s = [Float](repeating: .nan, count: activeKernels.sgemmScratchElements(m: m, n: n, k: k) + 1)
                        s.withUnsafeMutableBufferPointer { sp in
                            activeKernels.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                                a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb, beta: beta,
                                                c: cp.baseAddress!, ldc: ldc, scratch: sp.baseAddress!)
                        }
                    } else {
                        activeKernels.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                            a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb, beta: beta,
                                            c: cp.baseAddress!, ldc: ldc)
                    }
                }
            }
        }
        // Only the m x n window is defined when beta == 0 and the padding holds NaN.
        var g2 = [Float](), e2 = [Float]()
        for i in 0..<m { for j in 0..<ldc { g2.append(got[i * ldc + j]); e2.append(j < n ? expected[i * ldc + j] : c[i * ldc + j]) } }
        assertClose(g2, e2, tol: 1e-4 * Float(max(1, k)).squareRoot(), relative: true,
                    "m=\(m) n=\(n) k=\(k) tA=\(transA) tB=\(transB) alpha=\(alpha) beta=\(beta)")
    }

    func testSmallAndOddSizes() {
        let sizes = [1, 2, 3, 5, 7, 16, 17, 31, 33, 65]
        var seed: UInt64 = 1
        for m in sizes {
            for n in [1, 3, 7, 16, 17, 33] {
                for k in [0, 1, 3, 17, 64] {
                    seed += 1
                    runGemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, beta: 0, seed: seed)
                }
            }
        }
    }

    func testTransposesAlphaBetaLd() {
        var seed: UInt64 = 100
        for tA in [false, true] {
            for tB in [false, true] {
                for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1), (-2, 0.25), (1, 1)] {
                    for (m, n, k) in [(7, 13, 5), (13, 31, 29), (6, 16, 1), (65, 17, 33)] {
                        seed += 1
                        runGemm(transA: tA, transB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta,
                                pad: Int(seed % 3), seed: seed, useScratch: seed % 2 == 0)
                    }
                }
            }
        }
    }

    func testMatrixVectorShapes() {
        var seed: UInt64 = 500
        for tA in [false, true] {
            for tB in [false, true] {
                for (m, n, k) in [(1, 1, 1), (1, 65, 33), (1, 7, 130), (33, 1, 65), (17, 1, 3), (1, 1, 1000)] {
                    for (alpha, beta) in [(Float(1), Float(0)), (0.5, 2)] {
                        seed += 1
                        runGemm(transA: tA, transB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta,
                                pad: Int(seed % 2), seed: seed, useScratch: seed % 3 == 0)
                    }
                }
            }
        }
    }

    func testLargeBlocking() {
        // Crosses KC (256), MC (120) and NC (1024) boundaries.
        runGemm(transA: false, transB: false, m: 127, n: 1031, k: 300, alpha: 1, beta: 0.5, seed: 7)
        runGemm(transA: true, transB: true, m: 125, n: 40, k: 513, alpha: 1, beta: 0, seed: 8, useScratch: true)
    }

    func testKZeroAndAlphaZero() {
        runGemm(transA: false, transB: false, m: 3, n: 5, k: 0, alpha: 1, beta: 0, seed: 9)
        runGemm(transA: false, transB: false, m: 3, n: 5, k: 0, alpha: 1, beta: 2, seed: 10)
        runGemm(transA: false, transB: false, m: 3, n: 5, k: 4, alpha: 0, beta: 0.5, seed: 11)
        // m or n == 0: nothing happens.
        var c: [Float] = [42]
        let a: [Float] = [1], b: [Float] = [1]
        activeKernels.sgemm(transA: false, transB: false, m: 0, n: 1, k: 1, alpha: 1, a: a, lda: 1, b: b, ldb: 1, beta: 0, c: &c, ldc: 1)
        XCTAssertEqual(c[0], 42)
    }
}

final class ConvTests: XCTestCase {
    func check(_ p: ConvParams, bias: Bool, relu: Bool, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        var rng = RNG(seed: seed)
        let x = rng.floats(p.batch * p.inChannels * p.inHeight * p.inWidth)
        let w = rng.floats(p.outChannels * (p.inChannels / p.groups) * p.kernelHeight * p.kernelWidth)
        let bv: [Float]? = bias ? rng.floats(p.outChannels) : nil
        let expected = refConv(p, input: x, weights: w, bias: bv, relu: relu)
        var y = [Float](repeating: .nan, count: expected.count)
        var scratch = [Float](repeating: .nan, count: activeKernels.convScratchElements(p) + 1)
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    scratch.withUnsafeMutableBufferPointer { sp in
                        if let bv {
                            bv.withUnsafeBufferPointer { bp in
                                activeKernels.conv2D(p, input: xp.baseAddress!, weights: wp.baseAddress!, bias: bp.baseAddress!,
                                                     activation: relu ? .relu : .none, output: yp.baseAddress!, scratch: sp.baseAddress!)
                            }
                        } else {
                            activeKernels.conv2D(p, input: xp.baseAddress!, weights: wp.baseAddress!, bias: nil,
                                                 activation: relu ? .relu : .none, output: yp.baseAddress!, scratch: sp.baseAddress!)
                        }
                    }
                }
            }
        }
        assertClose(y, expected, tol: 1e-4, relative: true, "\(p)", file: file, line: line)
    }

    static func outSize(_ i: Int, k: Int, s: Int, d: Int, p0: Int, p1: Int) -> Int {
        (i + p0 + p1 - ((k - 1) * d + 1)) / s + 1
    }

    func make(batch: Int, c: Int, h: Int, w: Int, oc: Int, kh: Int, kw: Int, sh: Int = 1, sw: Int = 1,
              dh: Int = 1, dw: Int = 1, pt: Int = 0, pl: Int = 0, pb: Int = 0, pr: Int = 0, g: Int = 1) -> ConvParams {
        ConvParams(batch: batch, inChannels: c, inHeight: h, inWidth: w, outChannels: oc,
                   outHeight: Self.outSize(h, k: kh, s: sh, d: dh, p0: pt, p1: pb),
                   outWidth: Self.outSize(w, k: kw, s: sw, d: dw, p0: pl, p1: pr),
                   kernelHeight: kh, kernelWidth: kw, strideHeight: sh, strideWidth: sw,
                   dilationHeight: dh, dilationWidth: dw, padTop: pt, padLeft: pl, groups: g)
    }

    func testGeneral3x3() {
        check(make(batch: 1, c: 3, h: 7, w: 7, oc: 5, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1), bias: true, relu: false, seed: 1)
        check(make(batch: 7, c: 4, h: 17, w: 9, oc: 6, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1), bias: true, relu: true, seed: 2)
        check(make(batch: 2, c: 17, h: 31, w: 33, oc: 33, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1), bias: false, relu: true, seed: 3)
    }

    func testColumnBlocking() {
        // K = 64*9 = 576 -> blocks of 224 output positions, not aligned to output rows.
        check(make(batch: 2, c: 64, h: 17, w: 19, oc: 7, kh: 3, kw: 3, pt: 1, pl: 2, pb: 0, pr: 1), bias: true, relu: true, seed: 30)
        check(make(batch: 1, c: 130, h: 1, w: 700, oc: 5, kh: 1, kw: 5, sw: 2, dw: 2, pl: 3, pr: 1), bias: true, relu: false, seed: 31)
        check(make(batch: 1, c: 3, h: 40, w: 40, oc: 4, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1), bias: false, relu: true, seed: 32)
    }

    func testStridesDilationsAsymmetricPads() {
        check(make(batch: 1, c: 3, h: 17, w: 17, oc: 7, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1), bias: true, relu: false, seed: 4)
        check(make(batch: 7, c: 2, h: 17, w: 31, oc: 3, kh: 3, kw: 5, sh: 2, sw: 3, dh: 2, dw: 1, pt: 2, pl: 0, pb: 1, pr: 3), bias: true, relu: true, seed: 5)
        check(make(batch: 1, c: 5, h: 9, w: 11, oc: 4, kh: 2, kw: 3, sh: 1, sw: 2, dh: 3, dw: 2, pt: 0, pl: 3, pb: 2, pr: 0), bias: false, relu: false, seed: 6)
        check(make(batch: 1, c: 3, h: 4, w: 4, oc: 2, kh: 3, kw: 3, pt: 3, pl: 3, pb: 3, pr: 3), bias: true, relu: false, seed: 7) // rows fully in padding
        check(make(batch: 1, c: 2, h: 5, w: 5, oc: 3, kh: 5, kw: 5), bias: true, relu: false, seed: 8) // 1x1 output
    }

    func testConv1D() {
        check(make(batch: 7, c: 3, h: 1, w: 65, oc: 8, kh: 1, kw: 7, sw: 2, pl: 3, pr: 3), bias: true, relu: true, seed: 9)
        check(make(batch: 1, c: 1, h: 1, w: 33, oc: 4, kh: 1, kw: 3, dw: 3, pl: 1, pr: 2), bias: false, relu: false, seed: 10)
    }

    func testPointwise() {
        check(make(batch: 1, c: 17, h: 7, w: 9, oc: 33, kh: 1, kw: 1), bias: true, relu: true, seed: 11)
        check(make(batch: 7, c: 3, h: 1, w: 65, oc: 5, kh: 1, kw: 1), bias: false, relu: false, seed: 12)
        check(make(batch: 2, c: 8, h: 9, w: 9, oc: 6, kh: 1, kw: 1, sh: 2, sw: 2), bias: true, relu: false, seed: 13) // strided 1x1 -> im2col
        check(make(batch: 2, c: 8, h: 9, w: 9, oc: 6, kh: 1, kw: 1, g: 2), bias: true, relu: false, seed: 14)
    }

    func testGroupsAndDepthwise() {
        check(make(batch: 2, c: 6, h: 9, w: 7, oc: 9, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1, g: 3), bias: true, relu: false, seed: 15)
        check(make(batch: 7, c: 8, h: 17, w: 17, oc: 8, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1, g: 8), bias: true, relu: true, seed: 16)
        check(make(batch: 1, c: 5, h: 31, w: 33, oc: 10, kh: 3, kw: 5, sh: 2, sw: 2, dh: 2, dw: 1, pt: 2, pl: 1, pb: 0, pr: 2, g: 5), bias: true, relu: false, seed: 17)
        check(make(batch: 1, c: 3, h: 1, w: 65, oc: 3, kh: 1, kw: 7, pl: 3, pr: 3, g: 3), bias: false, relu: false, seed: 18)
    }

    func testDirectChannelRemainders() {
        // 3x3 stride 1 (unrolled path): output channels around the 4- and 8-wide register tiles.
        for (i, oc) in [1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 16, 17, 20, 25].enumerated() {
            check(make(batch: 2, c: 3 + i % 4, h: 9, w: 11, oc: oc, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1),
                  bias: i % 2 == 0, relu: i % 3 == 0, seed: UInt64(100 + i))
        }
        // 1-D k3 (unrolled 1x3 path).
        for (i, oc) in [1, 3, 4, 6, 8, 11, 16, 19].enumerated() {
            check(make(batch: 3, c: 1 + 2 * i, h: 1, w: 67, oc: oc, kh: 1, kw: 3, pl: 1, pr: 1),
                  bias: i % 2 == 1, relu: i % 2 == 0, seed: UInt64(120 + i))
        }
    }

    func testDirectStride2() {
        // Stride-2 3x3 (DRSN stage entry): even/odd sizes, pads, channel remainders.
        check(make(batch: 2, c: 16, h: 32, w: 32, oc: 32, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1), bias: true, relu: true, seed: 140)
        check(make(batch: 1, c: 5, h: 17, w: 15, oc: 13, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1), bias: true, relu: false, seed: 141)
        check(make(batch: 3, c: 3, h: 8, w: 9, oc: 6, kh: 3, kw: 3, sh: 2, sw: 2, pt: 0, pl: 2, pb: 1, pr: 0), bias: false, relu: false, seed: 142)
        check(make(batch: 1, c: 4, h: 2, w: 2, oc: 9, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1), bias: true, relu: false, seed: 143)
        check(make(batch: 1, c: 4, h: 21, w: 70, oc: 8, kh: 3, kw: 3, sh: 1, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1), bias: true, relu: false, seed: 144)
        check(make(batch: 1, c: 4, h: 21, w: 20, oc: 5, kh: 3, kw: 3, sh: 2, sw: 1, pt: 1, pl: 1, pb: 1, pr: 1), bias: true, relu: true, seed: 145)
        check(make(batch: 1, c: 3, h: 19, w: 23, oc: 10, kh: 3, kw: 3, sh: 2, sw: 2, dh: 2, dw: 2, pt: 2, pl: 2, pb: 2, pr: 2), bias: true, relu: false, seed: 146)
        check(make(batch: 1, c: 3, h: 12, w: 12, oc: 7, kh: 4, kw: 2, sh: 2, sw: 2, pt: 1, pl: 0, pb: 2, pr: 1), bias: false, relu: true, seed: 147)
        // 1-D k3 stride 2, wide and narrow.
        check(make(batch: 2, c: 8, h: 1, w: 4097, oc: 16, kh: 1, kw: 3, sw: 2, pl: 1, pr: 1), bias: true, relu: true, seed: 148)
        check(make(batch: 2, c: 3, h: 1, w: 5, oc: 5, kh: 1, kw: 3, sw: 2, pl: 1, pr: 1), bias: true, relu: false, seed: 149)
        check(make(batch: 1, c: 2, h: 1, w: 2, oc: 3, kh: 1, kw: 3, sw: 2, pl: 1, pr: 1), bias: false, relu: false, seed: 150)
        check(make(batch: 1, c: 6, h: 1, w: 100, oc: 9, kh: 1, kw: 3, sw: 2, pl: 0, pr: 0), bias: true, relu: false, seed: 151)
    }

    func testDirectNarrowWideAndChunked() {
        check(make(batch: 2, c: 3, h: 5, w: 1, oc: 9, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1), bias: true, relu: false, seed: 160)
        check(make(batch: 2, c: 3, h: 1, w: 2, oc: 9, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1), bias: true, relu: false, seed: 161)
        check(make(batch: 1, c: 2, h: 3, w: 3, oc: 4, kh: 3, kw: 3), bias: true, relu: false, seed: 162)
        check(make(batch: 1, c: 4, h: 6, w: 300, oc: 12, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1), bias: true, relu: true, seed: 163)
        check(make(batch: 1, c: 1, h: 1, w: 1, oc: 4, kh: 1, kw: 3, pl: 1, pr: 1), bias: true, relu: false, seed: 164)
        check(make(batch: 1, c: 5, h: 1, w: 5000, oc: 9, kh: 1, kw: 3, pl: 1, pr: 1), bias: true, relu: true, seed: 165)
        // Many channels: several position chunks per image.
        check(make(batch: 1, c: 300, h: 1, w: 1000, oc: 10, kh: 1, kw: 3, pl: 1, pr: 1), bias: true, relu: false, seed: 166)
        check(make(batch: 1, c: 130, h: 20, w: 40, oc: 9, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1), bias: true, relu: false, seed: 167)
        check(make(batch: 1, c: 200, h: 11, w: 64, oc: 8, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1), bias: false, relu: true, seed: 168)
        // Generic tap loop: 3x1, 5x5, 1x5 dilated.
        check(make(batch: 1, c: 3, h: 9, w: 9, oc: 9, kh: 3, kw: 1, pt: 1, pb: 1), bias: true, relu: false, seed: 169)
        check(make(batch: 1, c: 3, h: 12, w: 13, oc: 11, kh: 5, kw: 5, pt: 2, pl: 2, pb: 2, pr: 2), bias: true, relu: false, seed: 170)
        check(make(batch: 1, c: 3, h: 1, w: 90, oc: 6, kh: 1, kw: 5, dw: 3, pl: 6, pr: 6), bias: true, relu: false, seed: 171)
    }

    func testDirectRowMode() {
        // Output widths that are multiples of the vector width: tiles of whole row segments,
        // pairs spanning rows, odd slot counts.
        var seed: UInt64 = 200
        for (h, w) in [(5, 16), (3, 32), (3, 48), (1, 16), (2, 64), (7, 8), (1, 4), (3, 12)] {
            for oc in [3, 8, 13] {
                check(make(batch: 2, c: 3, h: h, w: w, oc: oc, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1),
                      bias: oc != 8, relu: oc == 13, seed: seed)
                seed += 1
            }
            check(make(batch: 1, c: 4, h: 1, w: w * h, oc: 9, kh: 1, kw: 3, pl: 1, pr: 1), bias: true, relu: false, seed: seed)
            check(make(batch: 1, c: 4, h: 2 * h + 1, w: 2 * w, oc: 10, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1),
                  bias: true, relu: true, seed: seed + 1)
            seed += 2
        }
    }

    func testChannelRange() {
        for (i, p) in [make(batch: 2, c: 5, h: 9, w: 13, oc: 21, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1),
                       make(batch: 1, c: 4, h: 16, w: 16, oc: 32, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1),
                       make(batch: 1, c: 3, h: 1, w: 300, oc: 13, kh: 1, kw: 3, pl: 1, pr: 1),
                       make(batch: 2, c: 8, h: 9, w: 9, oc: 6, kh: 1, kw: 1, g: 2)].enumerated() {
            var rng = RNG(seed: UInt64(180 + i))
            let x = rng.floats(p.batch * p.inChannels * p.inHeight * p.inWidth)
            let w = rng.floats(p.outChannels * (p.inChannels / p.groups) * p.kernelHeight * p.kernelWidth)
            let b = rng.floats(p.outChannels)
            let expected = refConv(p, input: x, weights: w, bias: b, relu: true)
            var y = [Float](repeating: .nan, count: expected.count)
            var s = [Float](repeating: .nan, count: activeKernels.convScratchElements(p))
            let block = activeKernels.convChannelBlock(p)
            if i < 3 { XCTAssertGreaterThan(block, 0) }
            let step = block > 0 ? block : p.outChannels
            for bi in 0..<p.batch {
                var m0 = 0
                while m0 < p.outChannels {
                    activeKernels.conv2D(p, input: x, weights: w, bias: b, activation: .relu, output: &y, scratch: &s,
                                         batchRange: bi..<(bi + 1), channelRange: m0..<min(m0 + step, p.outChannels),
                                         fusion: ConvFusion())
                    m0 += step
                }
            }
            assertClose(y, expected, tol: 1e-4, relative: true, "\(p)")
        }
    }

    /// Runs `p` with a ConvFusion (BN -> ReLU prologue, pre-packed weights, per-plane mean
    /// |y|) against the reference convolution of max(x * s + t, 0), as one call per channel
    /// range of `convChannelBlock(p)`, half of it (ranges off the packed blocks, which pack
    /// per call) and all channels; per image or over the whole batch.
    func checkFused(_ p: ConvParams, seed: UInt64, relu: Bool, nan: Bool, perImage: Bool,
                    file: StaticString = #filePath, line: UInt = #line) {
        var rng = RNG(seed: seed)
        var x = rng.floats(p.batch * p.inChannels * p.inHeight * p.inWidth)
        if nan { x[x.count / 3] = .nan } // NaN survives the prologue's ReLU and reaches the outputs it touches
        let w = rng.floats(p.outChannels * p.inChannels * p.kernelHeight * p.kernelWidth)
        let b = rng.floats(p.outChannels)
        let scale = rng.floats(p.inChannels), shift = rng.floats(p.inChannels)
        let plane = p.inHeight * p.inWidth
        let xPre = x.enumerated().map { i, v -> Float in
            let c = (i / plane) % p.inChannels
            let y = v * scale[c] + shift[c]
            return y < 0 ? 0 : y
        }
        let expected = refConv(p, input: xPre, weights: w, bias: b, relu: relu)
        let outPlane = p.outHeight * p.outWidth
        let expectedMeans = (0..<(p.batch * p.outChannels)).map { q -> Float in
            (0..<outPlane).reduce(Float(0)) { $0 + Swift.abs(expected[q * outPlane + $1]) } / Float(outPlane)
        }
        var packed = [Float](repeating: .nan, count: activeKernels.convPackedWeightsCount(p))
        XCTAssertGreaterThan(packed.count, 0, file: file, line: line)
        activeKernels.packConvWeights(p, weights: w, output: &packed)
        let block = max(activeKernels.convChannelBlock(p), 1)
        let batches: [Range<Int>] = perImage ? (0..<p.batch).map { $0..<($0 + 1) } : [0..<p.batch]
        for step in [p.outChannels, block, max(block / 2, 1)] {
            var y = [Float](repeating: .nan, count: expected.count)
            var means = [Float](repeating: .nan, count: p.batch * p.outChannels)
            var s = [Float](repeating: .nan, count: activeKernels.convScratchElements(p))
            scale.withUnsafeBufferPointer { sp in
                shift.withUnsafeBufferPointer { tp in
                    packed.withUnsafeBufferPointer { pp in
                        means.withUnsafeMutableBufferPointer { mp in
                            let f = ConvFusion(preScale: sp.baseAddress, preShift: tp.baseAddress,
                                               packedWeights: pp.baseAddress, absMean: mp.baseAddress)
                            for range in batches {
                                var m0 = 0
                                while m0 < p.outChannels {
                                    activeKernels.conv2D(p, input: x, weights: w, bias: b, activation: relu ? .relu : .none, output: &y,
                                                         scratch: &s, batchRange: range, channelRange: m0..<min(m0 + step, p.outChannels),
                                                         fusion: f)
                                    m0 += step
                                }
                            }
                        }
                    }
                }
            }
            assertClose(y, expected, tol: 1e-4, relative: true, "\(p) step \(step)", file: file, line: line)
            assertClose(means, expectedMeans, tol: 1e-4, relative: true, "means \(p) step \(step)", file: file, line: line)
        }
    }

    func testFusion() {
        var seed: UInt64 = 400
        for p in [make(batch: 2, c: 5, h: 9, w: 13, oc: 21, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1),
                  make(batch: 3, c: 16, h: 8, w: 8, oc: 16, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1),
                  make(batch: 1, c: 4, h: 16, w: 16, oc: 32, kh: 3, kw: 3, sh: 2, sw: 2, pt: 1, pl: 1, pb: 1, pr: 1),
                  make(batch: 2, c: 4, h: 7, w: 32, oc: 12, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1),
                  make(batch: 2, c: 3, h: 1, w: 300, oc: 13, kh: 1, kw: 3, pl: 1, pr: 1),
                  make(batch: 2, c: 6, h: 1, w: 101, oc: 7, kh: 1, kw: 3, sw: 2, pl: 1, pr: 1),
                  make(batch: 1, c: 3, h: 19, w: 23, oc: 10, kh: 3, kw: 3, sh: 2, sw: 2, dh: 2, dw: 2, pt: 2, pl: 2, pb: 2, pr: 2)] {
            XCTAssertTrue(activeKernels.convSupportsFusion(p), "\(p)")
            checkFused(p, seed: seed, relu: true, nan: true, perImage: true)
            seed += 1
        }
    }

    /// The Winograd F(2x2, 3x3) path (3x3 stride-1 layers with >= 8 channels whose tile rows
    /// fit the register width): map sizes around each ISA's width, odd tile-row counts,
    /// channel remainders, batch and channel-range splits, prologue, packed weights, means.
    func testWinograd() {
        var seed: UInt64 = 500
        var taken = 0
        // (8, 8), (16, 8): four tile rows per AVX-512 vector; (8, 8), (2, 32), (2, 16), (4, 8):
        // one vector of tiles per image on some ISA (images paired; batch 3 leaves one alone).
        for (h, w) in [(2, 8), (6, 8), (8, 8), (16, 8), (16, 16), (10, 16), (2, 16), (6, 32), (2, 32), (4, 64),
                       (2, 4), (6, 4), (4, 8)] {
            for (c, oc) in [(8, 8), (16, 13), (9, 21)] {
                let p = make(batch: 3, c: c, h: h, w: w, oc: oc, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1)
                check(p, bias: oc != 8, relu: c == 16, seed: seed)
                if activeKernels.convPackedWeightsCount(p) > c * 9 * ((oc + 7) / 8 * 8) { taken += 1 }  // 16 per pair: Winograd
                checkFused(p, seed: seed + 1, relu: c == 9, nan: false, perImage: false)
                seed += 2
            }
        }
        // Other paddings (no padding; asymmetric, 'SAME_UPPER'-like) with even outputs.
        for (i, p) in [make(batch: 2, c: 8, h: 18, w: 34, oc: 8, kh: 3, kw: 3),
                       make(batch: 2, c: 8, h: 16, w: 16, oc: 9, kh: 3, kw: 3, pt: 0, pl: 0, pb: 2, pr: 2),
                       make(batch: 3, c: 12, h: 8, w: 8, oc: 8, kh: 3, kw: 3, pt: 2, pl: 2, pb: 0, pr: 0)].enumerated() {
            check(p, bias: true, relu: i != 1, seed: seed)
            if activeKernels.convUsesWinograd(p) { taken += 1 }
            checkFused(p, seed: seed + 1, relu: true, nan: false, perImage: i == 2)
            seed += 2
        }
        XCTAssertGreaterThanOrEqual(taken, 6, "the Winograd path was not exercised")
    }

    func testBatchRange() {
        let p = make(batch: 5, c: 3, h: 9, w: 9, oc: 4, kh: 3, kw: 3, pt: 1, pl: 1, pb: 1, pr: 1)
        var rng = RNG(seed: 19)
        let x = rng.floats(5 * 3 * 81), w = rng.floats(4 * 3 * 9), b = rng.floats(4)
        let expected = refConv(p, input: x, weights: w, bias: b, relu: false)
        var y = [Float](repeating: .nan, count: expected.count)
        var s1 = [Float](repeating: 0, count: activeKernels.convScratchElements(p))
        var s2 = s1
        activeKernels.conv2D(p, input: x, weights: w, bias: b, activation: .none, output: &y, scratch: &s1, batchRange: 0..<2)
        activeKernels.conv2D(p, input: x, weights: w, bias: b, activation: .none, output: &y, scratch: &s2, batchRange: 2..<5)
        assertClose(y, expected)
    }
}
