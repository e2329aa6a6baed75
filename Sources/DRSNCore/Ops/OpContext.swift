/// Bounds what binding a graph may compute: every runtime value and every constant at most
/// `maxValueElements` elements (Options.maxValueElements), and all constants computed at
/// load (by constant folding and binding) at most that many together, so that a small file
/// cannot make a load allocate without bound (a chain of nodes each computing a new
/// constant as large as the limit).
final class ConstantBudget {
    let maxValueElements: Int
    /// Elements of the constants computed so far.
    private(set) var constantElements = 0

    init(maxValueElements: Int = Options().maxValueElements) {
        self.maxValueElements = maxValueElements
    }

    /// Checks a shape computed at bind time: its elements, and the product of its nonzero
    /// dimensions (what loops over part of an empty tensor's dimensions cost), must not
    /// exceed maxValueElements.
    func checkShape(_ shape: [Int], _ what: String = "a tensor") throws(DRSNError) {
        let n = try extent(shape)
        guard n <= maxValueElements else {
            throw fail(.limitExceeded, "\(what) of shape \(describe(shape)) (\(n) elements) exceeds the limit of \(maxValueElements) elements per tensor (DRSN_LIMIT_MAX_VALUE_ELEMENTS)")
        }
    }

    /// Checks the size of a constant about to be computed.
    func checkConstant(_ shape: [Int]) throws(DRSNError) {
        try checkShape(shape, "a constant")
        let n = try elementCount(shape)
        guard n <= maxValueElements - constantElements else { throw totalExceeded(n) }
    }

    /// Counts the constants a node computed (outputs that are not views of its constant
    /// inputs) against the total of `maxValueElements`.
    func countComputedConstants(_ outputs: [BoundValue], inputs: [BoundValue?]) throws(DRSNError) {
        for case .constant(let t) in outputs {
            let isView = inputs.contains { v in v?.constant.map { t.sharesStorage(with: $0) } ?? false }
            if isView { continue }
            let n = t.count
            guard n <= maxValueElements - constantElements else { throw totalExceeded(n) }
            constantElements += n
        }
    }

    private func totalExceeded(_ n: Int) -> DRSNError {
        fail(.limitExceeded, "constants computed at load would total more than \(maxValueElements) elements (\(constantElements) so far, \(n) more), the limit of DRSN_LIMIT_MAX_VALUE_ELEMENTS")
    }
}

/// Where an operator's runtime steps go.
enum StepSink {
    /// Binding: steps are appended to the plan being built.
    case plan(PlanBuilder)
    /// Constant folding: the node is only evaluated; an operator that needs a runtime step
    /// sets `needsRuntime` (the node then stays in the graph) and gets a placeholder value.
    case evaluation(ConstantEvaluation)
}

/// The record of one node's evaluation by constant folding.
final class ConstantEvaluation {
    var needsRuntime = false
}

/// Everything an operator sees while it is bound or evaluated: the node, the opset, its
/// inputs, the budget for what it computes and where its runtime steps go. An operator
/// returns one bound value per node output it produces; when all its inputs are constant it
/// may compute constants instead of emitting steps (constant folding relies on that).
struct OpContext {
    let node: Node
    let opset: Int
    /// One entry per node input; nil for an omitted optional input.
    let inputs: [BoundValue?]
    let budget: ConstantBudget
    let sink: StepSink

    var allConstant: Bool {
        inputs.allSatisfy { v in
            if let v { return v.constant != nil }
            return true
        }
    }

    /// Required input `i`.
    func input(_ i: Int) throws(DRSNError) -> BoundValue {
        guard i < inputs.count, let v = inputs[i] else {
            throw fail(.invalidModel, "missing required input \(i)")
        }
        return v
    }

    func optionalInput(_ i: Int) -> BoundValue? { i < inputs.count ? inputs[i] : nil }

    /// Input `i`, which must be constant (weights, shapes, axes).
    func constantInput(_ i: Int, _ what: String) throws(DRSNError) -> Tensor {
        let v = try input(i)
        guard let t = v.constant else {
            throw fail(.unsupported, "\(what) (input \(i)) must be a constant or computable from shapes at load time")
        }
        return t
    }

    func optionalConstantInput(_ i: Int, _ what: String) throws(DRSNError) -> Tensor? {
        guard let v = optionalInput(i) else { return nil }
        guard let t = v.constant else {
            throw fail(.unsupported, "\(what) (input \(i)) must be a constant or computable from shapes at load time")
        }
        return t
    }

    /// Runtime input `i` as float32/bool data; int64 runtime data is not supported.
    func requireRuntimeType(_ v: BoundValue, _ i: Int) throws(DRSNError) {
        guard v.dtype.isRuntimeSupported || v.constant != nil else {
            throw fail(.unsupported, "input \(i) has type \(v.dtype); runtime tensors must be FLOAT or BOOL")
        }
    }

    /// Checks a shape computed at bind time (see `ConstantBudget.checkShape`).
    func checkShape(_ shape: [Int], _ what: String = "a tensor") throws(DRSNError) {
        try budget.checkShape(shape, what)
    }

    /// Checks the size of a constant about to be computed (see `ConstantBudget.checkConstant`).
    func checkConstant(_ shape: [Int]) throws(DRSNError) {
        try budget.checkConstant(shape)
    }

    /// A runtime step of kind `kernel` writing a fresh output of the given shape.
    func emit(_ kernel: any StepKernel, inputs: [BoundValue], outputShape: [Int],
              dtype: DType = .float32) throws(DRSNError) -> BoundValue {
        switch sink {
        case .plan(let builder):
            return try builder.emit(kernel, inputs: inputs, outputShape: outputShape, dtype: dtype)
        case .evaluation(let e):
            return .runtime(try placeholder(e, shape: outputShape, dtype: dtype))
        }
    }

    /// A runtime step of kind `kernel` writing one fresh float32 output per shape, in order.
    func emit(_ kernel: any StepKernel, inputs: [BoundValue], outputShapes: [[Int]]) throws(DRSNError) -> [BoundValue] {
        switch sink {
        case .plan(let builder):
            return try builder.emit(kernel, inputs: inputs, outputShapes: outputShapes)
        case .evaluation(let e):
            var outs: [BoundValue] = []
            for shape in outputShapes { outs.append(.runtime(try placeholder(e, shape: shape, dtype: .float32))) }
            return outs
        }
    }

    /// A copy of `value` into a fresh value (used when an output must not alias).
    func copy(_ value: RuntimeValue) throws(DRSNError) -> RuntimeValue {
        switch sink {
        case .plan(let builder): return try builder.copy(value)
        case .evaluation(let e): return try placeholder(e, shape: value.shape, dtype: value.dtype)
        }
    }

    /// What constant folding hands back for a value only a run can compute (checked like a
    /// new runtime value, never used).
    private func placeholder(_ e: ConstantEvaluation, shape: [Int], dtype: DType) throws(DRSNError) -> RuntimeValue {
        try budget.checkShape(shape)
        _ = try elementCount(shape)
        e.needsRuntime = true
        return RuntimeValue(id: -1, shape: shape, dtype: dtype)
    }
}

typealias OperatorFunction = (OpContext) throws(DRSNError) -> [BoundValue]

extension OpContext {
    /// An elementwise float operator on one value (output of the same shape): a constant is
    /// evaluated now, in place, by `kernel(pointer, count)` (the kernel a run uses, so a folded
    /// node agrees with a run bit for bit); a runtime FLOAT value becomes the step
    /// `step(elementCount)`. Other element types are refused.
    func applyElementwise(_ x: BoundValue, kernel: (UnsafeMutablePointer<Float>, Int) -> Void,
                          step: (Int) -> any StepKernel) throws(DRSNError) -> BoundValue {
        if let t = x.constant {
            try checkConstant(t.shape)
            guard t.dtype.isFloatingPoint else {
                throw fail(.unsupported, "\(node.opType) input must be floating point, got \(t.dtype)")
            }
            var v = t.floatValues
            let n = v.count
            v.withUnsafeMutableBufferPointer { b in
                if let p = b.baseAddress { kernel(p, n) }
            }
            return .constant(try Tensor(floats: v, shape: t.shape, dtype: t.dtype))
        }
        try requireRuntimeType(x, 0)
        guard x.dtype == .float32 else { throw fail(.unsupported, "\(node.opType) input must be FLOAT, got \(x.dtype)") }
        return try emit(step(try elementCount(x.shape)), inputs: [x], outputShape: x.shape)
    }
}
