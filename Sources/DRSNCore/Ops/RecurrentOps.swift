import DRSNKernels

/// LSTM and GRU, every opset from 7 (14 adds `layout`; later versions only add element types).
///
/// Supported: directions forward, reverse and bidirectional; layout 0 and 1; W, R, B (and
/// LSTM's peepholes P) constant; sequence_lens absent or constant and equal to the sequence
/// length for every batch row; initial_h / initial_c absent, constant or runtime; any subset
/// of the outputs; GRU linear_before_reset 0 and 1; the default activations (sigmoid for the
/// gates, tanh otherwise, given or omitted). Refused with an error naming the attribute:
/// other activations, `clip`, LSTM `input_forget`, shorter sequence lengths.
///
/// Emitted as two steps: the input projection of every time step and direction as one GEMM
/// (X [rows, input] times W^T [input, directions * gates * hidden], plus the biases that only
/// add), then the recurrence (`RecurrentStep`).
enum RecurrentOps {
    static func lstm(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] { try recurrent(ctx, gates: 4) }
    static func gru(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] { try recurrent(ctx, gates: 3) }

    private static func recurrent(_ ctx: OpContext, gates: Int) throws(DRSNError) -> [BoundValue] {
        let isLSTM = gates == 4
        let op = isLSTM ? "LSTM" : "GRU"
        let node = ctx.node

        // Attributes.
        let direction = try node.string("direction") ?? "forward"
        let directions: Int
        switch direction {
        case "forward", "reverse": directions = 1
        case "bidirectional": directions = 2
        default: throw fail(.invalidModel, "\(op) direction '\(direction)' is not one of forward, reverse, bidirectional")
        }
        let layout = ctx.opset >= 14 ? try node.int("layout", default: 0) : 0
        guard layout == 0 || layout == 1 else { throw fail(.invalidModel, "\(op) layout \(layout) must be 0 or 1") }
        let batchMajor = layout == 1
        try checkActivations(node, op: op, defaults: isLSTM ? ["sigmoid", "tanh", "tanh"] : ["sigmoid", "tanh"],
                             directions: directions)
        if node.attributes["clip"] != nil {
            throw fail(.unsupported, "\(op) attribute 'clip' (cell clipping) is not supported")
        }
        if isLSTM, try node.int("input_forget", default: 0) != 0 {
            throw fail(.unsupported, "LSTM input_forget=1 (coupled input and forget gates) is not supported")
        }
        let linearBeforeReset = isLSTM ? false : try node.int("linear_before_reset", default: 0) != 0

        // Shapes.
        let x = try ctx.input(0)
        try ctx.requireRuntimeType(x, 0)
        guard x.shape.count == 3 else {
            throw fail(.shapeMismatch, "\(op) input X must have rank 3, got shape \(describe(x.shape))")
        }
        let seq = batchMajor ? x.shape[1] : x.shape[0], batch = batchMajor ? x.shape[0] : x.shape[1]
        let inputSize = x.shape[2]
        let w = try ctx.constantInput(1, "\(op) weights W")
        let r = try ctx.constantInput(2, "\(op) recurrence weights R")
        guard r.shape.count == 3, r.shape[0] == directions, r.shape[1] % gates == 0 else {
            throw fail(.shapeMismatch, "\(op) R of shape \(describe(r.shape)) should be [\(directions), \(gates) * hidden, hidden] for direction '\(direction)'")
        }
        let hidden = r.shape[2]
        guard r.shape[1] == gates * hidden else {
            throw fail(.shapeMismatch, "\(op) R of shape \(describe(r.shape)) should be [\(directions), \(gates * hidden), \(hidden)]")
        }
        if let hs = try node.int("hidden_size"), hs != Int64(hidden) {
            throw fail(.shapeMismatch, "\(op) hidden_size \(hs) does not match R of shape \(describe(r.shape))")
        }
        let gh = gates * hidden
        guard w.shape == [directions, gh, inputSize] else {
            throw fail(.shapeMismatch, "\(op) W of shape \(describe(w.shape)) should be [\(directions), \(gh), \(inputSize)] (X \(describe(x.shape)), hidden \(hidden))")
        }
        let b = try ctx.optionalConstantInput(3, "\(op) bias B")
        if let b, b.shape != [directions, 2 * gh] {
            throw fail(.shapeMismatch, "\(op) B of shape \(describe(b.shape)) should be [\(directions), \(2 * gh)]")
        }
        if let lens = try ctx.optionalConstantInput(4, "\(op) sequence_lens") {
            guard lens.shape == [batch] else {
                throw fail(.shapeMismatch, "\(op) sequence_lens of shape \(describe(lens.shape)) should be [\(batch)]")
            }
            if let bad = lens.intValues.first(where: { $0 != Int64(seq) }) {
                throw fail(.unsupported, "\(op) sequence_lens must equal the sequence length \(seq) for every batch row (got \(bad)); shorter sequences are not supported")
            }
        }
        let stateShape = batchMajor ? [batch, directions, hidden] : [directions, batch, hidden]
        let initialH = ctx.optionalInput(5)
        let initialC = isLSTM ? ctx.optionalInput(6) : nil
        for (value, name, index) in [(initialH, "initial_h", 5), (initialC, "initial_c", 6)] {
            guard let value else { continue }
            try ctx.requireRuntimeType(value, index)
            guard value.shape == stateShape else {
                throw fail(.shapeMismatch, "\(op) \(name) of shape \(describe(value.shape)) should be \(describe(stateShape))")
            }
        }
        let peephole = isLSTM ? try ctx.optionalConstantInput(7, "LSTM peepholes P") : nil
        if let peephole, peephole.shape != [directions, 3 * hidden] {
            throw fail(.shapeMismatch, "LSTM P of shape \(describe(peephole.shape)) should be [\(directions), \(3 * hidden)]")
        }
        let yShape = batchMajor ? [batch, seq, directions, hidden] : [seq, directions, batch, hidden]
        try ctx.checkShape(yShape)
        let rows = seq * batch
        try ctx.checkShape([rows, directions * gh])

        // Constants derived from the weights: R^T per direction, the biases of the projection.
        try ctx.checkConstant(r.shape)
        let rv = r.floatValues
        var rT = [Float](repeating: 0, count: rv.count)
        for d in 0..<directions {
            let base = d * gh * hidden
            for i in 0..<gh { for k in 0..<hidden { rT[base + k * gh + i] = rv[base + i * hidden + k] } }
        }
        var projectionBias: [Float]? = nil
        var recurrentBiasH: [Float]? = nil
        if let b {
            let bv = b.floatValues
            var pb = [Float](repeating: 0, count: directions * gh)
            for d in 0..<directions {
                for j in 0..<gh {
                    let wb = bv[d * 2 * gh + j], rb = bv[d * 2 * gh + gh + j]
                    // GRU with linear_before_reset: Rb of the h gate goes inside the reset product.
                    pb[d * gh + j] = linearBeforeReset && j >= 2 * hidden ? wb : wb + rb
                }
            }
            projectionBias = pb
            if linearBeforeReset {
                var rbh = [Float](repeating: 0, count: directions * hidden)
                for d in 0..<directions { for j in 0..<hidden { rbh[d * hidden + j] = bv[d * 2 * gh + gh + 2 * hidden + j] } }
                recurrentBiasH = rbh
            }
        }

        // The input projection: one GEMM over all time steps and directions.
        var gemmInputs: [BoundValue] = [x, .constant(w)]
        if let projectionBias { gemmInputs.append(.constant(try Tensor(floats: projectionBias, shape: [directions * gh]))) }
        let projection = GemmStep(transA: false, transB: true, m: rows, n: directions * gh, k: inputSize, alpha: 1,
                                  beta: projectionBias == nil ? 0 : 1, cStrides: projectionBias == nil ? nil : [0, 1])
        let projected = try ctx.emit(projection, inputs: gemmInputs, outputShape: [rows, directions * gh])

        // The recurrence.
        let p = RecurrentParams(seqLength: seq, batch: batch, hiddenSize: hidden, directions: directions, gates: gates,
                                batchMajor: batchMajor)
        var step = RecurrentStep(params: p, cell: isLSTM ? .lstm : .gru(linearBeforeReset: linearBeforeReset),
                                 reverse: direction == "reverse")
        var inputs: [BoundValue] = [projected, .constant(try Tensor(floats: rT, shape: [directions, hidden, gh]))]
        if let initialH { step.initialH = inputs.count; inputs.append(initialH) }
        if let initialC { step.initialC = inputs.count; inputs.append(initialC) }
        if let peephole { step.peephole = inputs.count; inputs.append(.constant(peephole)) }
        if let recurrentBiasH {
            step.recurrentBiasH = inputs.count
            inputs.append(.constant(try Tensor(floats: recurrentBiasH, shape: [directions, hidden])))
        }
        let shapes = isLSTM ? [yShape, stateShape, stateShape] : [yShape, stateShape]
        return try ctx.emit(step, inputs: inputs, outputShapes: shapes)
    }

    /// The `activations` attribute, when present, must list the defaults for every direction
    /// (names compared case-insensitively); `activation_alpha` / `activation_beta` have no
    /// meaning for them and are ignored.
    private static func checkActivations(_ node: Node, op: String, defaults: [String], directions: Int) throws(DRSNError) {
        guard let attribute = node.attributes["activations"] else { return }
        guard case .strings(let names) = attribute else {
            throw fail(.invalidModel, "\(op) attribute 'activations' must be a list of strings")
        }
        let expected = Array([[String]](repeating: defaults, count: directions).joined())
        guard names.map({ $0.lowercased() }) == expected else {
            let wanted = defaults.map { $0 == "sigmoid" ? "Sigmoid" : "Tanh" }.joined(separator: ", ")
            throw fail(.unsupported, "\(op) activations \(names) are not supported: only the defaults (\(wanted) per direction)")
        }
    }
}
