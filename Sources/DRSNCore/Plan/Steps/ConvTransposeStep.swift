import DRSNKernels

/// ConvTranspose (1-D and 2-D; `params` read the transposed way, see the kernel). Inputs: x,
/// w [C, M / groups, kH, kW], [bias]. Units are images, or (image, channel part) pairs when
/// the batch is smaller than the threads (`channelParts`): each part computes a contiguous
/// range of output channels of one image (its own GEMM rows and output planes).
struct ConvTransposeStep: StepKernel {
    var params: ConvParams
    /// Parts per image, fixed by `prepare`.
    var parts = 1

    var name: String { "convTranspose" }

    /// A part of an image must have at least this many flops to be worth a thread.
    static let minPartWork = 200_000

    /// Multiply-adds of one image, 2 flops each: every input element of a group meets
    /// (M / groups) * kH * kW weights.
    var flopsPerImage: Int {
        let p = params
        return 2 * p.inChannels * p.inHeight * p.inWidth * (p.outChannels / max(p.groups, 1)) * p.kernelHeight * p.kernelWidth
    }

    /// Parts per image on `threads` threads: 1 unless the batch leaves threads idle and each
    /// part still has `minPartWork` flops.
    func channelParts(threads: Int) -> Int {
        let p = params
        guard threads > 1, p.batch < threads, p.outChannels > 1 else { return 1 }
        let parts = min(p.outChannels, (threads + p.batch - 1) / max(p.batch, 1))
        guard parts > 1, flopsPerImage / parts >= Self.minPartWork else { return 1 }
        return parts
    }

    func split(threads: Int) -> (units: Int, workPerUnit: Int) {
        let n = channelParts(threads: threads)
        return (params.batch * n, flopsPerImage / n)
    }

    mutating func prepare(threads: Int, tasks: Int) { parts = channelParts(threads: threads) }

    var flops: Int { params.batch * flopsPerImage }
    var scratchFloats: Int { activeKernels.convTransposeScratchElements(params) }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        let p = params
        let x = ctx.input(0), w = ctx.input(1), bias = ctx.optionalInput(2), y = ctx.output()
        if parts == 1 {
            activeKernels.convTranspose(p, input: x, weights: w, bias: bias, output: y, scratch: ctx.scratch,
                                        batchRange: units, channelRange: 0..<p.outChannels)
            return
        }
        forEachImage(units: units, parts: parts) { image, p0, p1 in
            let channels = (p0 * p.outChannels / parts)..<(p1 * p.outChannels / parts)
            activeKernels.convTranspose(p, input: x, weights: w, bias: bias, output: y, scratch: ctx.scratch,
                                        batchRange: image..<(image + 1), channelRange: channels)
        }
    }
}
