import DRSNOnnx

/// Element types, numbered as ONNX TensorProto.DataType (and as `drsn_dtype`).
public enum DType: Int32, Sendable, CustomStringConvertible {
    case undefined = 0
    case float32 = 1
    case uint8 = 2
    case int8 = 3
    case uint16 = 4
    case int16 = 5
    case int32 = 6
    case int64 = 7
    case string = 8
    case bool = 9
    case float16 = 10
    case float64 = 11
    case uint32 = 12
    case uint64 = 13
    case bfloat16 = 16

    /// Types stored as `Float` in a `Tensor`; the rest (integers, bool) are stored as `Int64`.
    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .float64, .bfloat16: return true
        default: return false
        }
    }

    /// Types that runtime (non-constant) tensors may have. Bool is stored as 0.0 / 1.0.
    public var isRuntimeSupported: Bool { self == .float32 || self == .bool }

    /// The ONNX name of any TensorProto.DataType value: a DType's `description` ("FLOAT"),
    /// or for the others with its number ("FLOAT8E4M3FN (17)", "INT4 (22)", "UNDEFINED (0)",
    /// "unknown data type 99" past the last one ONNX defines).
    public static func onnxName(_ raw: Int32) -> String {
        if let t = DType(rawValue: raw), t != .undefined { return t.description }
        return TensorLayout.name(raw)
    }

    public var description: String {
        switch self {
        case .undefined: return "UNDEFINED"
        case .float32: return "FLOAT"
        case .uint8: return "UINT8"
        case .int8: return "INT8"
        case .uint16: return "UINT16"
        case .int16: return "INT16"
        case .int32: return "INT32"
        case .int64: return "INT64"
        case .string: return "STRING"
        case .bool: return "BOOL"
        case .float16: return "FLOAT16"
        case .float64: return "DOUBLE"
        case .uint32: return "UINT32"
        case .uint64: return "UINT64"
        case .bfloat16: return "BFLOAT16"
        }
    }
}
