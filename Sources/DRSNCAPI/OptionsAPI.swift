import CDRSNSupport
import DRSNCore

/// The limit a `drsn_limit` value of include/drsn.h names; nil for an unknown value.
func limit(_ value: Int32) -> Limit? {
    switch value {
    case abiCode(DRSN_LIMIT_MAX_FILE_BYTES): return .maxFileBytes
    case abiCode(DRSN_LIMIT_MAX_TENSOR_ELEMENTS): return .maxTensorElements
    case abiCode(DRSN_LIMIT_MAX_TOTAL_TENSOR_BYTES): return .maxTotalTensorBytes
    case abiCode(DRSN_LIMIT_MAX_NODES): return .maxNodes
    case abiCode(DRSN_LIMIT_MAX_RANK): return .maxRank
    case abiCode(DRSN_LIMIT_MAX_VALUE_ELEMENTS): return .maxValueElements
    case abiCode(DRSN_LIMIT_MAX_ARENA_BYTES): return .maxArenaBytes
    default: return nil
    }
}

@_cdecl("drsn_options_create")
public func drsn_options_create(_ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return invalid("drsn_options_create", "out_options is NULL") }
    out.pointee = OpaquePointer(Unmanaged.passRetained(OptionsHandle()).toOpaque())
    return ok
}

@_cdecl("drsn_options_destroy")
public func drsn_options_destroy(_ p: OpaquePointer?) {
    guard let p else { return }
    Unmanaged<OptionsHandle>.fromOpaque(UnsafeRawPointer(p)).release()
}

@_cdecl("drsn_options_set_num_threads")
public func drsn_options_set_num_threads(_ p: OpaquePointer?, _ n: Int32) -> Int32 {
    guard let o = options(p) else { return invalid("drsn_options_set_num_threads", "options is NULL") }
    guard n >= 0, n <= Int32(Options.maxThreads) else {
        return invalid("drsn_options_set_num_threads", "num_threads must be between 0 and \(Options.maxThreads), got \(n)")
    }
    o.options.numThreads = Int(n)
    return ok
}

@_cdecl("drsn_options_get_num_threads")
public func drsn_options_get_num_threads(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let o = options(p) else { return invalid("drsn_options_get_num_threads", "options is NULL") }
    guard let out else { return invalid("drsn_options_get_num_threads", "out_num_threads is NULL") }
    out.pointee = Int32(o.options.numThreads)
    return ok
}

@_cdecl("drsn_options_set_limit")
public func drsn_options_set_limit(_ p: OpaquePointer?, _ limit: Int32, _ value: Int64) -> Int32 {
    guard let o = options(p) else { return invalid("drsn_options_set_limit", "options is NULL") }
    guard let l = DRSNCAPI.limit(limit) else { return invalid("drsn_options_set_limit", "unknown limit \(limit)") }
    guard value >= 1 else { return invalid("drsn_options_set_limit", "limit values must be >= 1, got \(value)") }
    o.options[l] = Int(value)
    return ok
}

@_cdecl("drsn_options_get_limit")
public func drsn_options_get_limit(_ p: OpaquePointer?, _ limit: Int32, _ out: UnsafeMutablePointer<Int64>?) -> Int32 {
    guard let o = options(p) else { return invalid("drsn_options_get_limit", "options is NULL") }
    guard let l = DRSNCAPI.limit(limit) else { return invalid("drsn_options_get_limit", "unknown limit \(limit)") }
    guard let out else { return invalid("drsn_options_get_limit", "out_value is NULL") }
    out.pointee = Int64(o.options[l])
    return ok
}
