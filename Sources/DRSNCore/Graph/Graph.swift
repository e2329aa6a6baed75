import DRSNKernels

/// One attribute value of a node, as ONNX defines the kinds that drsn reads.
public enum Attribute: Sendable {
    case float(Float)
    case int(Int64)
    case string(String)
    case tensor(Tensor)
    case floats([Float])
    case ints([Int64])
    case strings([String])
    /// A subgraph (If/Loop/Scan bodies): recorded, never executed.
    case graph
}

/// A dimension as declared in a value's type.
public enum Dim: Sendable, Equatable {
    case fixed(Int)
    case symbolic(String)
}

/// A named, typed graph input or output.
public struct ValueInfo: Sendable {
    public var name: String
    /// The declared element type; `.undefined` also for an ONNX type drsn has no case for
    /// (FLOAT8E4M3FN, INT4, ...), which `elementType` keeps.
    public var dtype: DType
    /// nil when the model declares no shape.
    public var dims: [Dim]?
    /// The declared ONNX element type number (TensorProto.DataType).
    public var elementType: Int32 = 0

    /// The declared element type's ONNX name ("FLOAT", "FLOAT8E4M3FN", "UNDEFINED").
    public var typeName: String { dtype == .undefined ? DType.onnxName(elementType) : dtype.description }
}

/// One operator application.
public struct Node: Sendable {
    public var name: String
    public var opType: String
    public var domain: String
    /// Input value names; "" marks an omitted optional input.
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: Attribute]
    /// The activation the operator applies to its output, fused into it by a graph pass
    /// (`ConvActivationFusion`); not an ONNX attribute, so a file cannot set it.
    public var fusedActivation: Activation = .none

    public init(name: String, opType: String, domain: String = "", inputs: [String], outputs: [String],
                attributes: [String: Attribute] = [:]) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }
}

/// A computation graph: nodes in topological order, constants by name, declared inputs/outputs.
public struct Graph: Sendable {
    public var nodes: [Node]
    public var constants: [String: Tensor]
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]
    /// Opset of the default ONNX domain.
    public var opset: Int

    public init(nodes: [Node], constants: [String: Tensor], inputs: [ValueInfo], outputs: [ValueInfo], opset: Int) {
        self.nodes = nodes
        self.constants = constants
        self.inputs = inputs
        self.outputs = outputs
        self.opset = opset
    }

    /// Number of nodes that read each value name (graph outputs count as one reader each).
    func useCounts() -> [String: Int] {
        var uses: [String: Int] = [:]
        for node in nodes { for i in node.inputs where !i.isEmpty { uses[i, default: 0] += 1 } }
        for o in outputs { uses[o.name, default: 0] += 1 }
        return uses
    }
}
