import DRSNCore

/// Largest rank accepted in the `input_ranks` argument of the functions that take input
/// shapes: it only bounds how many dimensions are read from a caller's array. The model checks
/// each rank against its declared inputs, and loading against the resource limit
/// DRSN_LIMIT_MAX_RANK (`OnnxLimits.maxRank`, default 8).
let maxInputRankArgument = 16

@_cdecl("drsn_model_load_file")
public func drsn_model_load_file(_ path: UnsafePointer<CChar>?, _ opts: OpaquePointer?,
                                 _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return invalid("drsn_model_load_file", "out_model is NULL") }
    out.pointee = nil
    guard let path else { return invalid("drsn_model_load_file", "utf8_path is NULL") }
    let o = options(opts)?.options ?? Options()
    do throws(DRSNError) {
        let m = try Model.load(path: String(cString: path), options: o)
        out.pointee = OpaquePointer(Unmanaged.passRetained(ModelHandle(m)).toOpaque())
        return ok
    } catch {
        return report(error)
    }
}

@_cdecl("drsn_model_load_memory")
public func drsn_model_load_memory(_ data: UnsafeRawPointer?, _ size: Int, _ opts: OpaquePointer?,
                                   _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return invalid("drsn_model_load_memory", "out_model is NULL") }
    out.pointee = nil
    guard let data else { return invalid("drsn_model_load_memory", "data is NULL") }
    guard size >= 0 else { return invalid("drsn_model_load_memory", "size \(UInt(bitPattern: size)) is larger than any buffer") }
    guard size > 0 else { return report(.invalidModel, "drsn_model_load_memory: the buffer is empty (size 0)") }
    let o = options(opts)?.options ?? Options()
    do throws(DRSNError) {
        let m = try Model.load(bytes: UnsafeRawBufferPointer(start: data, count: size), options: o)
        out.pointee = OpaquePointer(Unmanaged.passRetained(ModelHandle(m)).toOpaque())
        return ok
    } catch {
        return report(error)
    }
}

@_cdecl("drsn_model_destroy")
public func drsn_model_destroy(_ p: OpaquePointer?) {
    guard let p else { return }
    Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(p)).release()
}

@_cdecl("drsn_model_summary_json")
public func drsn_model_summary_json(_ p: OpaquePointer?) -> UnsafePointer<CChar>? {
    guard let m = model(p) else {
        _ = invalid("drsn_model_summary_json", "model is NULL")
        return nil
    }
    return UnsafePointer(m.summary)
}

// The count and name functions have no status to return: on a NULL model (or an index out of
// range) they return 0 / NULL and, like every failing call, store a message for drsn_last_error().

@_cdecl("drsn_model_input_count")
public func drsn_model_input_count(_ p: OpaquePointer?) -> Int {
    guard let m = model(p) else {
        _ = invalid("drsn_model_input_count", "model is NULL")
        return 0
    }
    return m.model.inputs.count
}

@_cdecl("drsn_model_output_count")
public func drsn_model_output_count(_ p: OpaquePointer?) -> Int {
    guard let m = model(p) else {
        _ = invalid("drsn_model_output_count", "model is NULL")
        return 0
    }
    return m.model.outputs.count
}

/// Shared body of drsn_model_input_name / drsn_model_output_name.
func tensorName(_ function: String, _ p: OpaquePointer?, _ index: Int, output: Bool) -> UnsafePointer<CChar>? {
    guard let m = model(p) else {
        _ = invalid(function, "model is NULL")
        return nil
    }
    let names = output ? m.outputNames : m.inputNames
    // size_t arrives as Int: an index above Int.max reads as negative.
    guard index >= 0, index < names.count else {
        _ = invalid(function, "index \(UInt(bitPattern: index)) is out of range (the model has \(names.count) \(output ? "outputs" : "inputs"))")
        return nil
    }
    return UnsafePointer(names[index])
}

@_cdecl("drsn_model_input_name")
public func drsn_model_input_name(_ p: OpaquePointer?, _ index: Int) -> UnsafePointer<CChar>? {
    tensorName("drsn_model_input_name", p, index, output: false)
}

@_cdecl("drsn_model_output_name")
public func drsn_model_output_name(_ p: OpaquePointer?, _ index: Int) -> UnsafePointer<CChar>? {
    tensorName("drsn_model_output_name", p, index, output: true)
}

/// Shared body of the introspection functions that return one TensorInfo field.
func withInfo(_ function: String, _ p: OpaquePointer?, _ index: Int, output: Bool,
              _ body: (TensorInfo) -> Int32) -> Int32 {
    guard let m = model(p) else { return invalid(function, "model is NULL") }
    let infos = output ? m.model.outputs : m.model.inputs
    guard index >= 0, index < infos.count else {
        return invalid(function, "index \(index) is out of range (the model has \(infos.count) \(output ? "outputs" : "inputs"))")
    }
    return body(infos[index])
}

@_cdecl("drsn_model_input_dtype")
public func drsn_model_input_dtype(_ p: OpaquePointer?, _ index: Int, _ out: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let out else { return invalid("drsn_model_input_dtype", "out_dtype is NULL") }
    return withInfo("drsn_model_input_dtype", p, index, output: false) { out.pointee = $0.dtype.rawValue; return ok }
}

@_cdecl("drsn_model_output_dtype")
public func drsn_model_output_dtype(_ p: OpaquePointer?, _ index: Int, _ out: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let out else { return invalid("drsn_model_output_dtype", "out_dtype is NULL") }
    return withInfo("drsn_model_output_dtype", p, index, output: true) { out.pointee = $0.dtype.rawValue; return ok }
}

/// Writes a shape with the dims/capacity/out_rank contract of drsn_model_input_shape.
func writeShape(_ function: String, _ shape: [Int], _ dims: UnsafeMutablePointer<Int64>?, _ capacity: Int,
                _ outRank: UnsafeMutablePointer<Int>?) -> Int32 {
    guard let outRank else { return invalid(function, "out_rank is NULL") }
    guard capacity == 0 || dims != nil else { return invalid(function, "dims is NULL but capacity is \(UInt(bitPattern: capacity))") }
    // size_t arguments arrive as Int: a capacity above Int.max reads as negative (and is huge).
    UnsafeMutableRawPointer(outRank).storeBytes(of: shape.count, as: Int.self)
    guard capacity < 0 || capacity >= shape.count else {
        return report(.bufferTooSmall, "\(function): the shape has rank \(shape.count), capacity is \(capacity)")
    }
    // Byte-wise stores: the caller's arrays need not be aligned.
    if let dims {
        let raw = UnsafeMutableRawPointer(dims)
        for (i, d) in shape.enumerated() { raw.storeBytes(of: Int64(d), toByteOffset: i * 8, as: Int64.self) }
    }
    return ok
}

@_cdecl("drsn_model_input_shape")
public func drsn_model_input_shape(_ p: OpaquePointer?, _ index: Int, _ dims: UnsafeMutablePointer<Int64>?,
                                   _ capacity: Int, _ outRank: UnsafeMutablePointer<Int>?) -> Int32 {
    withInfo("drsn_model_input_shape", p, index, output: false) {
        writeShape("drsn_model_input_shape", $0.dims ?? [], dims, capacity, outRank)
    }
}

@_cdecl("drsn_model_output_shape")
public func drsn_model_output_shape(_ p: OpaquePointer?, _ index: Int, _ dims: UnsafeMutablePointer<Int64>?,
                                    _ capacity: Int, _ outRank: UnsafeMutablePointer<Int>?) -> Int32 {
    withInfo("drsn_model_output_shape", p, index, output: true) {
        guard let known = $0.dims else {
            return report(.shapeMismatch, "drsn_model_output_shape: the shape of output '\($0.name)' is not known before the input shapes are (the model declares no input shapes); use drsn_model_output_shape_for")
        }
        return writeShape("drsn_model_output_shape", known, dims, capacity, outRank)
    }
}

/// Checks input `i`'s shape in the caller's arrays: `ranks[i]` (at most
/// `maxInputRankArgument`) and the `ranks[i]` dimensions at `dims[i]` (each
/// 1...DRSN_MAX_DIMENSION). Unaligned loads: the caller's arrays need not be aligned. Returns
/// the rank; allocates nothing unless it fails. The one reader of caller shapes: `readShapes`
/// and `drsn_model_run` both use it.
@inline(__always)
func checkInputShape(_ function: String, _ m: ModelHandle, _ i: Int, ranks: UnsafeRawPointer,
                     dims: UnsafeRawPointer) -> Result<Int, DRSNError> {
    let rank = ranks.loadUnaligned(fromByteOffset: i * MemoryLayout<Int>.stride, as: Int.self)
    guard rank >= 0, rank <= maxInputRankArgument else {
        return .failure(DRSNError(.invalidArgument, "\(function): input_ranks[\(i)] is \(UInt(bitPattern: rank)); ranks must be 0...\(maxInputRankArgument)"))
    }
    let row = dims.loadUnaligned(fromByteOffset: i * MemoryLayout<UnsafeRawPointer?>.stride, as: UnsafeRawPointer?.self)
    guard rank == 0 || row != nil else {
        return .failure(DRSNError(.invalidArgument, "\(function): input_dims[\(i)] is NULL"))
    }
    for k in 0..<rank {
        let d = row!.loadUnaligned(fromByteOffset: k * 8, as: Int64.self)
        guard d >= 1, d <= HeaderConstants.maxDimension else {
            let problem = InputDimension.problem(d) ?? "dimensions must be between 1 and 2^31"
            return .failure(DRSNError(.shapeMismatch, "\(function): input '\(m.model.inputs[i].name)' dimension \(k) is \(d); \(problem)"))
        }
    }
    return .success(rank)
}

/// Reads caller input shapes, validating every pointer and value.
func readShapes(_ function: String, _ m: ModelHandle, _ count: Int, _ dims: UnsafePointer<UnsafePointer<Int64>?>?,
                _ ranks: UnsafePointer<Int>?) -> Result<[[Int]], DRSNError> {
    let expected = m.model.inputs.count
    guard count == expected else {
        return .failure(DRSNError(.invalidArgument, "\(function): the model has \(expected) input(s), num_inputs is \(count)"))
    }
    guard count == 0 || (dims != nil && ranks != nil) else {
        return .failure(DRSNError(.invalidArgument, "\(function): input_dims or input_ranks is NULL"))
    }
    var shapes: [[Int]] = []
    for i in 0..<count {
        let rank: Int
        switch checkInputShape(function, m, i, ranks: UnsafeRawPointer(ranks!), dims: UnsafeRawPointer(dims!)) {
        case .success(let r): rank = r
        case .failure(let error): return .failure(error)
        }
        let row = UnsafeRawPointer(dims!).loadUnaligned(fromByteOffset: i * MemoryLayout<UnsafeRawPointer?>.stride,
                                                        as: UnsafeRawPointer?.self)
        shapes.append((0..<rank).map { Int(row!.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) })
    }
    return .success(shapes)
}

@_cdecl("drsn_model_output_shape_for")
public func drsn_model_output_shape_for(_ p: OpaquePointer?, _ numInputs: Int, _ inputDims: UnsafePointer<UnsafePointer<Int64>?>?,
                                        _ inputRanks: UnsafePointer<Int>?, _ outputIndex: Int,
                                        _ dims: UnsafeMutablePointer<Int64>?, _ capacity: Int,
                                        _ outRank: UnsafeMutablePointer<Int>?) -> Int32 {
    let fn = "drsn_model_output_shape_for"
    guard let m = model(p) else { return invalid(fn, "model is NULL") }
    guard outRank != nil else { return invalid(fn, "out_rank is NULL") }
    guard outputIndex >= 0, outputIndex < m.model.outputs.count else {
        return invalid(fn, "output_index \(outputIndex) is out of range (the model has \(m.model.outputs.count) outputs)")
    }
    do throws(DRSNError) {
        let shapes = try readShapes(fn, m, numInputs, inputDims, inputRanks).get()
        let out = try m.model.outputShapes(for: shapes)
        return writeShape(fn, out[outputIndex], dims, capacity, outRank)
    } catch {
        return report(error)
    }
}

@_cdecl("drsn_model_run")
public func drsn_model_run(_ p: OpaquePointer?, _ numInputs: Int, _ inputs: UnsafePointer<UnsafePointer<Float>?>?,
                           _ inputDims: UnsafePointer<UnsafePointer<Int64>?>?, _ inputRanks: UnsafePointer<Int>?,
                           _ numOutputs: Int, _ outputs: UnsafePointer<UnsafeMutablePointer<Float>?>?,
                           _ capacities: UnsafePointer<Int>?) -> Int32 {
    // The steady-state path allocates nothing: arguments are checked in place and passed on
    // as views of the caller's arrays.
    let fn = "drsn_model_run"
    guard let m = model(p) else { return invalid(fn, "model is NULL") }
    let expectedInputs = m.model.inputs.count, expectedOutputs = m.model.outputs.count
    guard numInputs == expectedInputs else {
        return invalid(fn, "the model has \(expectedInputs) input(s), num_inputs is \(numInputs)")
    }
    guard numOutputs == expectedOutputs else {
        return invalid(fn, "the model has \(expectedOutputs) output(s), num_outputs is \(numOutputs)")
    }
    guard let inputs = inputs ?? (numInputs == 0 ? UnsafePointer(bitPattern: 8) : nil),
          let inputDims = inputDims ?? (numInputs == 0 ? UnsafePointer(bitPattern: 8) : nil),
          let inputRanks = inputRanks ?? (numInputs == 0 ? UnsafePointer(bitPattern: 8) : nil) else {
        return invalid(fn, "inputs, input_dims or input_ranks is NULL")
    }
    guard let outputs = outputs ?? (numOutputs == 0 ? UnsafePointer(bitPattern: 8) : nil),
          let capacities = capacities ?? (numOutputs == 0 ? UnsafePointer(bitPattern: 8) : nil) else {
        return invalid(fn, "outputs or output_capacities is NULL")
    }
    let align = MemoryLayout<Float>.alignment
    for i in 0..<numInputs {
        guard let x = inputs[i] else { return invalid(fn, "inputs[\(i)] is NULL") }
        guard Int(bitPattern: x) % align == 0 else { return invalid(fn, "inputs[\(i)] is not aligned to 4 bytes") }
        if case .failure(let error) = checkInputShape(fn, m, i, ranks: UnsafeRawPointer(inputRanks),
                                                      dims: UnsafeRawPointer(inputDims)) {
            return report(error)
        }
    }
    for j in 0..<numOutputs {
        guard let y = outputs[j] else { return invalid(fn, "outputs[\(j)] is NULL") }
        guard Int(bitPattern: y) % align == 0 else { return invalid(fn, "outputs[\(j)] is not aligned to 4 bytes") }
    }
    do throws(DRSNError) {
        // Every pointer was checked non-NULL above, so the arrays can be viewed as non-optional.
        let ins = UnsafeBufferPointer(start: UnsafeRawPointer(inputs).assumingMemoryBound(to: UnsafePointer<Float>.self),
                                      count: numInputs)
        let outs = UnsafeBufferPointer(start: UnsafeRawPointer(outputs).assumingMemoryBound(to: UnsafeMutablePointer<Float>.self),
                                       count: numOutputs)
        try m.model.run(inputs: ins, inputShapes: RawShapes(count: numInputs, dims: inputDims, ranks: inputRanks),
                        outputs: outs, outputCapacities: UnsafeBufferPointer(start: capacities, count: numOutputs))
        return ok
    } catch {
        return report(error)
    }
}

/// Validates and converts the input/output arguments shared by the run functions.
func readRunArguments(_ fn: String, _ m: ModelHandle, _ numInputs: Int, _ inputs: UnsafePointer<UnsafePointer<Float>?>?,
                      _ inputDims: UnsafePointer<UnsafePointer<Int64>?>?, _ inputRanks: UnsafePointer<Int>?,
                      _ numOutputs: Int, _ outputs: UnsafePointer<UnsafeMutablePointer<Float>?>?,
                      _ capacities: UnsafePointer<Int>?) throws(DRSNError)
    -> ([[Int]], [UnsafePointer<Float>], [UnsafeMutablePointer<Float>], [Int]) {
    guard numOutputs == m.model.outputs.count else {
        throw DRSNError(.invalidArgument, "\(fn): the model has \(m.model.outputs.count) output(s), num_outputs is \(numOutputs)")
    }
    guard numInputs == 0 || inputs != nil else { throw DRSNError(.invalidArgument, "\(fn): inputs is NULL") }
    guard numOutputs == 0 || (outputs != nil && capacities != nil) else {
        throw DRSNError(.invalidArgument, "\(fn): outputs or output_capacities is NULL")
    }
    // Arguments validated in order; the first problem is reported.
    let shapes = try readShapes(fn, m, numInputs, inputDims, inputRanks).get()
    var ins: [UnsafePointer<Float>] = []
    ins.reserveCapacity(numInputs)
    for i in 0..<numInputs {
        guard let x = inputs![i] else { throw DRSNError(.invalidArgument, "\(fn): inputs[\(i)] is NULL") }
        guard Int(bitPattern: x) % MemoryLayout<Float>.alignment == 0 else {
            throw DRSNError(.invalidArgument, "\(fn): inputs[\(i)] is not aligned to 4 bytes")
        }
        ins.append(x)
    }
    var outs: [UnsafeMutablePointer<Float>] = []
    var caps: [Int] = []
    outs.reserveCapacity(numOutputs)
    for j in 0..<numOutputs {
        guard let y = outputs![j] else { throw DRSNError(.invalidArgument, "\(fn): outputs[\(j)] is NULL") }
        guard Int(bitPattern: y) % MemoryLayout<Float>.alignment == 0 else {
            throw DRSNError(.invalidArgument, "\(fn): outputs[\(j)] is not aligned to 4 bytes")
        }
        outs.append(y)
        caps.append(capacities![j])
    }
    return (shapes, ins, outs, caps)
}
