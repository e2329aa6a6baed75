/// The one error type thrown by `DRSNOnnx`.
///
/// `message` is meant for people: it names the field, the byte offset (counted from the
/// start of the buffer given to `OnnxReader.decodeModel`), what was expected and what was
/// found, or the file path and `strerror` text for I/O failures.
public struct OnnxError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// A file could not be opened, inspected or read.
        case io
        /// The bytes are not a valid protobuf encoding of the expected ONNX message, or the
        /// message contradicts itself (e.g. element count versus dims).
        case malformed
        /// Valid ONNX that this reader deliberately does not handle (sparse initializers,
        /// STRING tensors, 4-bit types, models loaded from memory with external data, ...).
        case unsupported
        /// A configured `OnnxLimits` bound was exceeded.
        case limitExceeded
    }

    public var kind: Kind
    public var message: String
    public var description: String { message }

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}
