import DRSNKernels

/// What a conv step does besides the convolution (`ConvFusionPass`; kernel side: `ConvFusion`).
struct ConvStepFusion {
    /// BatchNorm -> ReLU applied to the input while it is padded: constant scale / shift per input channel.
    var preScale: UnsafePointer<Float>? = nil
    var preShift: UnsafePointer<Float>? = nil
    /// The weights in the kernel's packed order (owned by the model's `PackedWeights`, which
    /// the plan keeps alive).
    var packedWeights: UnsafePointer<Float>? = nil
    /// The step's second output receives mean |y| per (image, output channel).
    var absMean: Bool = false
}

/// Units that are (image, part) pairs, `parts` per image (unit u: image u / parts, part
/// u % parts), as one `body(image, partLo, partHi)` call per image the range touches, with
/// the parts partLo ..< partHi of that image that are in it.
@inline(__always)
func forEachImage(units: Range<Int>, parts: Int, _ body: (_ image: Int, _ partLo: Int, _ partHi: Int) -> Void) {
    let lo = units.lowerBound, hi = units.upperBound
    for image in (lo / parts)...((hi - 1) / parts) {
        body(image, max(lo, image * parts) - image * parts, min(hi, (image + 1) * parts) - image * parts)
    }
}

/// Conv (1-D and 2-D). Inputs: x, w, [bias]; outputs: y, [mean |y| per plane when `fusion.absMean`].
/// Units are images, or (image, channel part) pairs when the batch does not divide evenly
/// over the threads (`channelSplit`).
struct ConvStep: StepKernel {
    var params: ConvParams
    var activation: Activation
    var fusion = ConvStepFusion()
    /// The split the plan fixed (`prepare`): (parts per image, channel blocks, channels per block).
    var channelParts = (parts: 1, blocks: 1, channelsPerBlock: 0)

    var name: String { "conv" }

    /// A convolution image is split over output channels only when each part has at least this many flops.
    static let minChannelSplitWork = 1_000_000

    /// How the convolution is split over output channels as well as images when the batch
    /// does not divide evenly over the threads (e.g. batch 1): each image is split into
    /// `parts` (<= threads) contiguous ranges of `blocks` channel blocks of
    /// `channelsPerBlock` channels; unit u is image u / parts, part u % parts. parts == 1:
    /// images only. Few parts per image, because every part pads the image again.
    func channelSplit(threads: Int) -> (parts: Int, blocks: Int, channelsPerBlock: Int) {
        let p = params
        guard threads > 1, p.batch < 4 * threads, p.batch % threads != 0 else { return (1, 1, p.outChannels) }
        let cb = activeKernels.convChannelBlock(p)
        guard cb > 0, p.outChannels > cb else { return (1, 1, p.outChannels) }
        let blocks = (p.outChannels + cb - 1) / cb
        let parts = min(blocks, threads)
        // Each part must outweigh waking a worker and padding the image again (~30 us of FMAs).
        let perImage = p.outChannels * p.outHeight * p.outWidth * p.inChannels * p.kernelHeight * p.kernelWidth * 2
        guard perImage / parts >= Self.minChannelSplitWork else { return (1, 1, p.outChannels) }
        return (parts, blocks, cb)
    }

    /// Output channels of parts lo ..< hi of one image under `channelSplit`.
    static func channelRange(partLo: Int, partHi: Int, parts: Int, blocks: Int, channelsPerBlock cb: Int,
                             outChannels: Int) -> Range<Int> {
        let b0 = partLo * blocks / parts, b1 = partHi * blocks / parts
        return (b0 * cb)..<min(b1 * cb, outChannels)
    }

    var flopsPerImage: Int {
        let p = params
        return p.outChannels * p.outHeight * p.outWidth * (p.inChannels / max(p.groups, 1)) * p.kernelHeight * p.kernelWidth * 2
    }

    func split(threads: Int) -> (units: Int, workPerUnit: Int) {
        let (parts, _, _) = channelSplit(threads: threads)
        return (params.batch * parts, flopsPerImage / parts)
    }

    mutating func prepare(threads: Int, tasks: Int) { channelParts = channelSplit(threads: threads) }

    var flops: Int { params.batch * flopsPerImage }
    var scratchFloats: Int { activeKernels.convScratchElements(params) }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        let p = params
        let (parts, blocks, cb) = channelParts
        let lo = units.lowerBound, hi = units.upperBound
        let kernelFusion = ConvFusion(preScale: fusion.preScale, preShift: fusion.preShift,
                                      packedWeights: fusion.packedWeights, absMean: fusion.absMean ? ctx.output(1) : nil)
        let x = ctx.input(0), w = ctx.input(1), bias = ctx.optionalInput(2), y = ctx.output(0)
        if parts == 1 {
            activeKernels.conv2D(p, input: x, weights: w, bias: bias, activation: activation, output: y, scratch: ctx.scratch,
                                 batchRange: lo..<hi, channelRange: 0..<p.outChannels, fusion: kernelFusion)
        } else if lo == 0 && hi == p.batch * parts {
            // Not split after all: the whole batch in one call.
            activeKernels.conv2D(p, input: x, weights: w, bias: bias, activation: activation, output: y, scratch: ctx.scratch,
                                 batchRange: 0..<p.batch, channelRange: 0..<p.outChannels, fusion: kernelFusion)
        } else {
            forEachImage(units: units, parts: parts) { image, p0, p1 in
                let channels = Self.channelRange(partLo: p0, partHi: p1, parts: parts, blocks: blocks,
                                                 channelsPerBlock: cb, outChannels: p.outChannels)
                activeKernels.conv2D(p, input: x, weights: w, bias: bias, activation: activation, output: y, scratch: ctx.scratch,
                                     batchRange: image..<(image + 1), channelRange: channels, fusion: kernelFusion)
            }
        }
    }
}

/// Per-channel scale and shift (inference BatchNormalization), optionally followed by ReLU.
/// Inputs: x, scale, shift. Units are images.
struct ScaleShiftStep: StepKernel {
    var batch: Int, channels: Int, inner: Int, relu: Bool

    var name: String { "scaleShift" }
    func split(threads: Int) -> (units: Int, workPerUnit: Int) { (batch, channels * inner * 2) }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        let off = units.lowerBound * channels * inner
        if relu {
            activeKernels.channelScaleShiftRelu(input: ctx.input(0) + off, output: ctx.output() + off, batch: units.count,
                                                channels: channels, inner: inner, scale: ctx.input(1), shift: ctx.input(2))
        } else {
            activeKernels.channelScaleShift(input: ctx.input(0) + off, output: ctx.output() + off, batch: units.count,
                                            channels: channels, inner: inner, scale: ctx.input(1), shift: ctx.input(2))
        }
    }
}
