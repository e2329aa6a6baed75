import CDRSNSupport
import DRSNKernels

/// What a pool worker needs to run its share of a split step; lives on the caller's stack.
struct StepTask {
    let executor: UnsafePointer<Executor>
    let step: UnsafePointer<Step>
    let scratch: UnsafeMutablePointer<Float>
    let perWorker: Int
}

/// Pool entry point for split steps (a C function pointer: no closure context to allocate).
let stepTaskEntry: drsnsup_task_fn = { context, task, worker in
    let t = context!.assumingMemoryBound(to: StepTask.self).pointee
    Executor.runTask(t.executor, t.step, task: task, scratch: t.scratch + Int(worker) * t.perWorker)
}

/// Runs an execution plan on one arena. Pointers are resolved per step from the plan's
/// precomputed locations; every shape was validated when the plan was built. One path for
/// every step kind: task t of a step runs units [t * units / tasks, (t + 1) * units / tasks)
/// through the step's `StepKernel`.
struct Executor {
    let plan: ExecutionPlan
    let arena: UnsafeMutablePointer<Float>
    let inputs: UnsafeBufferPointer<UnsafePointer<Float>>
    let outputs: UnsafeBufferPointer<UnsafeMutablePointer<Float>>
    /// Per shrinkage unit, per-plane counts of zeroed features (introspection runs only).
    var zeroCounts: [UnsafeMutablePointer<Float>] = []
    /// Per shrinkage unit, a copy of its threshold tensor (introspection runs only).
    var tauCopies: [UnsafeMutablePointer<Float>] = []

    func zeroCountBuffer(_ unit: Int) -> UnsafeMutablePointer<Float>? {
        unit < zeroCounts.count ? zeroCounts[unit] : nil
    }

    @inline(__always)
    func pointer(_ id: Int) -> UnsafeMutablePointer<Float> {
        switch plan.locations[id] {
        case .arena(let offset): return arena + offset
        case .input(let i): return UnsafeMutablePointer(mutating: inputs[i])
        case .output(let j): return outputs[j]
        }
    }

    @inline(__always)
    func read(_ operand: Operand) -> UnsafePointer<Float> {
        switch operand {
        case .value(let id): return UnsafePointer(pointer(id))
        case .constant(let p): return p
        }
    }

    func run() {
        let scratch = arena + plan.scratchOffset
        let perWorker = plan.scratchPerWorker
        plan.steps.withUnsafeBufferPointer { steps in
            withUnsafePointer(to: self) { me in
                for i in 0..<steps.count {
                    let step = steps.baseAddress! + i
                    if step.pointee.tasks <= 1 {
                        Executor.runTask(me, step, task: 0, scratch: scratch)
                    } else {
                        var task = StepTask(executor: me, step: step, scratch: scratch, perWorker: perWorker)
                        withUnsafeMutablePointer(to: &task) { t in
                            _ = drsnsup_parallel_for(step.pointee.tasks, Int32(plan.threads), stepTaskEntry, t)
                        }
                    }
                    if !tauCopies.isEmpty, let shrink = step.pointee.kernel(as: ShrinkStep.self) {
                        tauCopies[shrink.unit].update(from: read(step.pointee.inputs[1]),
                                                      count: plan.shrinkageUnits[shrink.unit].tauSize)
                    }
                }
            }
        }
        for (j, data) in plan.constantOutputs {
            outputs[j].update(from: data.pointer, count: data.count)
        }
    }

    /// Runs task `task` of `step`: its units [task * units / tasks, (task + 1) * units / tasks).
    static func runTask(_ executor: UnsafePointer<Executor>, _ step: UnsafePointer<Step>, task: Int,
                        scratch: UnsafeMutablePointer<Float>) {
        let units = step.pointee.units, tasks = max(step.pointee.tasks, 1)
        let lo = units * task / tasks, hi = units * (task + 1) / tasks
        if lo >= hi { return }
        step.pointee.kernel.run(units: lo..<hi, task: task, StepContext(executor: executor, step: step, scratch: scratch))
    }
}
