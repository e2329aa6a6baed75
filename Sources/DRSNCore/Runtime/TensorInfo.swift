/// A graph input or output as the API reports it: -1 for dynamic dimensions; `dims` is
/// nil when the model declares no shape.
public struct TensorInfo: Sendable {
    public var name: String
    public var dtype: DType
    public var dims: [Int]?
}
