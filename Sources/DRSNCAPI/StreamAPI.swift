import CDRSNSupport
import DRSNCore

/// Heap object behind a `drsn_stream*`: the stream and the model handle it keeps alive.
final class StreamHandle {
    let model: ModelHandle
    let stream: SignalStream

    init(model: ModelHandle, stream: SignalStream) {
        self.model = model
        self.stream = stream
    }
}

@inline(__always)
func stream(_ p: OpaquePointer?) -> StreamHandle? {
    guard let p else { return nil }
    return Unmanaged<StreamHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
}

@_cdecl("drsn_stream_create")
public func drsn_stream_create(_ p: OpaquePointer?, _ channels: Int, _ window: Int, _ hop: Int, _ normalization: Int32,
                               _ epsilon: Float, _ batchSize: Int, _ maxWaiting: Int, _ flags: UInt32,
                               _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    let fn = "drsn_stream_create"
    guard let out else { return invalid(fn, "out_stream is NULL") }
    out.pointee = nil
    guard let m = model(p) else { return invalid(fn, "model is NULL") }
    let norm: WindowNormalization
    switch normalization {
    case abiCode(DRSN_NORMALIZE_NONE): norm = .none
    case abiCode(DRSN_NORMALIZE_ZSCORE): norm = .zScore(epsilon: epsilon)
    default: return invalid(fn, "unknown normalization \(normalization)")
    }
    guard flags & ~UInt32(DRSN_STREAM_INTROSPECT) == 0 else { return invalid(fn, "unknown flags 0x\(String(flags, radix: 16))") }
    // size_t arguments above Int.max arrive negative: SignalStream refuses them with the others.
    do throws(DRSNError) {
        let s = try SignalStream(model: m.model, channels: channels,
                                 windows: SlidingWindow(window: window, hop: hop, normalization: norm,
                                                        batchSize: batchSize == 0 ? HeaderConstants.defaultWindowBatch : batchSize),
                                 maxWaiting: maxWaiting, introspect: flags & UInt32(DRSN_STREAM_INTROSPECT) != 0)
        out.pointee = OpaquePointer(Unmanaged.passRetained(StreamHandle(model: m, stream: s)).toOpaque())
        return ok
    } catch {
        return report(DRSNError(error.status, "\(fn): \(error.message)"))
    }
}

@_cdecl("drsn_stream_destroy")
public func drsn_stream_destroy(_ p: OpaquePointer?) {
    guard let p else { return }
    Unmanaged<StreamHandle>.fromOpaque(UnsafeRawPointer(p)).release()
}

@_cdecl("drsn_stream_reset")
public func drsn_stream_reset(_ p: OpaquePointer?) -> Int32 {
    guard let s = stream(p) else { return invalid("drsn_stream_reset", "stream is NULL") }
    s.stream.reset()
    return ok
}

@_cdecl("drsn_stream_output_elements")
public func drsn_stream_output_elements(_ p: OpaquePointer?, _ index: Int, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    let fn = "drsn_stream_output_elements"
    guard let s = stream(p) else { return invalid(fn, "stream is NULL") }
    guard let out else { return invalid(fn, "out_elements is NULL") }
    let per = s.stream.perWindowElements
    guard index >= 0, index < per.count else {
        return invalid(fn, "output_index \(UInt(bitPattern: index)) is out of range (the model has \(per.count) outputs)")
    }
    out.pointee = per[index]
    return ok
}

@_cdecl("drsn_stream_windows_ready")
public func drsn_stream_windows_ready(_ p: OpaquePointer?, _ frames: Int, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    let fn = "drsn_stream_windows_ready"
    guard let s = stream(p) else { return invalid(fn, "stream is NULL") }
    guard let out else { return invalid(fn, "out_windows is NULL") }
    guard frames >= 0 else { return invalid(fn, "frames \(UInt(bitPattern: frames)) is out of range") }
    out.pointee = s.stream.windowsReady(afterMoreFrames: frames)
    return ok
}

/// Checks the output arguments shared by push and flush and calls `body` with them as the
/// core's `StreamOutputs` (views of the caller's arrays: nothing is allocated).
private func withStreamOutputs(_ fn: String, _ s: SignalStream, _ capacity: Int, _ numOutputs: Int,
                               _ outputs: UnsafePointer<UnsafeMutablePointer<Float>?>?, _ starts: UnsafeMutablePointer<Int64>?,
                               _ numUnits: Int, _ thresholds: UnsafePointer<UnsafeMutablePointer<Float>?>?,
                               _ zeroFractions: UnsafePointer<UnsafeMutablePointer<Float>?>?,
                               _ body: (StreamOutputs) throws(DRSNError) -> StreamProgress) -> Result<StreamProgress, DRSNError> {
    guard capacity >= 0 else { return .failure(DRSNError(.invalidArgument, "\(fn): capacity \(UInt(bitPattern: capacity)) is out of range")) }
    guard numOutputs == s.perWindowElements.count else {
        return .failure(DRSNError(.invalidArgument, "\(fn): the model has \(s.perWindowElements.count) output(s), num_outputs is \(numOutputs)"))
    }
    let units = s.introspect ? s.units.count : 0
    guard numUnits == units else {
        return .failure(DRSNError(.invalidArgument, s.introspect
            ? "\(fn): the model has \(units) shrinkage unit(s) for one window, num_units is \(numUnits)"
            : "\(fn): num_units is \(numUnits), but the stream was created without DRSN_STREAM_INTROSPECT (0 expected)"))
    }
    let align = MemoryLayout<Float>.alignment
    if capacity > 0 {
        if numOutputs > 0 {
            guard let outputs else { return .failure(DRSNError(.invalidArgument, "\(fn): outputs is NULL")) }
            for j in 0..<numOutputs {
                guard let y = outputs[j] else { return .failure(DRSNError(.invalidArgument, "\(fn): outputs[\(j)] is NULL")) }
                guard Int(bitPattern: y) % align == 0 else {
                    return .failure(DRSNError(.invalidArgument, "\(fn): outputs[\(j)] is not aligned to 4 bytes"))
                }
            }
        }
        if let starts, Int(bitPattern: starts) % MemoryLayout<Int64>.alignment != 0 {
            return .failure(DRSNError(.invalidArgument, "\(fn): starts is not aligned to 8 bytes"))
        }
        if numUnits > 0 {
            guard let thresholds, let zeroFractions else {
                return .failure(DRSNError(.invalidArgument, "\(fn): thresholds or zero_fractions is NULL"))
            }
            for u in 0..<numUnits {
                guard let t = thresholds[u], let z = zeroFractions[u] else {
                    return .failure(DRSNError(.invalidArgument, "\(fn): thresholds[\(u)] or zero_fractions[\(u)] is NULL"))
                }
                guard Int(bitPattern: t) % align == 0, Int(bitPattern: z) % align == 0 else {
                    return .failure(DRSNError(.invalidArgument, "\(fn): thresholds[\(u)] or zero_fractions[\(u)] is not aligned to 4 bytes"))
                }
            }
        }
    }
    // With capacity 0 nothing is written: the arrays (possibly NULL) are viewed as empty.
    func view(_ p: UnsafePointer<UnsafeMutablePointer<Float>?>?, _ n: Int) -> UnsafeBufferPointer<UnsafeMutablePointer<Float>> {
        guard let p, capacity > 0 else {
            return UnsafeBufferPointer(start: n == 0 ? nil : UnsafePointer(bitPattern: 8), count: n)
        }
        return UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UnsafeMutablePointer<Float>.self), count: n)
    }
    let out = StreamOutputs(capacity: capacity, outputs: view(outputs, numOutputs), starts: capacity > 0 ? starts : nil,
                            thresholds: view(thresholds, numUnits), zeroFractions: view(zeroFractions, numUnits))
    do throws(DRSNError) {
        return .success(try body(out))
    } catch {
        return .failure(DRSNError(error.status, "\(fn): \(error.message)"))
    }
}

/// The status of a push or flush that returned `progress`, with its counts stored.
private func finish(_ fn: String, _ progress: StreamProgress, _ outWindows: UnsafeMutablePointer<Int>?,
                    _ outPending: UnsafeMutablePointer<Int>?) -> Int32 {
    outWindows?.pointee = progress.windows
    outPending?.pointee = progress.pending
    guard !progress.outOfRoom else {
        return report(.bufferTooSmall, "\(fn): \(progress.windows + progress.pending) windows are ready, room for \(progress.windows); \(progress.pending) stay pending (nothing is lost: the next push or flush returns them)")
    }
    return ok
}

@_cdecl("drsn_stream_push")
public func drsn_stream_push(_ p: OpaquePointer?, _ samples: UnsafePointer<Float>?, _ channels: Int, _ frames: Int,
                             _ layout: Int32, _ capacity: Int, _ numOutputs: Int,
                             _ outputs: UnsafePointer<UnsafeMutablePointer<Float>?>?, _ starts: UnsafeMutablePointer<Int64>?,
                             _ numUnits: Int, _ thresholds: UnsafePointer<UnsafeMutablePointer<Float>?>?,
                             _ zeroFractions: UnsafePointer<UnsafeMutablePointer<Float>?>?,
                             _ outWindows: UnsafeMutablePointer<Int>?, _ outPending: UnsafeMutablePointer<Int>?) -> Int32 {
    let fn = "drsn_stream_push"
    guard let s = stream(p) else { return invalid(fn, "stream is NULL") }
    let frameLayout: FrameLayout
    switch layout {
    case abiCode(DRSN_LAYOUT_PLANAR): frameLayout = .planar
    case abiCode(DRSN_LAYOUT_INTERLEAVED): frameLayout = .interleaved
    default: return invalid(fn, "unknown layout \(layout)")
    }
    guard frames >= 0 else { return invalid(fn, "frames \(UInt(bitPattern: frames)) is out of range") }
    guard frames == 0 || samples != nil else { return invalid(fn, "samples is NULL but frames is \(frames)") }
    if let samples, Int(bitPattern: samples) % MemoryLayout<Float>.alignment != 0 {
        return invalid(fn, "samples is not aligned to 4 bytes")
    }
    guard channels == s.stream.channels else {
        return report(.shapeMismatch, "\(fn): the stream was created for \(s.stream.channels) channel(s), the chunk has \(UInt(bitPattern: channels))")
    }
    let result = withStreamOutputs(fn, s.stream, capacity, numOutputs, outputs, starts, numUnits, thresholds, zeroFractions) {
        (out) throws(DRSNError) in
        try s.stream.push(samples, channels: channels, frames: frames, layout: frameLayout, into: out)
    }
    switch result {
    case .success(let progress): return finish(fn, progress, outWindows, outPending)
    case .failure(let error): return report(error)
    }
}

@_cdecl("drsn_stream_flush")
public func drsn_stream_flush(_ p: OpaquePointer?, _ capacity: Int, _ numOutputs: Int,
                              _ outputs: UnsafePointer<UnsafeMutablePointer<Float>?>?, _ starts: UnsafeMutablePointer<Int64>?,
                              _ numUnits: Int, _ thresholds: UnsafePointer<UnsafeMutablePointer<Float>?>?,
                              _ zeroFractions: UnsafePointer<UnsafeMutablePointer<Float>?>?,
                              _ outWindows: UnsafeMutablePointer<Int>?, _ outPending: UnsafeMutablePointer<Int>?) -> Int32 {
    let fn = "drsn_stream_flush"
    guard let s = stream(p) else { return invalid(fn, "stream is NULL") }
    let result = withStreamOutputs(fn, s.stream, capacity, numOutputs, outputs, starts, numUnits, thresholds, zeroFractions) {
        (out) throws(DRSNError) in
        try s.stream.flush(into: out)
    }
    switch result {
    case .success(let progress): return finish(fn, progress, outWindows, outPending)
    case .failure(let error): return report(error)
    }
}
