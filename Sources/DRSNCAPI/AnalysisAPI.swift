import CDRSNSupport
import DRSNCore

@_cdecl("drsn_window_count")
public func drsn_window_count(_ length: Int, _ window: Int, _ hop: Int, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    guard let out else { return invalid("drsn_window_count", "out_count is NULL") }
    guard length >= 0, window >= 1, hop >= 1 else {
        return invalid("drsn_window_count", "window and hop must be >= 1 (got window \(window), hop \(hop))")
    }
    out.pointee = SlidingWindow.count(length: length, window: window, hop: hop)
    return ok
}

@_cdecl("drsn_model_run_windows")
public func drsn_model_run_windows(_ p: OpaquePointer?, _ signal: UnsafePointer<Float>?, _ channels: Int, _ length: Int,
                                   _ window: Int, _ hop: Int, _ normalization: Int32, _ epsilon: Float,
                                   _ batchSize: Int, _ numOutputs: Int, _ outputs: UnsafePointer<UnsafeMutablePointer<Float>?>?,
                                   _ capacities: UnsafePointer<Int>?, _ outCount: UnsafeMutablePointer<Int>?) -> Int32 {
    let fn = "drsn_model_run_windows"
    guard let m = model(p) else { return invalid(fn, "model is NULL") }
    guard let signal else { return invalid(fn, "signal is NULL") }
    guard Int(bitPattern: signal) % MemoryLayout<Float>.alignment == 0 else { return invalid(fn, "signal is not aligned to 4 bytes") }
    guard channels >= 1, channels <= 1 << 16, length >= 1, length <= 1 << 40, window >= 1, window <= HeaderConstants.maxDimension, hop >= 1 else {
        return invalid(fn, "channels, length, window and hop must be >= 1 and of sane size (got \(channels), \(length), \(window), \(hop))")
    }
    let (total, overflow) = channels.multipliedReportingOverflow(by: length)
    guard !overflow, total <= 1 << 40 else { return invalid(fn, "channels x length overflows") }
    let norm: WindowNormalization
    switch normalization {
    case abiCode(DRSN_NORMALIZE_NONE): norm = .none
    case abiCode(DRSN_NORMALIZE_ZSCORE):
        guard epsilon >= 0, epsilon.isFinite else { return invalid(fn, "epsilon must be finite and >= 0, got \(epsilon)") }
        norm = .zScore(epsilon: epsilon)
    default: return invalid(fn, "unknown normalization \(normalization)")
    }
    guard batchSize >= 0, batchSize <= 1 << 20 else { return invalid(fn, "batch_size must be 0..2^20, got \(batchSize)") }
    guard numOutputs == m.model.outputs.count else {
        return invalid(fn, "the model has \(m.model.outputs.count) output(s), num_outputs is \(numOutputs)")
    }
    guard numOutputs == 0 || (outputs != nil && capacities != nil) else { return invalid(fn, "outputs or output_capacities is NULL") }
    var outs: [UnsafeMutablePointer<Float>] = []
    var caps: [Int] = []
    for j in 0..<numOutputs {
        guard let y = outputs![j] else { return invalid(fn, "outputs[\(j)] is NULL") }
        guard Int(bitPattern: y) % MemoryLayout<Float>.alignment == 0 else { return invalid(fn, "outputs[\(j)] is not aligned to 4 bytes") }
        outs.append(y)
        caps.append(capacities![j])
    }
    do throws(DRSNError) {
        let n = try m.model.runWindows(signal: signal, channels: channels, length: length,
                                       windows: SlidingWindow(window: window, hop: hop, normalization: norm,
                                                              batchSize: batchSize == 0 ? HeaderConstants.defaultWindowBatch : batchSize),
                                       outputs: outs, outputCapacities: caps)
        outCount?.pointee = n
        return ok
    } catch {
        return report(error)
    }
}

@_cdecl("drsn_model_shrinkage_units")
public func drsn_model_shrinkage_units(_ p: OpaquePointer?, _ numInputs: Int, _ inputDims: UnsafePointer<UnsafePointer<Int64>?>?,
                                       _ inputRanks: UnsafePointer<Int>?, _ outCount: UnsafeMutablePointer<Int>?,
                                       _ thresholds: UnsafeMutablePointer<Int>?, _ features: UnsafeMutablePointer<Int>?,
                                       _ capacity: Int) -> Int32 {
    let fn = "drsn_model_shrinkage_units"
    guard let m = model(p) else { return invalid(fn, "model is NULL") }
    guard let outCount else { return invalid(fn, "out_count is NULL") }
    guard capacity >= 0, capacity == 0 || (thresholds != nil && features != nil) else {
        return invalid(fn, "thresholds_per_sample or features_per_sample is NULL but capacity is \(capacity)")
    }
    do throws(DRSNError) {
        let shapes = try readShapes(fn, m, numInputs, inputDims, inputRanks).get()
        let units = try m.model.shrinkageUnits(for: shapes)
        outCount.pointee = units.count
        guard capacity >= units.count else {
            return report(.bufferTooSmall, "\(fn): the model has \(units.count) shrinkage units, capacity is \(capacity)")
        }
        for (u, info) in units.enumerated() {
            thresholds![u] = info.thresholdsPerSample
            features![u] = info.featuresPerSample
        }
        return ok
    } catch {
        return report(error)
    }
}

@_cdecl("drsn_model_run_introspect")
public func drsn_model_run_introspect(_ p: OpaquePointer?, _ numInputs: Int, _ inputs: UnsafePointer<UnsafePointer<Float>?>?,
                                      _ inputDims: UnsafePointer<UnsafePointer<Int64>?>?, _ inputRanks: UnsafePointer<Int>?,
                                      _ numOutputs: Int, _ outputs: UnsafePointer<UnsafeMutablePointer<Float>?>?,
                                      _ capacities: UnsafePointer<Int>?, _ numUnits: Int,
                                      _ thresholds: UnsafePointer<UnsafeMutablePointer<Float>?>?, _ thresholdCapacities: UnsafePointer<Int>?,
                                      _ zeroFractions: UnsafePointer<UnsafeMutablePointer<Float>?>?,
                                      _ zeroCapacities: UnsafePointer<Int>?) -> Int32 {
    let fn = "drsn_model_run_introspect"
    guard let m = model(p) else { return invalid(fn, "model is NULL") }
    do throws(DRSNError) {
        let (shapes, ins, outs, caps) = try readRunArguments(fn, m, numInputs, inputs, inputDims, inputRanks,
                                                             numOutputs, outputs, capacities)
        let units = try m.model.shrinkageUnits(for: shapes)
        guard numUnits == units.count else {
            return invalid(fn, "the model has \(units.count) shrinkage units for these shapes, num_units is \(numUnits)")
        }
        guard numUnits == 0 || (thresholds != nil && thresholdCapacities != nil && zeroFractions != nil && zeroCapacities != nil) else {
            return invalid(fn, "thresholds, zero_fractions or their capacities is NULL")
        }
        let batch = shapes.first?.first ?? 1
        var t: [UnsafeMutablePointer<Float>] = []
        var z: [UnsafeMutablePointer<Float>] = []
        for (u, info) in units.enumerated() {
            guard let tp = thresholds![u], let zp = zeroFractions![u] else { return invalid(fn, "buffers of unit \(u) are NULL") }
            guard thresholdCapacities![u] >= batch * info.thresholdsPerSample, zeroCapacities![u] >= batch else {
                return report(.bufferTooSmall, "\(fn): unit \(u) needs \(batch * info.thresholdsPerSample) threshold and \(batch) zero-fraction floats")
            }
            t.append(tp)
            z.append(zp)
        }
        try m.model.runIntrospecting(inputs: ins, inputShapes: shapes, outputs: outs, outputCapacities: caps,
                                     thresholds: t, zeroFractions: z)
        return ok
    } catch {
        return report(error)
    }
}
