/// Status codes of the C ABI (`drsn_status`). Raw values are ABI: never renumber.
public enum Status: Int32, Sendable {
    case ok = 0
    case invalidArgument = 1
    case io = 2
    case invalidModel = 3
    case unsupported = 4
    case shapeMismatch = 5
    case dtypeMismatch = 6
    case bufferTooSmall = 7
    case outOfMemory = 8
    case limitExceeded = 9
    case internalError = 100
}

/// The one error type of the core. `message` is complete and user-facing: it names the
/// file, node, operator, input and expected versus actual shape where they apply.
public struct DRSNError: Error, CustomStringConvertible, Sendable {
    public var status: Status
    public var message: String
    public init(_ status: Status, _ message: String) {
        self.status = status
        self.message = message
    }
    public var description: String { message }

    /// Prefixes the message with the node that was being processed.
    func inNode(_ node: Node, opset: Int) -> DRSNError {
        DRSNError(status, "node '\(node.name)' (\(node.opType), opset \(opset)): \(message)")
    }
}

@inline(__always)
func fail(_ status: Status, _ message: String) -> DRSNError { DRSNError(status, message) }

func describe(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
