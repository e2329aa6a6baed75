import CDRSNSupport
import DRSNCore

/// The value a C enum constant of include/drsn.h has (status, limit, normalization and layout codes).
@inline(__always)
func abiCode(_ value: drsn_status) -> Int32 { Int32(value.rawValue) }
@inline(__always)
func abiCode(_ value: drsn_limit) -> Int32 { Int32(value.rawValue) }
@inline(__always)
func abiCode(_ value: drsn_normalization) -> Int32 { Int32(value.rawValue) }
@inline(__always)
func abiCode(_ value: drsn_layout) -> Int32 { Int32(value.rawValue) }

extension Status {
    /// This status as the C API returns it: its `drsn_status` value from include/drsn.h.
    var code: Int32 {
        switch self {
        case .ok: return abiCode(DRSN_OK)
        case .invalidArgument: return abiCode(DRSN_ERR_INVALID_ARGUMENT)
        case .io: return abiCode(DRSN_ERR_IO)
        case .invalidModel: return abiCode(DRSN_ERR_INVALID_MODEL)
        case .unsupported: return abiCode(DRSN_ERR_UNSUPPORTED)
        case .shapeMismatch: return abiCode(DRSN_ERR_SHAPE_MISMATCH)
        case .dtypeMismatch: return abiCode(DRSN_ERR_DTYPE_MISMATCH)
        case .bufferTooSmall: return abiCode(DRSN_ERR_BUFFER_TOO_SMALL)
        case .outOfMemory: return abiCode(DRSN_ERR_OUT_OF_MEMORY)
        case .limitExceeded: return abiCode(DRSN_ERR_LIMIT_EXCEEDED)
        case .internalError: return abiCode(DRSN_ERR_INTERNAL)
        }
    }
}

/// Records `message` as this thread's last error and returns the status as the C enum value.
func report(_ status: Status, _ message: String) -> Int32 {
    var text = message
    text.withUTF8 { drsnsup_set_error(UnsafeRawPointer($0.baseAddress)?.assumingMemoryBound(to: CChar.self), $0.count) }
    return status.code
}

func report(_ error: DRSNError) -> Int32 { report(error.status, error.message) }

func invalid(_ function: String, _ what: String) -> Int32 {
    report(.invalidArgument, "\(function): \(what)")
}

/// DRSN_OK.
var ok: Int32 { abiCode(DRSN_OK) }
