import Glibc

/// How windows cut from a long signal are normalised before inference.
public enum WindowNormalization: Sendable, Equatable {
    case none
    /// Per window and channel: (x - mean) / (std + epsilon), population standard deviation.
    case zScore(epsilon: Float)
}

/// Sliding-window inference on long recordings: windows of `window` samples every `hop`
/// samples, normalised like the training data, run in internal batches.
public struct SlidingWindow: Sendable {
    public var window: Int
    public var hop: Int
    public var normalization: WindowNormalization
    /// Windows per internal batch.
    public var batchSize: Int

    public init(window: Int, hop: Int, normalization: WindowNormalization = .zScore(epsilon: HeaderConstants.defaultZScoreEpsilon),
                batchSize: Int = HeaderConstants.defaultWindowBatch) {
        self.window = window
        self.hop = hop
        self.normalization = normalization
        self.batchSize = batchSize
    }

    /// Number of full windows in a signal of `length` samples (0 if the signal is shorter than a window).
    public static func count(length: Int, window: Int, hop: Int) -> Int {
        guard window >= 1, hop >= 1, length >= window else { return 0 }
        return (length - window) / hop + 1
    }

    /// Copies windows [first, first + n) of a [channels, length] signal into `out`
    /// ([n, channels, window]) and normalises them.
    func fill(_ out: UnsafeMutablePointer<Float>, signal: UnsafePointer<Float>, channels: Int, length: Int,
              first: Int, count n: Int) {
        for k in 0..<n {
            let start = (first + k) * hop
            for c in 0..<channels {
                let src = signal + c * length + start
                let dst = out + (k * channels + c) * window
                dst.update(from: src, count: window)
                normalize(dst)
            }
        }
    }

    /// Normalises one channel of one window (`window` floats) in place as `normalization`
    /// says. The one implementation: `runWindows` and `SignalStream` both call it, so that a
    /// stream gives `runWindows`' bits.
    func normalize(_ dst: UnsafeMutablePointer<Float>) {
        guard case .zScore(let eps) = normalization else { return }
        // Two passes in double precision, as numpy computes (x - mean) / (std + eps):
        // exact for signals with a large DC offset and a small variance. Four partial sums
        // in a fixed order (index mod 4, then (0 + 1) + (2 + 3)) keep the adds independent.
        let mean = Self.sum(dst, window) { Double($0) } / Double(window)
        let squares = Self.sum(dst, window) { let d = Double($0) - mean; return d * d }
        let scale = 1 / ((squares / Double(window)).squareRoot() + Double(eps))
        for i in 0..<window { dst[i] = Float((Double(dst[i]) - mean) * scale) }
    }

    /// sum of term(x[i]) for i < n in double precision, in four interleaved partial sums.
    @inline(__always)
    private static func sum(_ x: UnsafeMutablePointer<Float>, _ n: Int, _ term: (Float) -> Double) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        while i + 4 <= n {
            s0 += term(x[i]); s1 += term(x[i + 1]); s2 += term(x[i + 2]); s3 += term(x[i + 3])
            i += 4
        }
        while i < n {
            s0 += term(x[i])
            i += 1
        }
        return (s0 + s1) + (s2 + s3)
    }
}

extension Model {
    /// Elements of output `j` per window (the output's shape for batch 1 without the batch dimension).
    public func perWindowOutputElements(channels: Int, window: Int) throws(DRSNError) -> [Int] {
        try outputShapes(for: [try windowInputShape(batch: 1, channels: channels, window: window)]).map { s in
            s.dropFirst().reduce(1, *)
        }
    }

    func windowInputShape(batch: Int, channels: Int, window: Int) throws(DRSNError) -> [Int] {
        guard inputs.count == 1, let dims = inputs[0].dims else {
            throw fail(.invalidArgument, "sliding-window inference needs a model with one input of declared shape [N, C, W] or [N, W]")
        }
        switch dims.count {
        case 3: return [batch, channels, window]
        case 2:
            guard channels == 1 else {
                throw fail(.shapeMismatch, "input '\(inputs[0].name)' has shape [N, W]: a signal with \(channels) channels does not fit")
            }
            return [batch, window]
        default:
            throw fail(.shapeMismatch, "sliding-window inference needs an input of rank 3 [N, C, W] or 2 [N, W]; '\(inputs[0].name)' has rank \(dims.count)")
        }
    }

    /// Runs every window of a [channels, length] signal; output j receives
    /// [windowCount, per-window shape] in window order. Returns the window count.
    @discardableResult
    public func runWindows(signal: UnsafePointer<Float>, channels: Int, length: Int, windows: SlidingWindow,
                           outputs: [UnsafeMutablePointer<Float>], outputCapacities: [Int]) throws(DRSNError) -> Int {
        guard channels >= 1, length >= 1, windows.window >= 1, windows.hop >= 1, windows.batchSize >= 1 else {
            throw fail(.invalidArgument, "channels, length, window, hop and batch size must be >= 1 (got \(channels), \(length), \(windows.window), \(windows.hop), \(windows.batchSize))")
        }
        if case .zScore(let eps) = windows.normalization, !(eps >= 0) {
            throw fail(.invalidArgument, "the normalisation epsilon must be >= 0, got \(eps)")
        }
        let total = SlidingWindow.count(length: length, window: windows.window, hop: windows.hop)
        guard total > 0 else {
            throw fail(.shapeMismatch, "the signal has \(length) samples, fewer than one window of \(windows.window)")
        }
        let per = try perWindowOutputElements(channels: channels, window: windows.window)
        guard outputs.count == per.count, outputCapacities.count == per.count else {
            throw fail(.invalidArgument, "the model has \(per.count) output(s), \(outputs.count) given")
        }
        for j in 0..<per.count where outputCapacities[j] < total * per[j] {
            throw fail(.bufferTooSmall, "output '\(self.outputs[j].name)' needs \(total) windows x \(per[j]) = \(total * per[j]) floats, buffer holds \(outputCapacities[j])")
        }
        let batch = min(windows.batchSize, total)
        let windowElements = channels * windows.window
        guard let staging = AlignedBuffer(count: batch * windowElements) else {
            throw fail(.outOfMemory, "cannot allocate \(batch) windows of \(windowElements) floats")
        }
        var first = 0
        while first < total {
            let n = min(batch, total - first)
            windows.fill(staging.pointer, signal: signal, channels: channels, length: length, first: first, count: n)
            let shape = try windowInputShape(batch: n, channels: channels, window: windows.window)
            try run(inputs: [UnsafePointer(staging.pointer)], inputShapes: [shape],
                    outputs: (0..<per.count).map { outputs[$0] + first * per[$0] },
                    outputCapacities: per.map { $0 * n })
            first += n
        }
        return total
    }
}
