/// Shapes and layout of an ONNX recurrent layer (LSTM, GRU) as the recurrence kernels see them.
///
/// The input projection X * W^T (+ the biases that simply add) is computed beforehand for
/// every time step by one GEMM into `projected`: one row per (time step, batch row), in the
/// order of X's rows (`batchMajor == false`, ONNX layout 0: row t * batch + b; layout 1:
/// row b * seqLength + t), each row holding `directions * gates * hiddenSize` values
/// (direction d's gates at d * gates * hiddenSize, in ONNX gate order).
///
/// Outputs, ONNX layout 0 (`batchMajor == false`): Y [seqLength, directions, batch, hidden],
/// Y_h and Y_c (and initial_h / initial_c) [directions, batch, hidden]; layout 1: Y [batch,
/// seqLength, directions, hidden], Y_h / Y_c [batch, directions, hidden].
public struct RecurrentParams: Sendable, Equatable {
    public var seqLength: Int
    public var batch: Int
    public var hiddenSize: Int
    /// 1 (forward or reverse) or 2 (bidirectional).
    public var directions: Int
    /// Gates per direction: 4 for LSTM (i, o, f, c), 3 for GRU (z, r, h).
    public var gates: Int
    /// ONNX `layout` 1: batch-major X, Y, Y_h, Y_c and initial states.
    public var batchMajor: Bool

    public init(seqLength: Int, batch: Int, hiddenSize: Int, directions: Int, gates: Int, batchMajor: Bool) {
        self.seqLength = seqLength
        self.batch = batch
        self.hiddenSize = hiddenSize
        self.directions = directions
        self.gates = gates
        self.batchMajor = batchMajor
    }

    /// Values per row of `projected` (all directions' gates).
    public var projectedRowLength: Int { directions &* gates &* hiddenSize }

    /// Offset of the `projected` row of (time step t, batch row b), direction d's gates.
    public func projectedOffset(t: Int, b: Int, direction d: Int) -> Int {
        let row = batchMajor ? b &* seqLength &+ t : t &* batch &+ b
        return row &* projectedRowLength &+ d &* gates &* hiddenSize
    }

    /// Distance between the `projected` rows of consecutive batch rows at one time step.
    public var projectedBatchStride: Int { (batchMajor ? seqLength : 1) &* projectedRowLength }

    /// Offset of Y[t, d, b, 0] (layout 0) / Y[b, t, d, 0] (layout 1).
    public func yOffset(t: Int, b: Int, direction d: Int) -> Int {
        batchMajor ? ((b &* seqLength &+ t) &* directions &+ d) &* hiddenSize
                   : ((t &* directions &+ d) &* batch &+ b) &* hiddenSize
    }

    /// Distance between the Y rows of consecutive batch rows.
    public var yBatchStride: Int { batchMajor ? seqLength &* directions &* hiddenSize : hiddenSize }

    /// Offset of state[d, b, 0] (layout 0) / state[b, d, 0] (layout 1) in Y_h, Y_c, initial_h, initial_c.
    public func stateOffset(b: Int, direction d: Int) -> Int {
        batchMajor ? (b &* directions &+ d) &* hiddenSize : (d &* batch &+ b) &* hiddenSize
    }

    /// Distance between the state rows of consecutive batch rows.
    public var stateBatchStride: Int { batchMajor ? directions &* hiddenSize : hiddenSize }
}
