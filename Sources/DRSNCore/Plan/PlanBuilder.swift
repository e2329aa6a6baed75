import DRSNKernels

/// A runtime tensor during binding: its value id (several names may alias one id, e.g.
/// after Reshape) and its concrete shape.
struct RuntimeValue {
    var id: Int
    var shape: [Int]
    var dtype: DType
}

/// What binding knows about a named value.
enum BoundValue {
    case constant(Tensor)
    case runtime(RuntimeValue)

    var shape: [Int] {
        switch self {
        case .constant(let t): return t.shape
        case .runtime(let r): return r.shape
        }
    }

    var dtype: DType {
        switch self {
        case .constant(let t): return t.dtype
        case .runtime(let r): return r.dtype
        }
    }

    var constant: Tensor? {
        if case .constant(let t) = self { return t }
        return nil
    }
}

/// Collects steps and runtime values while a graph is bound to concrete input shapes.
final class PlanBuilder {
    private(set) var steps: [Step] = []
    /// Element count of each runtime value id.
    private(set) var valueSizes: [Int] = []
    /// Constant buffers referenced by steps; kept alive by the plan.
    private(set) var keepAlive: [AlignedBuffer] = []
    var currentNode = ""
    /// Bounds every runtime value and the constants computed while binding.
    let budget: ConstantBudget

    init(budget: ConstantBudget = ConstantBudget()) {
        self.budget = budget
    }

    func newValue(shape: [Int], dtype: DType) throws(DRSNError) -> RuntimeValue {
        try budget.checkShape(shape)
        let n = try elementCount(shape)
        valueSizes.append(n)
        return RuntimeValue(id: valueSizes.count - 1, shape: shape, dtype: dtype)
    }

    /// An operand for a bound value; constants are converted to float storage if needed.
    func operand(_ v: BoundValue) throws(DRSNError) -> Operand {
        switch v {
        case .runtime(let r):
            return .value(r.id)
        case .constant(let t):
            switch t.storage {
            case .floats(let b):
                keepAlive.append(b)
                return .constant(UnsafePointer(b.pointer))
            case .ints(let ints):
                guard let b = AlignedBuffer(copying: ints.map { Float($0) }) else {
                    throw fail(.outOfMemory, "cannot allocate a constant of \(ints.count) elements")
                }
                keepAlive.append(b)
                return .constant(UnsafePointer(b.pointer))
            }
        }
    }

    /// Appends a step of kind `kernel` writing a fresh output of the given shape; returns it
    /// as a bound value.
    func emit(_ kernel: any StepKernel, inputs: [BoundValue], outputShape: [Int],
              dtype: DType = .float32) throws(DRSNError) -> BoundValue {
        var ops: [Operand] = []
        for i in inputs { ops.append(try operand(i)) }
        let out = try newValue(shape: outputShape, dtype: dtype)
        steps.append(Step(kernel, inputs: ops, outputs: [out.id], nodeName: currentNode))
        return .runtime(out)
    }

    /// Appends a step of kind `kernel` writing one fresh output per shape (a step with several
    /// outputs, such as LSTM's Y, Y_h and Y_c); returns them in order.
    func emit(_ kernel: any StepKernel, inputs: [BoundValue], outputShapes: [[Int]]) throws(DRSNError) -> [BoundValue] {
        var ops: [Operand] = []
        for i in inputs { ops.append(try operand(i)) }
        var outs: [RuntimeValue] = []
        for shape in outputShapes { outs.append(try newValue(shape: shape, dtype: .float32)) }
        steps.append(Step(kernel, inputs: ops, outputs: outs.map(\.id), nodeName: currentNode))
        return outs.map { .runtime($0) }
    }

    /// Appends a copy of `value` into a fresh value (used when an output must not alias).
    func copy(_ value: RuntimeValue) throws(DRSNError) -> RuntimeValue {
        let out = try newValue(shape: value.shape, dtype: value.dtype)
        steps.append(Step(CopyStep(count: valueSizes[value.id]), inputs: [.value(value.id)], outputs: [out.id],
                          nodeName: currentNode))
        return out
    }
}
