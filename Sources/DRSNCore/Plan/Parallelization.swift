import DRSNKernels

/// How a step splits into independent units of work (images of a batch, rows, planes,
/// element blocks) and roughly how much arithmetic each unit is.
enum Parallelization {
    /// Work below this many flop-equivalents per task is not worth waking a thread (~2 us).
    static let minWorkPerTask = 24_000
    /// A convolution image is split over output channels only when each part has at least this many flops.
    static let minChannelSplitWork = 1_000_000
    /// Elementwise ranges are split at multiples of this many elements.
    static let elementBlock = 64

    /// How a convolution is split over output channels as well as images when the batch does
    /// not divide evenly over the threads (e.g. batch 1): each image is split into `parts`
    /// (<= threads) contiguous ranges of `blocks` channel blocks of `channelsPerBlock`
    /// channels; unit u is image u / parts, part u % parts. parts == 1: images only.
    /// Few parts per image, because every part pads the image again.
    static func convChannelSplit(_ p: ConvParams, threads: Int) -> (parts: Int, blocks: Int, channelsPerBlock: Int) {
        guard threads > 1, p.batch < 4 * threads, p.batch % threads != 0 else { return (1, 1, p.outChannels) }
        let cb = convChannelBlock(p)
        guard cb > 0, p.outChannels > cb else { return (1, 1, p.outChannels) }
        let blocks = (p.outChannels + cb - 1) / cb
        let parts = min(blocks, threads)
        // Each part must outweigh waking a worker and padding the image again (~30 us of FMAs).
        let perImage = p.outChannels * p.outHeight * p.outWidth * p.inChannels * p.kernelHeight * p.kernelWidth * 2
        guard perImage / parts >= minChannelSplitWork else { return (1, 1, p.outChannels) }
        return (parts, blocks, cb)
    }

    /// Output channels of units lo ..< hi of one image (all units of the same image) under `convChannelSplit`.
    static func convChannelRange(partLo: Int, partHi: Int, parts: Int, blocks: Int, channelsPerBlock cb: Int,
                                 outChannels: Int) -> Range<Int> {
        let b0 = partLo * blocks / parts, b1 = partHi * blocks / parts
        return (b0 * cb)..<min(b1 * cb, outChannels)
    }

    /// (units, work per unit); units == 1 means the step is not split.
    static func units(_ kind: StepKind, threads: Int) -> (Int, Int) {
        switch kind {
        case .conv(let p, _, _):
            let perImage = p.outChannels * p.outHeight * p.outWidth * (p.inChannels / max(p.groups, 1)) * p.kernelHeight * p.kernelWidth * 2
            let (parts, _, _) = convChannelSplit(p, threads: threads)
            return (p.batch * parts, perImage / parts)
        case .gemm(_, _, let m, let n, let k, _, _, _):
            return (m, 2 * n * k)
        case .batchedMatMul(let batch, let m, let n, let k, _, _):
            return (batch, 2 * m * n * k)
        case .unary(_, let count), .copy(let count):
            return ((count + elementBlock - 1) / elementBlock, elementBlock * 4)
        case .binary(_, _, _, let outShape), .select(_, _, _, let outShape):
            guard let first = outShape.first else { return (1, 1) }
            return (first, outShape.dropFirst().reduce(1, *) * 2)
        case .scaleShift(let batch, let channels, let inner, _):
            return (batch, channels * inner * 2)
        case .globalAveragePool(let planes, let planeSize):
            return (planes, planeSize)
        case .maxPool(let p), .averagePool(let p):
            return (p.planes, p.outHeight * p.outWidth * p.kernelHeight * p.kernelWidth)
        case .shrink(let planeSize, let offsets, _, _):
            return (offsets.count, planeSize * 3)
        case .thresholdNetwork(let batch, let inChannels, let hidden, let outChannels, _, _, _, _):
            return (batch, (inChannels + outChannels) * hidden * 2)
        case .absMean(let planes, let planeSize):
            return (planes, planeSize)
        case .softmax(let outer, let axisSize, let inner):
            return (outer, axisSize * inner * 8)
        default:
            return (1, 1)
        }
    }

    static func tasks(for kind: StepKind, threads: Int) -> Int {
        guard threads > 1 else { return 1 }
        let (units, perUnit) = units(kind, threads: threads)
        guard units > 1 else { return 1 }
        let total = units * max(perUnit, 1)
        let byWork = total / minWorkPerTask
        return max(1, min(units, threads * 4, byWork))
    }
}
