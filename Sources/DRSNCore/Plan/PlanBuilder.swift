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
    /// Most elements any runtime value may have (Options.maxValueElements). Also the most
    /// elements all constants computed while binding may have together, so that a small
    /// file cannot make a load allocate without bound (a chain of nodes each computing
    /// a new constant as large as the limit).
    var maxValueElements = Options().maxValueElements
    /// Elements of the constants computed so far by this builder's nodes.
    private(set) var constantElements = 0

    /// Checks a shape computed at bind time: its elements, and the product of its nonzero
    /// dimensions (what loops over part of an empty tensor's dimensions cost), must not
    /// exceed maxValueElements.
    func checkShape(_ shape: [Int], _ what: String = "a tensor") throws(DRSNError) {
        let n = try extent(shape)
        guard n <= maxValueElements else {
            throw fail(.limitExceeded, "\(what) of shape \(describe(shape)) (\(n) elements) exceeds the limit of \(maxValueElements) elements per tensor (DRSN_LIMIT_MAX_VALUE_ELEMENTS)")
        }
    }

    /// Checks the size of a constant about to be computed at bind time.
    func checkConstant(_ shape: [Int]) throws(DRSNError) {
        try checkShape(shape, "a constant")
        let n = try elementCount(shape)
        guard n <= maxValueElements - constantElements else { throw constantTotalExceeded(n) }
    }

    /// Counts the constants a node computed (outputs that are not views of its constant
    /// inputs) against the total of `maxValueElements`.
    func countComputedConstants(_ outputs: [BoundValue], inputs: [BoundValue?]) throws(DRSNError) {
        for case .constant(let t) in outputs {
            let isView = inputs.contains { v in v?.constant.map { t.sharesStorage(with: $0) } ?? false }
            if isView { continue }
            let n = t.count
            guard n <= maxValueElements - constantElements else { throw constantTotalExceeded(n) }
            constantElements += n
        }
    }

    private func constantTotalExceeded(_ n: Int) -> DRSNError {
        fail(.limitExceeded, "constants computed at load would total more than \(maxValueElements) elements (\(constantElements) so far, \(n) more), the limit of DRSN_LIMIT_MAX_VALUE_ELEMENTS")
    }

    func newValue(shape: [Int], dtype: DType) throws(DRSNError) -> RuntimeValue {
        try checkShape(shape)
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

    /// Appends a copy of `value` into a fresh value (used when an output must not alias).
    func copy(_ value: RuntimeValue) throws(DRSNError) -> RuntimeValue {
        let out = try newValue(shape: value.shape, dtype: value.dtype)
        steps.append(Step(CopyStep(count: valueSizes[value.id]), inputs: [.value(value.id)], outputs: [out.id],
                          nodeName: currentNode))
        return out
    }
}
