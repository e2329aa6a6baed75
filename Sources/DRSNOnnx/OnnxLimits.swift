/// Resource bounds enforced while reading untrusted ONNX files.
///
/// Every bound is checked before the corresponding memory is allocated, so a hostile file
/// cannot make the reader allocate more than (roughly) the limits allow. Exceeding any
/// bound throws `OnnxError` with kind `.limitExceeded`.
public struct OnnxLimits: Sendable {
    /// Largest file `OnnxReader.readFile` accepts, and largest buffer
    /// `OnnxReader.decodeModel` accepts. Default 2 GiB (the protobuf hard limit).
    public var maxFileBytes: Int
    /// Most elements in any one tensor, whether implied by its dims or actually stored in
    /// its typed fields. Default `1 << 28`.
    public var maxTensorElements: Int
    /// Most bytes summed over all tensors of a model (graph initializers and tensors held
    /// by node attributes such as `Constant.value`), computed as elements implied by dims
    /// times element size (at least one byte per element for unknown types).
    /// Default 4 GiB.
    public var maxTotalTensorBytes: Int
    /// Most nodes in the main graph. Default 100_000.
    public var maxNodes: Int
    /// Most dims in any tensor (`TensorProto.dims`) or shape (`TensorShapeProto.dim`).
    /// Default 8.
    public var maxRank: Int

    /// The defaults listed on each property.
    public init() {
        maxFileBytes = 2 << 30
        maxTensorElements = 1 << 28
        maxTotalTensorBytes = 4 << 30
        maxNodes = 100_000
        maxRank = 8
    }
}
