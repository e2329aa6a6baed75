import DRSNKernels

/// The recurrence of an LSTM or GRU (the input projection is a `GemmStep` before it).
/// Inputs: projected (see `RecurrentParams`), R^T [directions, hidden, gates * hidden], then
/// the optional inputs whose index fields are set. Outputs: Y, Y_h, and Y_c for LSTM (always
/// written, whether the graph reads them or not). Units are (direction, batch row) pairs,
/// direction-major: each is independent over the whole sequence, and a task runs its
/// contiguous rows of one direction together (one GEMM per time step for all of them).
struct RecurrentStep: StepKernel {
    enum Cell: Equatable {
        case lstm
        /// `linearBeforeReset`: ONNX linear_before_reset != 0 (PyTorch's GRU).
        case gru(linearBeforeReset: Bool)
    }

    var params: RecurrentParams
    var cell: Cell
    /// Direction "reverse": the only direction runs backwards in time (with two directions,
    /// direction 1 always does).
    var reverse: Bool
    /// Input indices of the optional operands (nil: absent).
    var initialH: Int?
    var initialC: Int?
    /// LSTM peepholes P [directions, 3 * hidden].
    var peephole: Int?
    /// GRU (linear_before_reset) Rb of the h gate [directions, hidden].
    var recurrentBiasH: Int?

    var name: String { cell == .lstm ? "lstm" : "gru" }

    /// Multiply-adds of the recurrent products of one (direction, row) over the sequence.
    private var recurrentFlopsPerUnit: Int {
        2 * params.seqLength * params.gates * params.hiddenSize * params.hiddenSize
    }

    func split(threads: Int) -> (units: Int, workPerUnit: Int) {
        // + the gates: ~30 flop-equivalents per gate value (exp, division)
        (params.directions * params.batch,
         recurrentFlopsPerUnit + 30 * params.seqLength * params.gates * params.hiddenSize)
    }

    var flops: Int { params.directions * params.batch * recurrentFlopsPerUnit }
    var scratchFloats: Int { activeKernels.recurrentScratchElements(params) }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        let p = params
        let batch = p.batch, h = p.hiddenSize
        let projected = ctx.input(0), rT = ctx.input(1)
        let h0 = initialH.map { ctx.input($0) }
        let c0 = initialC.map { ctx.input($0) }
        let peep = peephole.map { ctx.input($0) }
        let rbh = recurrentBiasH.map { ctx.input($0) }
        let y = ctx.output(0), yH = ctx.output(1)
        var u = units.lowerBound
        while u < units.upperBound {
            let d = u / batch, b0 = u % batch
            let b1 = min(batch, units.upperBound - d * batch)
            let backwards = p.directions == 2 ? d == 1 : reverse
            let rTd = rT + d * h * p.gates * h
            switch cell {
            case .lstm:
                activeKernels.lstmSequence(p, direction: d, reverse: backwards, rows: b0..<b1, projected: projected,
                                           recurrentT: rTd, peephole: peep.map { $0 + d * 3 * h }, initialH: h0,
                                           initialC: c0, y: y, yH: yH, yC: ctx.output(2), scratch: ctx.scratch)
            case .gru(let linearBeforeReset):
                activeKernels.gruSequence(p, direction: d, reverse: backwards, linearBeforeReset: linearBeforeReset,
                                          rows: b0..<b1, projected: projected, recurrentT: rTd,
                                          recurrentBiasH: rbh.map { $0 + d * h }, initialH: h0, y: y, yH: yH,
                                          scratch: ctx.scratch)
            }
            u = d * batch + b1
        }
    }
}
