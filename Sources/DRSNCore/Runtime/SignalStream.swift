import Glibc

/// How the frames of a multi-channel chunk are laid out in memory.
public enum FrameLayout: Sendable, Equatable {
    /// Channel by channel: channel c's `frames` samples are contiguous, at `c * frames`.
    case planar
    /// Frame by frame, as acquisition cards and PCM deliver them: sample (f, c) at `f * channels + c`.
    case interleaved
}

/// Where a push or flush writes the windows it returns (caller memory, `capacity` windows).
/// `outputs[j]` holds `capacity * perWindowElements[j]` floats, `starts` `capacity` values;
/// with introspection `thresholds[u]` holds `capacity * thresholdsPerSample[u]` floats and
/// `zeroFractions[u]` `capacity`.
public struct StreamOutputs {
    public var capacity: Int
    public var outputs: UnsafeBufferPointer<UnsafeMutablePointer<Float>>
    public var starts: UnsafeMutablePointer<Int64>?
    public var thresholds: UnsafeBufferPointer<UnsafeMutablePointer<Float>>
    public var zeroFractions: UnsafeBufferPointer<UnsafeMutablePointer<Float>>

    public init(capacity: Int, outputs: UnsafeBufferPointer<UnsafeMutablePointer<Float>>,
                starts: UnsafeMutablePointer<Int64>?,
                thresholds: UnsafeBufferPointer<UnsafeMutablePointer<Float>> = UnsafeBufferPointer(start: nil, count: 0),
                zeroFractions: UnsafeBufferPointer<UnsafeMutablePointer<Float>> = UnsafeBufferPointer(start: nil, count: 0)) {
        self.capacity = capacity
        self.outputs = outputs
        self.starts = starts
        self.thresholds = thresholds
        self.zeroFractions = zeroFractions
    }
}

/// What a push or flush returned.
public struct StreamProgress: Sendable, Equatable {
    /// Windows written to the caller's buffers, in window order.
    public var windows: Int
    /// Complete windows not returned yet: waiting for a batch (`maxWaiting`) or for room.
    public var pending: Int
    /// True when some of the pending windows were ready but did not fit the caller's buffers.
    public var outOfRoom: Bool
}

/// Sliding-window inference on a live signal that arrives in chunks of any size: the
/// windows and their outputs are those `Model.runWindows` gives on the whole signal pushed
/// since creation (or `reset`), bit for bit, whatever the chunking.
///
/// - Frames are copied into a per-channel FIFO that keeps only what windows not yet
///   returned need: from the start of the oldest one (frames in the gaps of a hop larger
///   than the window are never stored). It grows when a push needs more room (a chunk
///   larger than any before, or windows left pending) and never shrinks before `deinit`;
///   a steady stream of pushes no larger than earlier ones allocates nothing.
/// - Window k starts at frame k * hop. The windows a push completes are normalised with
///   `SlidingWindow.normalize` (the code `runWindows` uses) and run together, directly into
///   the caller's buffers, in batches of `windows.batchSize` or of powers of two below it
///   (`batch(_:limit:)`: 7 windows run as 4 + 2 + 1), so that a stream needs a handful of
///   execution plans whatever its chunk sizes. The kernels are batch invariant (a window's
///   outputs do not depend on its batch), so the batching cannot change a bit.
/// - `maxWaiting` is the latency bound: complete windows may wait, unrun, until more than
///   `maxWaiting` of them are complete (0: every push runs the windows it completed), so
///   that several pushes' windows share one batch. `flush` runs them regardless.
/// - Room: a push consumes all its frames always. When the caller's buffers hold fewer
///   windows than are ready, the first ones that fit are returned and the rest stay
///   pending (`StreamProgress.outOfRoom`); nothing is lost: the next push or flush returns
///   them first.
/// - Not thread-safe: one thread at a time per stream. Any number of streams may share one
///   model across threads (the model is).
public final class SignalStream {
    public let model: Model
    public let channels: Int
    public let windows: SlidingWindow
    public let maxWaiting: Int
    /// Whether pushes also report the shrinkage units' thresholds and zeroed fractions.
    public let introspect: Bool
    /// Floats of output j per window.
    public let perWindowElements: [Int]
    /// The shrinkage units for one window (empty unless `introspect`).
    public let units: [ShrinkageUnitInfo]

    /// Frames pushed since creation or the last reset.
    public private(set) var framesPushed: Int = 0
    /// Index of the oldest window not returned yet (window k starts at frame k * hop).
    public private(set) var nextWindow: Int = 0

    /// Per-channel FIFO: channel c's frames at `fifo + c * fifoCapacity`; frame `fifoStart + i`
    /// of the signal at offset `fifoOffset + i` for i < fifoCount.
    private var fifo: UnsafeMutablePointer<Float>
    private var fifoCapacity: Int
    private var fifoOffset = 0
    private var fifoCount = 0
    private var fifoStart = 0
    /// One batch of normalised windows, [batchSize, channels, window].
    private let staging: AlignedBuffer
    /// Run arguments in place, so that a push allocates nothing: the input shape (rank 3 or 2,
    /// batch first), its rank, the pointer arrays.
    private let shapeDims: UnsafeMutablePointer<Int64>
    private let shapeRank: UnsafeMutablePointer<Int>
    private let shapeList: UnsafeMutablePointer<UnsafePointer<Int64>?>
    private let inputList: UnsafeMutablePointer<UnsafePointer<Float>>
    private let outputList: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    private let capacityList: UnsafeMutablePointer<Int>

    /// A stream over `model` (one input [N, C, W], or [N, W] with one channel) for a signal of
    /// `channels` channels. `windows.batchSize` is the most windows one run takes.
    public init(model: Model, channels: Int, windows: SlidingWindow, maxWaiting: Int = 0,
                introspect: Bool = false) throws(DRSNError) {
        guard channels >= 1, channels <= 1 << 16, windows.window >= 1, windows.window <= HeaderConstants.maxDimension,
              windows.hop >= 1, windows.hop <= 1 << 40, windows.batchSize >= 1, windows.batchSize <= 1 << 20,
              maxWaiting >= 0, maxWaiting <= 1 << 20 else {
            throw fail(.invalidArgument, "channels (1...65536), window (1...2^31), hop (>= 1), batch size (1...2^20) and max waiting (0...2^20) out of range: got \(channels), \(windows.window), \(windows.hop), \(windows.batchSize), \(maxWaiting)")
        }
        if case .zScore(let eps) = windows.normalization, !(eps >= 0 && eps.isFinite) {
            throw fail(.invalidArgument, "the normalisation epsilon must be finite and >= 0, got \(eps)")
        }
        let (windowElements, o1) = channels.multipliedReportingOverflow(by: windows.window)
        let (stagingElements, o2) = windowElements.multipliedReportingOverflow(by: windows.batchSize)
        guard !o1, !o2, stagingElements <= 1 << 34 else {
            throw fail(.limitExceeded, "a batch of \(windows.batchSize) windows of \(channels) x \(windows.window) samples is too large")
        }
        let oneWindow = try model.windowInputShape(batch: 1, channels: channels, window: windows.window)
        self.model = model
        self.channels = channels
        self.windows = windows
        self.maxWaiting = maxWaiting
        self.introspect = introspect
        perWindowElements = try model.perWindowOutputElements(channels: channels, window: windows.window)
        units = introspect ? try model.shrinkageUnits(for: [oneWindow]) : []
        guard let staging = AlignedBuffer(count: stagingElements) else {
            throw fail(.outOfMemory, "cannot allocate \(stagingElements) floats for a batch of windows")
        }
        self.staging = staging
        // Room for a window and a hop beyond it to begin with; pushes grow it as needed.
        let initial = windows.window + min(windows.hop, windows.window)
        guard let buffer = SignalStream.allocate(channels * initial) else {
            throw fail(.outOfMemory, "cannot allocate \(channels) x \(initial) floats for the stream")
        }
        fifo = buffer
        fifoCapacity = initial
        let rank = oneWindow.count
        shapeDims = .allocate(capacity: rank)
        for (i, d) in oneWindow.enumerated() { shapeDims[i] = Int64(d) }
        shapeRank = .allocate(capacity: 1)
        shapeRank.initialize(to: rank)
        shapeList = .allocate(capacity: 1)
        shapeList.initialize(to: UnsafePointer(shapeDims))
        inputList = .allocate(capacity: 1)
        inputList.initialize(to: UnsafePointer(staging.pointer))
        let outputs = max(perWindowElements.count, 1)
        outputList = .allocate(capacity: outputs)
        outputList.initialize(repeating: staging.pointer, count: outputs)
        capacityList = .allocate(capacity: outputs)
        capacityList.initialize(repeating: 0, count: outputs)
    }

    deinit {
        free(fifo)
        shapeDims.deallocate()
        shapeRank.deallocate()
        shapeList.deallocate()
        inputList.deallocate()
        outputList.deallocate()
        capacityList.deallocate()
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float>? {
        guard count >= 1, count <= Int.max / 4 else { return nil }
        return malloc(count * MemoryLayout<Float>.stride)?.bindMemory(to: Float.self, capacity: count)
    }

    /// Windows complete after `frames` more frames and not returned yet: the room a push of
    /// `frames` frames (or a flush, with 0) may need at most.
    public func windowsReady(afterMoreFrames frames: Int) -> Int {
        let (total, overflow) = framesPushed.addingReportingOverflow(max(frames, 0))
        guard !overflow else { return Int.max }
        return SlidingWindow.count(length: total, window: windows.window, hop: windows.hop) - nextWindow
    }

    /// Forgets every frame and window: the next frame pushed is frame 0 again.
    public func reset() {
        framesPushed = 0
        nextWindow = 0
        fifoOffset = 0
        fifoCount = 0
        fifoStart = 0
    }

    /// Appends `frames` frames of `channels` channels at `samples` (laid out as `layout`) and
    /// returns, into `out`, the windows that are ready (see the type's notes). Every frame is
    /// consumed, also when the windows do not all fit; a failure before any frame is
    /// consumed (a wrong channel count, no memory for the frames) leaves the stream as it
    /// was. NaN and Inf samples are computed with IEEE arithmetic, like `Model.run`.
    public func push(_ samples: UnsafePointer<Float>?, channels: Int, frames: Int, layout: FrameLayout,
                     into out: StreamOutputs) throws(DRSNError) -> StreamProgress {
        guard channels == self.channels else {
            throw fail(.shapeMismatch, "the stream was created for \(self.channels) channel(s), the chunk has \(channels)")
        }
        guard frames >= 0, frames <= 1 << 40 else { throw fail(.invalidArgument, "frames \(frames) out of range") }
        guard framesPushed <= Int.max - frames - windows.window - windows.hop else {
            throw fail(.limitExceeded, "the stream has counted \(framesPushed) frames: its frame index would overflow; reset it")
        }
        try checkOutputs(out)
        if frames > 0 {
            guard let samples else { throw fail(.invalidArgument, "samples is NULL but frames is \(frames)") }
            try append(samples, frames: frames, layout: layout)
        }
        return try runReady(into: out, flushing: false)
    }

    /// Returns the complete windows that are waiting (for a batch or for room) whatever
    /// `maxWaiting` says. Frames of an incomplete window stay: the stream goes on.
    public func flush(into out: StreamOutputs) throws(DRSNError) -> StreamProgress {
        try checkOutputs(out)
        return try runReady(into: out, flushing: true)
    }

    private func checkOutputs(_ out: StreamOutputs) throws(DRSNError) {
        guard out.capacity >= 0 else { throw fail(.invalidArgument, "capacity \(out.capacity) out of range") }
        guard out.outputs.count == perWindowElements.count else {
            throw fail(.invalidArgument, "the model has \(perWindowElements.count) output(s), \(out.outputs.count) given")
        }
        let unitCount = introspect ? units.count : 0
        guard out.thresholds.count == unitCount, out.zeroFractions.count == unitCount else {
            throw fail(.invalidArgument, introspect
                ? "the model has \(units.count) shrinkage unit(s) for one window, \(out.thresholds.count) threshold and \(out.zeroFractions.count) zero-fraction buffers given"
                : "the stream was created without introspection: no threshold or zero-fraction buffers are written (\(out.thresholds.count) given)")
        }
    }

    /// Copies the frames the next windows need into the FIFO. Allocates only when the FIFO is
    /// too small; throws before changing anything when that fails.
    private func append(_ samples: UnsafePointer<Float>, frames: Int, layout: FrameLayout) throws(DRSNError) {
        // Frames before the oldest window still needed are never stored (hop > window).
        let keepFrom = nextWindow * windows.hop
        let skip = min(frames, max(0, keepFrom - framesPushed))
        let stored = frames - skip
        if stored > 0 {
            dropFramesBefore(keepFrom)
            if fifoCount == 0 { fifoStart = framesPushed + skip; fifoOffset = 0 }
            try makeRoom(for: stored)
            let channelStride = layout == .planar ? frames : 1
            let frameStride = layout == .planar ? 1 : channels
            for c in 0..<channels {
                let dst = fifo + c * fifoCapacity + fifoOffset + fifoCount
                let src = samples + c * channelStride + skip * frameStride
                if frameStride == 1 {
                    dst.update(from: src, count: stored)
                } else {
                    for f in 0..<stored { dst[f] = src[f * frameStride] }
                }
            }
            fifoCount += stored
        }
        framesPushed += frames
    }

    /// Forgets the stored frames before signal frame `first`.
    private func dropFramesBefore(_ first: Int) {
        let drop = min(fifoCount, max(0, first - fifoStart))
        fifoOffset += drop
        fifoCount -= drop
        fifoStart += drop
        if fifoCount == 0 { fifoOffset = 0 }
    }

    /// Ensures room for `more` frames after the stored ones: moves them to the front, or
    /// moves them into a larger block.
    private func makeRoom(for more: Int) throws(DRSNError) {
        let needed = fifoCount + more
        if fifoOffset + needed <= fifoCapacity { return }
        if needed <= fifoCapacity {
            for c in 0..<channels {
                let base = fifo + c * fifoCapacity
                base.update(from: base + fifoOffset, count: fifoCount)  // overlapping: update(from:) moves forward safely
            }
            fifoOffset = 0
            return
        }
        let capacity = max(needed, fifoCapacity + fifoCapacity / 2)
        let (total, overflow) = capacity.multipliedReportingOverflow(by: channels)
        guard !overflow, let bigger = SignalStream.allocate(total) else {
            throw fail(.outOfMemory, "cannot allocate \(channels) x \(capacity) floats for the stream's frames")
        }
        for c in 0..<channels {
            (bigger + c * capacity).update(from: fifo + c * fifoCapacity + fifoOffset, count: fifoCount)
        }
        free(fifo)
        fifo = bigger
        fifoCapacity = capacity
        fifoOffset = 0
    }

    /// Runs the ready windows (all complete ones when flushing or when more than `maxWaiting`
    /// are complete) into `out`, as many as fit, in batches of at most `batchSize`.
    private func runReady(into out: StreamOutputs, flushing: Bool) throws(DRSNError) -> StreamProgress {
        let complete = SlidingWindow.count(length: framesPushed, window: windows.window, hop: windows.hop) - nextWindow
        var produced = 0
        if complete > 0 && (flushing || complete > maxWaiting) {
            while produced < min(complete, out.capacity) {
                let n = SignalStream.batch(min(windows.batchSize, complete - produced, out.capacity - produced),
                                           limit: windows.batchSize)
                do {
                    try runBatch(n, at: produced, into: out)
                } catch {
                    // The windows stay pending. A failure after batches were written returns
                    // those (the next call reports it again when it persists); a failure of
                    // the first batch is reported now.
                    if produced == 0 { throw error }
                    break
                }
                nextWindow += n
                produced += n
            }
        }
        let pending = complete - produced
        return StreamProgress(windows: produced, pending: pending,
                              outOfRoom: out.capacity < complete && (flushing || complete > maxWaiting))
    }

    /// The batch to run for `n` ready windows (1 <= n <= limit): `limit` itself, or the
    /// largest power of two up to n. A stream thus runs at most log2(limit) + 2 batch sizes,
    /// whatever the chunk sizes: their execution plans stay cached, and warm pushes neither
    /// build plans nor allocate.
    static func batch(_ n: Int, limit: Int) -> Int {
        n >= limit ? limit : 1 << (Int.bitWidth - 1 - n.leadingZeroBitCount)
    }

    /// Normalises windows nextWindow ..< nextWindow + n from the FIFO into the staging batch
    /// and runs them into the caller's buffers at window offset `offset`.
    private func runBatch(_ n: Int, at offset: Int, into out: StreamOutputs) throws(DRSNError) {
        let window = windows.window
        for k in 0..<n {
            let start = (nextWindow + k) * windows.hop - fifoStart + fifoOffset
            for c in 0..<channels {
                let dst = staging.pointer + (k * channels + c) * window
                dst.update(from: fifo + c * fifoCapacity + start, count: window)
                windows.normalize(dst)
            }
            out.starts?[offset + k] = Int64((nextWindow + k) * windows.hop)
        }
        shapeDims[0] = Int64(n)
        for j in 0..<perWindowElements.count {
            outputList[j] = out.outputs[j] + offset * perWindowElements[j]
            capacityList[j] = n * perWindowElements[j]
        }
        if introspect {
            let shape = (0..<shapeRank.pointee).map { Int(shapeDims[$0]) }
            try model.runIntrospecting(
                inputs: [UnsafePointer(staging.pointer)], inputShapes: [shape],
                outputs: (0..<perWindowElements.count).map { outputList[$0] },
                outputCapacities: (0..<perWindowElements.count).map { capacityList[$0] },
                thresholds: units.indices.map { out.thresholds[$0] + offset * units[$0].thresholdsPerSample },
                zeroFractions: units.indices.map { out.zeroFractions[$0] + offset })
            return
        }
        try model.run(inputs: UnsafeBufferPointer(start: inputList, count: 1),
                      inputShapes: RawShapes(count: 1, dims: shapeList, ranks: shapeRank),
                      outputs: UnsafeBufferPointer(start: outputList, count: perWindowElements.count),
                      outputCapacities: UnsafeBufferPointer(start: capacityList, count: perWindowElements.count))
    }
}
