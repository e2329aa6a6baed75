import XCTest
import DRSNKernels

/// The int8 kernels of the active ISA variant (Tests/run.sh also runs them with
/// DRSN_FORCE_ISA=avx2 and baseline) against the ONNX formulas evaluated in plain integer
/// arithmetic: QLinearConv must be exact (same codes) for any 8-bit weights and zero points.
final class QuantizationTests: XCTestCase {
    /// acc = sum (x - zx)(w - zw) over the window (padding contributes 0), then
    /// clamp(round_half_even(Float(acc + bias) * multiplier), lo - zy, hi - zy) + zy.
    func referenceQLinearConv(_ p: ConvParams, x: [Float], zx: Int32, w: [Int32], zw: [Int32], bias: [Int32],
                              multiplier: [Float], zy: Float, lo: Float, hi: Float) -> [Float] {
        let cg = p.inChannels / p.groups, mg = p.outChannels / p.groups
        var out = [Float](repeating: 0, count: p.batch * p.outChannels * p.outHeight * p.outWidth)
        for n in 0..<p.batch {
            for m in 0..<p.outChannels {
                let g = m / mg
                for oy in 0..<p.outHeight {
                    for ox in 0..<p.outWidth {
                        var acc: Int32 = 0
                        for c in 0..<cg {
                            for ky in 0..<p.kernelHeight {
                                for kx in 0..<p.kernelWidth {
                                    let iy = oy * p.strideHeight - p.padTop + ky * p.dilationHeight
                                    let ix = ox * p.strideWidth - p.padLeft + kx * p.dilationWidth
                                    guard iy >= 0, iy < p.inHeight, ix >= 0, ix < p.inWidth else { continue }
                                    let xv = Int32(x[((n * p.inChannels + g * cg + c) * p.inHeight + iy) * p.inWidth + ix]) - zx
                                    let wv = w[((m * cg + c) * p.kernelHeight + ky) * p.kernelWidth + kx] - zw[m]
                                    acc += xv * wv
                                }
                            }
                        }
                        var v = Float(acc + bias[m]) * multiplier[m]
                        v = Swift.min(Swift.max(v, lo - zy), hi - zy)
                        out[((n * p.outChannels + m) * p.outHeight + oy) * p.outWidth + ox] = v.rounded(.toNearestOrEven) + zy
                    }
                }
            }
        }
        return out
    }

    func runQLinearConv(_ p: ConvParams, seed: UInt64, signedInput: Bool, unsignedWeights: Bool) {
        var rng = RNG(seed: seed)
        let (xlo, xhi): (Int, Int) = signedInput ? (-128, 128) : (0, 256)
        let x = (0..<(p.batch * p.inChannels * p.inHeight * p.inWidth)).map { _ in Float(rng.int(xlo..<xhi)) }
        let zx = Int32(rng.int(xlo..<xhi))
        let wCount = p.outChannels * (p.inChannels / p.groups) * p.kernelHeight * p.kernelWidth
        let w = (0..<wCount).map { _ in Int32(unsignedWeights ? rng.int(0..<256) : rng.int(-128..<128)) }
        let zw = (0..<p.outChannels).map { _ in Int32(unsignedWeights ? rng.int(0..<256) : rng.int(-128..<128)) }
        let bias = (0..<p.outChannels).map { _ in Int32(rng.int(-100_000..<100_000)) }
        let multiplier = (0..<p.outChannels).map { _ in Float(rng.int(1..<1000)) * 1e-6 }
        let (lo, hi): (Float, Float) = (0, 255)
        let zy: Float = Float(rng.int(0..<256))
        let expected = referenceQLinearConv(p, x: x, zx: zx, w: w, zw: zw, bias: bias, multiplier: multiplier,
                                            zy: zy, lo: lo, hi: hi)
        let perOut = wCount / p.outChannels
        let adjusted = (0..<wCount).map { i in w[i] - zw[i / perOut] }
        var packed = [Int32](repeating: -1, count: activeKernels.qconvPackedWeightsCount(p))
        activeKernels.packQConvWeights(p, weights: adjusted, output: &packed)
        var out = [Float](repeating: .nan, count: expected.count)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: activeKernels.qconvScratchBytes(p), alignment: 64)
        defer { scratch.deallocate() }
        let blocks = activeKernels.qconvChannelBlocks(p)
        // Split as a plan may: images one by one, channel blocks in two parts.
        for n in 0..<p.batch {
            for part in [0..<(blocks / 2), (blocks / 2)..<blocks] where !part.isEmpty {
                activeKernels.qlinearConv(p, input: x, inputCodes: QuantizedOperand(zeroPoint: Float(zx), min: -255, max: 255),
                                          weights: packed, bias: bias, multiplier: multiplier,
                                          outputCodes: QuantizedOperand(zeroPoint: zy, min: lo, max: hi),
                                          output: &out, scratch: scratch, images: n..<(n + 1), blocks: part)
            }
        }
        XCTAssertEqual(out, expected, "\(activeKernels.variantName) \(p)")
    }

    func testQLinearConvMatchesIntegerReference() {
        let cases: [ConvParams] = [
            ConvParams(batch: 2, inChannels: 5, inHeight: 1, inWidth: 37, outChannels: 7, outHeight: 1, outWidth: 37,
                       kernelHeight: 1, kernelWidth: 3, padTop: 0, padLeft: 1),
            ConvParams(batch: 1, inChannels: 32, inHeight: 1, inWidth: 64, outChannels: 16, outHeight: 1, outWidth: 32,
                       kernelHeight: 1, kernelWidth: 3, strideHeight: 1, strideWidth: 2, padTop: 0, padLeft: 1),
            ConvParams(batch: 2, inChannels: 6, inHeight: 9, inWidth: 11, outChannels: 4, outHeight: 5, outWidth: 6,
                       kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2, padTop: 1, padLeft: 1, groups: 2),
            ConvParams(batch: 1, inChannels: 3, inHeight: 8, inWidth: 20, outChannels: 9, outHeight: 8, outWidth: 16,
                       kernelHeight: 3, kernelWidth: 3, dilationHeight: 1, dilationWidth: 2, padTop: 1, padLeft: 0),
            ConvParams(batch: 1, inChannels: 1, inHeight: 1, inWidth: 100, outChannels: 3, outHeight: 1, outWidth: 50,
                       kernelHeight: 1, kernelWidth: 5, strideWidth: 2, padTop: 0, padLeft: 2),
        ]
        for (i, p) in cases.enumerated() {
            runQLinearConv(p, seed: UInt64(11 + i), signedInput: false, unsignedWeights: false)
            runQLinearConv(p, seed: UInt64(31 + i), signedInput: true, unsignedWeights: true)
        }
    }

    func testQuantizeLinearRoundsHalfToEvenAndSaturates() {
        let x: [Float] = [0, 0.5, 1.5, 2.5, -0.5, -1.5, 1000, -1000, .infinity, -.infinity, .nan, 127.5, 1.25, 3, 4, 5, 6, 7]
        let scale: Float = 0.5, zp: Float = 3
        var codes = [Float](repeating: -1, count: x.count), values = codes
        activeKernels.quantizeLinear(input: x, codes: &codes, values: &values, count: x.count, scale: scale,
                                     zeroPoint: zp, lo: 0, hi: 255)
        for i in 0..<x.count {
            var q = (x[i] / scale).rounded(.toNearestOrEven) + zp
            if x[i].isNaN { q = 0 }
            q = Swift.min(Swift.max(q, 0), 255)
            XCTAssertEqual(codes[i], q, "x = \(x[i])")
            XCTAssertEqual(values[i], (q - zp) * scale, "x = \(x[i])")
        }
        var back = [Float](repeating: 0, count: x.count)
        activeKernels.dequantizeLinear(input: codes, output: &back, count: x.count, scale: scale, zeroPoint: zp)
        XCTAssertEqual(back, values)
    }
}
