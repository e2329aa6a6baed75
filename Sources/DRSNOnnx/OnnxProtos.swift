// Plain-value mirrors of the onnx.proto messages this runtime needs. Field numbers and
// meanings follow onnx.proto (onnx 1.23); fields not listed here are skipped on decode.
// All initializers take defaults, so tests and passes can build values directly.

/// `onnx.TensorProto`. Exactly one data source is meaningful, chosen by
/// `TensorProto.decoded(externalDataDirectory:limits:)`: external data when
/// `dataLocation == 1`, else `rawData` when present (even if empty), else the typed field
/// that matches `dataType`. `string_data` and `segment` are skipped.
public struct TensorProto: Sendable {
    public var name: String
    public var dims: [Int64]
    /// `TensorProto.DataType` value (1 FLOAT, 7 INT64, ...); 0 if absent.
    public var dataType: Int32
    public var floatData: [Float]
    /// INT32, and per onnx.proto also INT8/INT16/UINT8/UINT16/BOOL and the bit patterns
    /// of FLOAT16/BFLOAT16.
    public var int32Data: [Int32]
    public var int64Data: [Int64]
    public var doubleData: [Double]
    /// UINT32 and UINT64.
    public var uint64Data: [UInt64]
    /// `raw_data`; nil when the field is absent, `[]` when present but empty.
    public var rawData: [UInt8]?
    /// 0 DEFAULT, 1 EXTERNAL.
    public var dataLocation: Int32
    /// `external_data` entries in file order (`location`, `offset`, `length`, `checksum`).
    public var externalData: [(key: String, value: String)]

    public init(name: String = "", dims: [Int64] = [], dataType: Int32 = 0,
                floatData: [Float] = [], int32Data: [Int32] = [], int64Data: [Int64] = [],
                doubleData: [Double] = [], uint64Data: [UInt64] = [], rawData: [UInt8]? = nil,
                dataLocation: Int32 = 0, externalData: [(key: String, value: String)] = []) {
        self.name = name
        self.dims = dims
        self.dataType = dataType
        self.floatData = floatData
        self.int32Data = int32Data
        self.int64Data = int64Data
        self.doubleData = doubleData
        self.uint64Data = uint64Data
        self.rawData = rawData
        self.dataLocation = dataLocation
        self.externalData = externalData
    }
}

/// `onnx.AttributeProto`. Subgraphs (`g`, `graphs`) are not decoded, only flagged by
/// `hasGraph`. Sparse tensors and type protos are skipped; `type` still tells the caller
/// that such an attribute was present.
public struct AttributeProto: Sendable {
    public var name: String
    /// `AttributeProto.AttributeType` value (1 FLOAT, 2 INT, 3 STRING, 4 TENSOR, 5 GRAPH,
    /// 6 FLOATS, 7 INTS, 8 STRINGS, 9 TENSORS, 10 GRAPHS, 11 SPARSE_TENSOR, ...); 0 if absent.
    public var type: Int32
    public var f: Float
    public var i: Int64
    public var s: [UInt8]
    public var t: TensorProto?
    public var floats: [Float]
    public var ints: [Int64]
    public var strings: [[UInt8]]
    /// `tensors` (field 10). Addition to the original brief.
    public var tensors: [TensorProto]
    /// True when `g` or `graphs` was present.
    public var hasGraph: Bool
    /// `ref_attr_name` (attribute references inside functions); "" if absent.
    public var refAttrName: String

    public init(name: String = "", type: Int32 = 0, f: Float = 0, i: Int64 = 0, s: [UInt8] = [],
                t: TensorProto? = nil, floats: [Float] = [], ints: [Int64] = [], strings: [[UInt8]] = [],
                tensors: [TensorProto] = [], hasGraph: Bool = false, refAttrName: String = "") {
        self.name = name
        self.type = type
        self.f = f
        self.i = i
        self.s = s
        self.t = t
        self.floats = floats
        self.ints = ints
        self.strings = strings
        self.tensors = tensors
        self.hasGraph = hasGraph
        self.refAttrName = refAttrName
    }
}

/// `onnx.NodeProto`. An empty string in `inputs` means an omitted optional input.
public struct NodeProto: Sendable {
    public var inputs: [String]
    public var outputs: [String]
    public var name: String
    public var opType: String
    /// "" (or "ai.onnx") is the default ONNX domain.
    public var domain: String
    public var attributes: [AttributeProto]

    public init(inputs: [String] = [], outputs: [String] = [], name: String = "", opType: String = "",
                domain: String = "", attributes: [AttributeProto] = []) {
        self.inputs = inputs
        self.outputs = outputs
        self.name = name
        self.opType = opType
        self.domain = domain
        self.attributes = attributes
    }
}

/// `onnx.TensorShapeProto.Dimension`: a fixed size, a symbolic name, or neither.
public enum DimensionProto: Sendable, Equatable {
    case value(Int64)
    case param(String)
    case unknown
}

/// `onnx.ValueInfoProto`, reduced to tensor types. Non-tensor types (sequence, map, ...)
/// leave `elemType == 0` and `shape == nil`.
public struct ValueInfoProto: Sendable {
    public var name: String
    /// `TypeProto.Tensor.elem_type`; 0 if absent.
    public var elemType: Int32
    /// nil when no shape was given (unknown rank); `[]` for a scalar.
    public var shape: [DimensionProto]?

    public init(name: String = "", elemType: Int32 = 0, shape: [DimensionProto]? = nil) {
        self.name = name
        self.elemType = elemType
        self.shape = shape
    }
}

/// `onnx.GraphProto`. `sparse_initializer` is rejected (`.unsupported`) during decoding.
public struct GraphProto: Sendable {
    public var name: String
    public var nodes: [NodeProto]
    public var initializers: [TensorProto]
    public var inputs: [ValueInfoProto]
    public var outputs: [ValueInfoProto]
    public var valueInfo: [ValueInfoProto]

    public init(name: String = "", nodes: [NodeProto] = [], initializers: [TensorProto] = [],
                inputs: [ValueInfoProto] = [], outputs: [ValueInfoProto] = [], valueInfo: [ValueInfoProto] = []) {
        self.name = name
        self.nodes = nodes
        self.initializers = initializers
        self.inputs = inputs
        self.outputs = outputs
        self.valueInfo = valueInfo
    }
}

/// `onnx.OperatorSetIdProto`. Exporters often list domains no node uses (`ai.onnx.ml`).
public struct OperatorSetIdProto: Sendable {
    /// "" or "ai.onnx" for the default domain.
    public var domain: String
    public var version: Int64

    public init(domain: String = "", version: Int64 = 0) {
        self.domain = domain
        self.version = version
    }
}

/// `onnx.ModelProto`. `graph` is nil when the field is absent.
public struct ModelProto: Sendable {
    public var irVersion: Int64
    public var opsetImport: [OperatorSetIdProto]
    public var producerName: String
    public var producerVersion: String
    public var graph: GraphProto?

    public init(irVersion: Int64 = 0, opsetImport: [OperatorSetIdProto] = [], producerName: String = "",
                producerVersion: String = "", graph: GraphProto? = nil) {
        self.irVersion = irVersion
        self.opsetImport = opsetImport
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.graph = graph
    }
}
