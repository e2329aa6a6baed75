/// The rule for a caller's run-time dimension (input shapes of runs and shape queries):
/// between 1 and `DRSN_MAX_DIMENSION` (2^31). Zero-size tensors are refused at this boundary
/// rather than run: an empty batch or dimension would reach operators whose ONNX result is
/// not empty or not defined (a mean or softmax over nothing, Reshape's inferred -1), so
/// every operator, pass and kernel would need its own empty case.
public enum InputDimension {
    /// Nil when `d` is allowed, else the reason, for a message that names the input first.
    public static func problem(_ d: Int64) -> String? {
        if d == 0 {
            return "zero-size tensors are not supported (a dimension of 0, e.g. an empty batch); every dimension must be between 1 and 2^31"
        }
        if d < 0 || d > Int64(HeaderConstants.maxDimension) {
            return "dimensions must be between 1 and 2^31"
        }
        return nil
    }
}
