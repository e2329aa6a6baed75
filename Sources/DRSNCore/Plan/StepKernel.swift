import DRSNKernels

/// One step kind, self-described in one place: its parameters (the conforming struct's
/// fields, every shape resolved at bind time), how its work splits into independent units,
/// its FLOPs, its scratch and how to run a range of units. `Executor` has one path for every
/// kind (`run(units:task:_:)`), and the plan's parallelization reads `split(threads:)`, so the
/// split and the run cannot drift apart.
///
/// A new kernel-backed operator adds one conforming struct (Plan/Steps/), emitted by its
/// operator (Ops/), whose `run` calls its kernel (`activeKernels.name(...)`: a static
/// function of `ISAKernels` in DRSNKernelSource, required by `KernelSet`). Nothing else in the plan or the runtime changes.
///
/// The run path is allocation-free: `run` may read the struct's arrays but must not build
/// new ones (Tests/alloc checks the steady-state run).
protocol StepKernel {
    /// The kind's name in the plan's step counts (`drsn inspect`, the model summary).
    var name: String { get }
    /// (units, work per unit in flop-equivalents): how the step splits into independent
    /// units of work (images, rows, planes, element blocks). units == 1: never split.
    func split(threads: Int) -> (units: Int, workPerUnit: Int)
    /// Multiply-add FLOPs (2 per MAC) of one run that the model's FLOP count includes
    /// (convolutions and matrix products; 0 for data movement and elementwise steps).
    var flops: Int { get }
    /// Scratch floats one worker needs while it runs units of this step.
    var scratchFloats: Int { get }
    /// Fixes the split for a plan on `threads` threads divided into `tasks` tasks and
    /// precomputes what such a run needs, so the run allocates nothing and splits exactly as
    /// `split(threads:)` said (called once when the plan is built).
    mutating func prepare(threads: Int, tasks: Int)
    /// Runs units `units` of the step; `task` is the index of the task they belong to (0
    /// when the step is not split, then `units` covers every unit).
    func run(units: Range<Int>, task: Int, _ ctx: StepContext)
}

extension StepKernel {
    func split(threads: Int) -> (units: Int, workPerUnit: Int) { (1, 1) }
    var flops: Int { 0 }
    var scratchFloats: Int { 0 }
    mutating func prepare(threads: Int, tasks: Int) {}
}

/// What a step's `run` sees: its resolved operands and its worker's scratch. Lives on the
/// stack of the thread running the units.
struct StepContext {
    let executor: UnsafePointer<Executor>
    let step: UnsafePointer<Step>
    /// `scratchFloats` floats owned by this worker.
    let scratch: UnsafeMutablePointer<Float>

    /// Input operand `i` (a runtime value or a constant).
    @inline(__always)
    func input(_ i: Int) -> UnsafePointer<Float> { executor.pointee.read(step.pointee.inputs[i]) }

    /// Optional input `i` (nil past the step's inputs).
    @inline(__always)
    func optionalInput(_ i: Int) -> UnsafePointer<Float>? { i < inputCount ? input(i) : nil }

    var inputCount: Int { step.pointee.inputs.count }

    /// Output `i`.
    @inline(__always)
    func output(_ i: Int = 0) -> UnsafeMutablePointer<Float> { executor.pointee.pointer(step.pointee.outputs[i]) }

    /// Per-plane zeroed-feature counts of shrinkage unit `unit` (introspection runs only).
    func zeroCounts(unit: Int) -> UnsafeMutablePointer<Float>? { executor.pointee.zeroCountBuffer(unit) }
}
