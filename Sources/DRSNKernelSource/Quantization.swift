// Quantization kernels: QuantizeLinear / DequantizeLinear on integer codes held as Float,
// and the quantized convolution (u8/s8 activations and weights, int32 accumulation,
// requantization as ONNX QLinearConv defines it).
//
// Integer tensors between steps are stored as Float holding exact integer codes (as bool
// tensors hold 0 / 1), so the arena, the memory plan and the C API stay float-typed.

import CDRSNInt8Tiles
import DRSNKernelTypes

extension ISAKernels {
    /// ONNX QuantizeLinear: q[i] = clamp(round_half_even(input[i] / scale) + zeroPoint, lo, hi)
    /// for i in 0..<count (the division, not a reciprocal; NaN maps to lo, +inf to hi, -inf
    /// to lo). Writes q to `codes` and/or (q - zeroPoint) * scale (what DequantizeLinear
    /// makes of q, bit for bit) to `values`; either may be nil. zeroPoint, lo and hi are
    /// integers (lo <= zeroPoint <= hi). Either output may be `input` (in place).
    public static func quantizeLinear(input: UnsafePointer<Float>, codes: UnsafeMutablePointer<Float>?,
                                      values: UnsafeMutablePointer<Float>?, count: Int, scale: Float,
                                      zeroPoint: Float, lo: Float, hi: Float) {
        kernelPrecondition(count >= 0 && lo <= hi, "quantizeLinear: count \(count), range [\(lo), \(hi)]")
        let s = SIMD8<Float>(repeating: scale), z = SIMD8<Float>(repeating: zeroPoint)
        let vlo = SIMD8<Float>(repeating: lo - zeroPoint), vhi = SIMD8<Float>(repeating: hi - zeroPoint)
        var i = 0
        while i + 8 <= count {
            var v = UnsafeRawPointer(input + i).loadUnaligned(as: SIMD8<Float>.self) / s
            v.replace(with: vlo, where: .!(v .>= vlo))   // NaN and below: lo
            v.replace(with: vhi, where: v .> vhi)
            v = v.rounded(.toNearestOrEven)
            if let codes { UnsafeMutableRawPointer(codes + i).storeBytes(of: v + z, as: SIMD8<Float>.self) }
            if let values { UnsafeMutableRawPointer(values + i).storeBytes(of: v * s, as: SIMD8<Float>.self) }
            i += 8
        }
        while i < count {
            var v = input[i] / scale
            if !(v >= lo - zeroPoint) { v = lo - zeroPoint }
            if v > hi - zeroPoint { v = hi - zeroPoint }
            v = v.rounded(.toNearestOrEven)
            codes?[i] = v + zeroPoint
            values?[i] = v * scale
            i += 1
        }
    }

    /// output[i] = (input[i] - zeroPoint) * scale for i in 0..<count (ONNX DequantizeLinear on
    /// integer codes). May run in place.
    public static func dequantizeLinear(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int,
                                        scale: Float, zeroPoint: Float) {
        kernelPrecondition(count >= 0, "dequantizeLinear: count \(count) < 0")
        let s = SIMD8<Float>(repeating: scale), z = SIMD8<Float>(repeating: zeroPoint)
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(input + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(output + i).storeBytes(of: (v - z) * s, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            output[i] = (input[i] - zeroPoint) * scale
            i += 1
        }
    }
}

// MARK: - Quantized convolution

/// The geometry of the quantized convolution's working buffer for one image and group:
/// channel pairs interleaved (x[pair][y][x][2]), zero-padded so that every 16-position tile
/// reads inside its own rows. `pairStride`: Int16 elements from one channel pair's plane to
/// the next, a whole, odd number of 64-byte lines, so the tile's reads of consecutive pairs
/// fall into different L1 sets (planes of ~4 KiB would otherwise put them all in one set).
/// A tuple, not a struct: a struct's value witnesses would be weak symbols shared across
/// the ISA variants (Tests/hygiene.sh check 4).
@usableFromInline typealias QConvLayout = (groupChannels: Int, groupOutChannels: Int, pairs: Int, blocksPerGroup: Int,
                                           taps: Int, rows: Int, cols: Int, pairStride: Int, bufferElements: Int)

@inlinable func qconvLayout(_ p: ConvParams) -> QConvLayout {
    let groupChannels = p.inChannels / p.groups, groupOutChannels = p.outChannels / p.groups
    let pairs = (groupChannels + 1) / 2
    let tiledWidth = (p.outWidth + 15) / 16 * 16
    let rows = max(p.padTop + p.inHeight, (p.outHeight - 1) * p.strideHeight + (p.kernelHeight - 1) * p.dilationHeight + 1)
    let cols = max(p.padLeft + p.inWidth, (tiledWidth - 1) * p.strideWidth + (p.kernelWidth - 1) * p.dilationWidth + 1)
    let pairStride = (((rows * cols * 4 + 63) / 64) | 1) * 32
    return (groupChannels, groupOutChannels, pairs, (groupOutChannels + 3) / 4, p.kernelHeight * p.kernelWidth,
            rows, cols, pairStride, pairs * pairStride)
}

extension ISAKernels {
    /// Bytes of scratch one `qlinearConv` call needs (per thread when the work is split).
    public static func qconvScratchBytes(_ p: ConvParams) -> Int {
        let l = qconvLayout(p)
        return l.taps * MemoryLayout<Int>.stride + 64 * MemoryLayout<Int32>.stride + l.bufferElements * 2 + 64
    }

    /// Int32 words of `packQConvWeights`' output.
    public static func qconvPackedWeightsCount(_ p: ConvParams) -> Int {
        let l = qconvLayout(p)
        return p.groups * l.blocksPerGroup * l.taps * l.pairs * 4
    }

    /// The number of 4-channel output blocks of `qlinearConv` (over all groups).
    public static func qconvChannelBlocks(_ p: ConvParams) -> Int { p.groups * qconvLayout(p).blocksPerGroup }

    /// Packs weights [outChannels, inChannels / groups, kH, kW] (already minus their zero
    /// point, each in [-255, 255]) for `qlinearConv`: per group and block of 4 output
    /// channels, per tap and channel pair, 4 int32 (one per channel) holding the pair's two
    /// values as int16 (even channel low). Missing channels and rows are zero.
    public static func packQConvWeights(_ p: ConvParams, weights: UnsafePointer<Int32>, output: UnsafeMutablePointer<Int32>) {
        let l = qconvLayout(p)
        let kh = p.kernelHeight, kw = p.kernelWidth, cg = l.groupChannels, mg = l.groupOutChannels
        var o = output
        for g in 0..<p.groups {
            for b in 0..<l.blocksPerGroup {
                for t in 0..<l.taps {
                    let ky = t / kw, kx = t % kw
                    for pair in 0..<l.pairs {
                        for r in 0..<4 {
                            let m = b * 4 + r
                            var lo: Int32 = 0, hi: Int32 = 0
                            if m < mg {
                                let row = weights + (g * mg + m) * cg * kh * kw
                                let c0 = 2 * pair, c1 = 2 * pair + 1
                                lo = row[(c0 * kh + ky) * kw + kx]
                                if c1 < cg { hi = row[(c1 * kh + ky) * kw + kx] }
                            }
                            o[r] = Int32(bitPattern: UInt32(UInt16(truncatingIfNeeded: lo)) | UInt32(UInt16(truncatingIfNeeded: hi)) << 16)
                        }
                        o += 4
                    }
                }
            }
        }
    }

    /// Quantized convolution (ONNX QLinearConv, int32 accumulation) of images `images`,
    /// output-channel blocks `blocks` (of `qconvChannelBlocks(p)`: 4 channels of one group
    /// each). input [batch, inChannels, inH, inW]: integer codes as Float, or, when
    /// `input.scale` != 0, floats that are quantized on the way in exactly as QuantizeLinear
    /// (x / scale, round half to even, clamped to [min, max] with `input.zeroPoint`) would.
    /// weights: from `packQConvWeights`; bias: outChannels int32 (already in the
    /// accumulator's scale); multiplier[m] = inputScale * weightScale[m] / outputScale. Each
    /// output code is clamp(round_half_even(Float(acc + bias[m]) * multiplier[m]) +
    /// output.zeroPoint, min, max), written as Float, or, when `output.scale` != 0, as what
    /// DequantizeLinear makes of it ((code - zeroPoint) * scale). scratch:
    /// `qconvScratchBytes(p)` bytes.
    public static func qlinearConv(_ p: ConvParams, input: UnsafePointer<Float>, inputCodes: QuantizedOperand,
                                   weights: UnsafePointer<Int32>, bias: UnsafePointer<Int32>,
                                   multiplier: UnsafePointer<Float>, outputCodes: QuantizedOperand,
                                   output: UnsafeMutablePointer<Float>, scratch: UnsafeMutableRawPointer,
                                   images: Range<Int>, blocks: Range<Int>) {
        let outputMin = outputCodes.min, outputMax = outputCodes.max
        let l = qconvLayout(p)
        let taps = scratch.bindMemory(to: Int.self, capacity: l.taps)
        let acc = (scratch + l.taps * MemoryLayout<Int>.stride).bindMemory(to: Int32.self, capacity: 64)
        let buffer = (scratch + l.taps * MemoryLayout<Int>.stride + 256).alignedUp(toMultipleOf: 32)
            .bindMemory(to: Int16.self, capacity: l.bufferElements)
        for t in 0..<l.taps {
            let ky = t / p.kernelWidth, kx = t % p.kernelWidth
            taps[t] = (ky * p.dilationHeight * l.cols + kx * p.dilationWidth) * 2
        }
        let inPlane = p.inHeight * p.inWidth, outPlane = p.outHeight * p.outWidth
        let zy = outputCodes.zeroPoint
        let weightsPerBlock = l.taps * l.pairs * 4
        // Per image and group: pack the input once, then walk the output in stripes of 16
        // positions and run every channel block on a stripe while its input is in cache.
        for n in images {
            var block = blocks.lowerBound
            while block < blocks.upperBound {
                let g = block / l.blocksPerGroup
                let groupEnd = min(blocks.upperBound, (g + 1) * l.blocksPerGroup)
                fillQConvBuffer(p, l, input: input + (n * p.inChannels + g * l.groupChannels) * inPlane,
                                codes: inputCodes, buffer: buffer)
                for oy in 0..<p.outHeight {
                    var ox = 0
                    while ox < p.outWidth {
                        let base = buffer + (oy * p.strideHeight * l.cols + ox * p.strideWidth) * 2
                        let width = min(16, p.outWidth - ox)
                        let out = output + n * p.outChannels * outPlane + oy * p.outWidth + ox
                        for blk in block..<groupEnd {
                            let b = blk - g * l.blocksPerGroup
                            drsn_qconv_tile_4x16(base, taps, l.taps, l.pairs, l.pairStride, 2 * p.strideWidth,
                                                 weights + blk * weightsPerBlock, acc)
                            let firstChannel = g * l.groupOutChannels + b * 4
                            for r in 0..<min(4, l.groupOutChannels - b * 4) {
                                let m = firstChannel + r
                                drsn_qconv_requantize(acc + r * 16, bias[m], multiplier[m], outputMin, outputMax, zy,
                                                      outputCodes.scale, out + m * outPlane, width)
                            }
                        }
                        ox += 16
                    }
                }
                block = groupEnd
            }
        }
    }

    /// Writes one image's group of input channels into `buffer` as `QConvLayout` says:
    /// (code - zeroPoint) as int16, zero elsewhere. Codes are integers, so the conversion is
    /// exact; with `codes.scale` != 0 the input is quantized first (QuantizeLinear). Values
    /// outside the code range are clamped (NaN: the lowest code) and never trap.
    @usableFromInline static func fillQConvBuffer(_ p: ConvParams, _ l: QConvLayout, input: UnsafePointer<Float>,
                                                  codes: QuantizedOperand, buffer: UnsafeMutablePointer<Int16>) {
        buffer.initialize(repeating: 0, count: l.bufferElements)
        let inPlane = p.inHeight * p.inWidth
        let quantize = codes.scale != 0
        let z = SIMD8<Float>(repeating: quantize ? 0 : codes.zeroPoint), s = SIMD8<Float>(repeating: quantize ? codes.scale : 1)
        let lo = quantize ? codes.min - codes.zeroPoint : -255, hi = quantize ? codes.max - codes.zeroPoint : 255
        let vmin = SIMD8<Float>(repeating: lo), vmax = SIMD8<Float>(repeating: hi)
        // round(d) as int32 for |d| < 2^22: the low mantissa bits of d + 1.5 * 2^23.
        let magic = SIMD8<Float>(repeating: 12_582_912)
        @inline(__always) func diff(_ v: SIMD8<Float>) -> SIMD8<Int32> {
            var d = quantize ? v / s : v - z
            d.replace(with: vmin, where: .!(d .>= vmin))   // NaN: the lowest code, never a trap
            d.replace(with: vmax, where: d .> vmax)
            return unsafeBitCast(d + magic, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        }
        @inline(__always) func diff1(_ v: Float) -> Int32 {
            var d = quantize ? v / codes.scale : v - codes.zeroPoint
            if !(d >= lo) { d = lo }
            if d > hi { d = hi }
            return Int32((d + 12_582_912) - 12_582_912)
        }
        for pair in 0..<l.pairs {
            let c0 = 2 * pair, hasSecond = c0 + 1 < l.groupChannels
            let src0 = input + c0 * inPlane, src1 = input + (hasSecond ? c0 + 1 : c0) * inPlane
            let dstPlane = UnsafeMutableRawPointer(buffer + pair * l.pairStride).assumingMemoryBound(to: Int32.self)
            for y in 0..<p.inHeight {
                let a = src0 + y * p.inWidth, b = src1 + y * p.inWidth
                let d = dstPlane + (y + p.padTop) * l.cols + p.padLeft
                var x = 0
                while x + 8 <= p.inWidth {
                    let first = diff(UnsafeRawPointer(a + x).loadUnaligned(as: SIMD8<Float>.self))
                    var second = diff(UnsafeRawPointer(b + x).loadUnaligned(as: SIMD8<Float>.self))
                    if !hasSecond { second = SIMD8<Int32>() }
                    let packed = (first & SIMD8<Int32>(repeating: 0xFFFF)) | (second &<< SIMD8<Int32>(repeating: 16))
                    UnsafeMutableRawPointer(d + x).storeBytes(of: packed, as: SIMD8<Int32>.self)
                    x += 8
                }
                while x < p.inWidth {
                    let first = diff1(a[x]), second = hasSecond ? diff1(b[x]) : 0
                    d[x] = (first & 0xFFFF) | (second << 16)
                    x += 1
                }
            }
        }
    }
}
