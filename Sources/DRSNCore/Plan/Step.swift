import DRSNKernels

/// Where a step reads an operand from.
enum Operand {
    /// A runtime value (arena, caller input or caller output, resolved by the memory plan).
    case value(Int)
    /// Constant data that the plan keeps alive.
    case constant(UnsafePointer<Float>)
}

/// One kernel invocation with every shape and parameter resolved: what it computes and how
/// is its `kernel` (one `StepKernel` struct per step kind, in Plan/Steps/); the step adds
/// the operands and how the plan split it.
struct Step {
    var kernel: any StepKernel
    var inputs: [Operand]
    var outputs: [Int]
    /// For error messages and profiling.
    var nodeName: String
    /// Units of work (`kernel.split`) and the parallel tasks they are divided into
    /// (1 = run on the calling thread); set when the plan is built.
    var units: Int = 1
    var tasks: Int = 1

    init(_ kernel: any StepKernel, inputs: [Operand], outputs: [Int], nodeName: String) {
        self.kernel = kernel
        self.inputs = inputs
        self.outputs = outputs
        self.nodeName = nodeName
    }

    /// Scratch floats the step needs for the duration of its kernel (per worker).
    var scratch: Int { kernel.scratchFloats }

    /// The step's kernel as a `K`, if it is one (fusion passes match step kinds with this).
    func kernel<K: StepKernel>(as type: K.Type) -> K? { kernel as? K }
}
