import DRSNKernels

/// QuantizeLinear (`dequantize` false) or DequantizeLinear over x [outer, channels, inner]
/// with one scale and zero point per channel (channels == 1: per tensor). Units are planes
/// (outer * channels), or element blocks per tensor.
///
/// A QuantizeLinear step may also write what a DequantizeLinear with the same parameters
/// makes of its codes (`QuantizationFusion`): outputs are then [codes, values] or, when
/// nothing else reads the codes, [values] only.
struct QuantizeLinearStep: StepKernel {
    var dequantize: Bool
    var outer: Int, channels: Int, inner: Int
    var scales: [Float], zeroPoints: [Float]
    /// The code range (QuantizeLinear only).
    var lo: Float = 0, hi: Float = 0
    /// Which outputs a QuantizeLinear step writes, in this order.
    var writesCodes = true, writesValues = false

    var name: String {
        dequantize ? "dequantizeLinear" : writesCodes ? (writesValues ? "quantizeLinear+dequantize" : "quantizeLinear") : "quantizeDequantize"
    }
    var perTensor: Bool { outer == 1 && channels == 1 }

    func split(threads: Int) -> (units: Int, workPerUnit: Int) {
        perTensor ? elementBlockSplit(count: inner, workPerElement: 3) : (outer * channels, inner * 3)
    }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        let x = ctx.input(0), y = ctx.output()
        let values: UnsafeMutablePointer<Float>? = writesValues ? ctx.output(writesCodes ? 1 : 0) : nil
        if perTensor {
            let (start, n) = elementRange(units, count: inner)
            apply(x, y, values, start, n, 0)
            return
        }
        for plane in units { apply(x, y, values, plane * inner, inner, plane % channels) }
    }

    @inline(__always)
    private func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ values: UnsafeMutablePointer<Float>?,
                       _ start: Int, _ n: Int, _ c: Int) {
        if dequantize {
            activeKernels.dequantizeLinear(input: x + start, output: y + start, count: n, scale: scales[c],
                                           zeroPoint: zeroPoints[c])
        } else {
            activeKernels.quantizeLinear(input: x + start, codes: writesCodes ? y + start : nil, values: values.map { $0 + start },
                                         count: n, scale: scales[c], zeroPoint: zeroPoints[c], lo: lo, hi: hi)
        }
    }
}

/// QLinearConv (also what a DequantizeLinear -> Conv -> QuantizeLinear chain becomes,
/// `QDQConvFusion`): integer codes in, integer codes out, int32 accumulation. Units are
/// (image, part) pairs: each image's output-channel blocks are split into `parts` ranges
/// when the batch does not divide evenly over the threads.
///
/// `QuantizationFusion` may let the step quantize its float input itself (the
/// QuantizeLinear before it: `input.scale` != 0) and write dequantized values (the
/// DequantizeLinear after it: `output.scale` != 0); the results are bit for bit those of
/// the separate steps.
struct QLinearConvStep: StepKernel {
    var params: ConvParams
    /// `packQConvWeights` output.
    var weights: [Int32]
    /// Per output channel: the int32 bias and inputScale * weightScale / outputScale.
    var bias: [Int32]
    var multiplier: [Float]
    var input: QuantizedOperand, output: QuantizedOperand
    /// The output codes' scale (what a DequantizeLinear of them multiplies by).
    var outputScale: Float
    var parts = 1

    var name: String { "qlinearConv" }  // same name fused or not: `drsn inspect` counts int8 convolutions
    var flops: Int {
        let p = params
        return 2 * p.batch * p.outChannels * p.outHeight * p.outWidth * (p.inChannels / p.groups) * p.kernelHeight * p.kernelWidth
    }
    var scratchFloats: Int { (activeKernels.qconvScratchBytes(params) + 3) / 4 }
    var blocks: Int { activeKernels.qconvChannelBlocks(params) }

    func partsPerImage(threads: Int) -> Int {
        let b = params.batch
        guard threads > 1, b < 4 * threads, b % threads != 0 else { return 1 }
        return max(1, min(blocks, threads))
    }

    func split(threads: Int) -> (units: Int, workPerUnit: Int) {
        let parts = partsPerImage(threads: threads)
        let units = params.batch * parts
        return (units, flops / max(units, 1) / 2)
    }

    mutating func prepare(threads: Int, tasks: Int) { parts = partsPerImage(threads: threads) }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        let x = ctx.input(0), y = ctx.output(), scratch = UnsafeMutableRawPointer(ctx.scratch)
        let parts = self.parts, blocks = self.blocks
        weights.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                multiplier.withUnsafeBufferPointer { m in
                    forEachImage(units: units, parts: parts) { image, lo, hi in
                        activeKernels.qlinearConv(params, input: x, inputCodes: input, weights: w.baseAddress!,
                                                  bias: b.baseAddress!, multiplier: m.baseAddress!,
                                                  outputCodes: output, output: y, scratch: scratch,
                                                  images: image..<(image + 1),
                                                  blocks: (lo * blocks / parts)..<(hi * blocks / parts))
                    }
                }
            }
        }
    }
}
