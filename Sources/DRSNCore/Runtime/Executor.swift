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
    t.executor.pointee.executePart(t.step.pointee, task: task, of: t.step.pointee.tasks,
                                   scratch: t.scratch + Int(worker) * t.perWorker)
}

/// Runs an execution plan on one arena. Pointers are resolved per step from the plan's
/// precomputed locations; every shape was validated when the plan was built.
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
                        execute(step.pointee, scratch: scratch)
                    } else {
                        var task = StepTask(executor: me, step: step, scratch: scratch, perWorker: perWorker)
                        withUnsafeMutablePointer(to: &task) { t in
                            _ = drsnsup_parallel_for(step.pointee.tasks, Int32(plan.threads), stepTaskEntry, t)
                        }
                    }
                    if !tauCopies.isEmpty, case .shrink(_, _, _, let unit) = step.pointee.kind {
                        tauCopies[unit].update(from: read(step.pointee.inputs[1]), count: plan.shrinkageUnits[unit].tauSize)
                    }
                }
            }
        }
        for (j, data) in plan.constantOutputs {
            outputs[j].update(from: data.pointer, count: data.count)
        }
    }

    /// Runs units [task * units / tasks, (task + 1) * units / tasks) of a split step
    /// (see `Parallelization.units`).
    func executePart(_ step: Step, task: Int, of tasks: Int, scratch: UnsafeMutablePointer<Float>) {
        let (units, _) = Parallelization.units(step.kind, threads: plan.threads)
        let lo = units * task / tasks, hi = units * (task + 1) / tasks
        if lo >= hi { return }
        let out = pointer(step.outputs[0])
        let ins = step.inputs
        switch step.kind {
        case .conv(let p, let activation, let f):
            let (parts, blocks, cb) = Parallelization.convChannelSplit(p, threads: plan.threads)
            if parts == 1 {
                conv2D(p, input: read(ins[0]), weights: read(ins[1]), bias: ins.count > 2 ? read(ins[2]) : nil,
                       activation: activation, output: out, scratch: scratch, batchRange: lo..<hi,
                       channelRange: 0..<p.outChannels, fusion: convFusion(f, step))
            } else {
                // Units are (image, part) pairs: one call per image touched.
                for image in (lo / parts)...((hi - 1) / parts) {
                    let p0 = max(lo, image * parts) - image * parts, p1 = min(hi, (image + 1) * parts) - image * parts
                    let channels = Parallelization.convChannelRange(partLo: p0, partHi: p1, parts: parts, blocks: blocks,
                                                                    channelsPerBlock: cb, outChannels: p.outChannels)
                    conv2D(p, input: read(ins[0]), weights: read(ins[1]), bias: ins.count > 2 ? read(ins[2]) : nil,
                           activation: activation, output: out, scratch: scratch, batchRange: image..<(image + 1),
                           channelRange: channels, fusion: convFusion(f, step))
                }
            }
        case .gemm(let transA, let transB, _, let n, let k, let alpha, let beta, let cStrides):
            let m = plan.gemmRows(step)
            let rows = hi - lo
            let o = out + lo * n
            if let cStrides {
                let c = read(ins[2])
                for i in lo..<hi {
                    for j in 0..<n { out[i * n + j] = c[i * cStrides[0] + j * cStrides[1]] }
                }
            }
            let a = read(ins[0])
            sgemm(transA: transA, transB: transB, m: rows, n: n, k: k, alpha: alpha,
                  a: transA ? a + lo : a + lo * k, lda: transA ? m : k, b: read(ins[1]), ldb: transB ? k : n,
                  beta: beta, c: o, ldc: n, scratch: scratch)
        case .batchedMatMul(_, let m, let n, let k, let aOffsets, let bOffsets):
            let a = read(ins[0]), b = read(ins[1])
            for i in lo..<hi {
                sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a + aOffsets[i], lda: k,
                      b: b + bOffsets[i], ldb: n, beta: 0, c: out + i * m * n, ldc: n, scratch: scratch)
            }
        case .unary(let op, let count):
            let a = lo * Parallelization.elementBlock, e = min(count, hi * Parallelization.elementBlock)
            unary(op, input: read(ins[0]) + a, output: out + a, count: e - a)
        case .copy(let count):
            let a = lo * Parallelization.elementBlock, e = min(count, hi * Parallelization.elementBlock)
            (out + a).update(from: read(ins[0]) + a, count: e - a)
        case .binary(let op, let aStrides, let bStrides, let outShape):
            let shape = step.partShapes[task]
            let inner = outShape.dropFirst().reduce(1, *)
            binary(op, a: read(ins[0]) + lo * aStrides[0], aStrides: aStrides, b: read(ins[1]) + lo * bStrides[0],
                   bStrides: bStrides, output: out + lo * inner, outShape: shape)
        case .select(let cStrides, let xStrides, let yStrides, let outShape):
            let shape = step.partShapes[task]
            let inner = outShape.dropFirst().reduce(1, *)
            select(condition: read(ins[0]) + lo * cStrides[0], conditionStrides: cStrides,
                   x: read(ins[1]) + lo * xStrides[0], xStrides: xStrides, y: read(ins[2]) + lo * yStrides[0],
                   yStrides: yStrides, output: out + lo * inner, outShape: shape)
        case .scaleShift(_, let channels, let inner, let relu):
            let off = lo * channels * inner
            if relu {
                channelScaleShiftRelu(input: read(ins[0]) + off, output: out + off, batch: hi - lo, channels: channels,
                                      inner: inner, scale: read(ins[1]), shift: read(ins[2]))
            } else {
                channelScaleShift(input: read(ins[0]) + off, output: out + off, batch: hi - lo, channels: channels,
                                  inner: inner, scale: read(ins[1]), shift: read(ins[2]))
            }
        case .globalAveragePool(_, let planeSize):
            globalAveragePool(input: read(ins[0]) + lo * planeSize, output: out + lo, planes: hi - lo, planeSize: planeSize)
        case .maxPool(var p):
            let inPlane = p.inHeight * p.inWidth, outPlane = p.outHeight * p.outWidth
            p.planes = hi - lo
            maxPool2D(p, input: read(ins[0]) + lo * inPlane, output: out + lo * outPlane)
        case .averagePool(var p):
            let inPlane = p.inHeight * p.inWidth, outPlane = p.outHeight * p.outWidth
            p.planes = hi - lo
            averagePool2D(p, input: read(ins[0]) + lo * inPlane, output: out + lo * outPlane)
        case .softmax(_, let axisSize, let inner):
            let off = lo * axisSize * inner
            softmax(input: read(ins[0]) + off, output: out + off, outer: hi - lo, axisSize: axisSize, inner: inner)
        case .shrink(let planeSize, let tauOffsets, let residual, let unit):
            tauOffsets.withUnsafeBufferPointer { offsets in
                shrink(input: read(ins[0]), tau: read(ins[1]), tauOffsets: offsets.baseAddress!,
                       residual: residual ? read(ins[2]) : nil, output: out, planes: lo..<hi, planeSize: planeSize,
                       zeroCounts: zeroCountBuffer(unit))
            }
        case .thresholdNetwork(_, let inChannels, let hidden, let outChannels, let transB1, let transB2, let bias1, let bias2):
            runThresholdNetwork(ins, out, rows: lo..<hi, inChannels, hidden, outChannels, transB1, transB2, bias1, bias2, scratch)
        case .absMean(_, let planeSize):
            absMean(input: read(ins[0]) + lo * planeSize, output: out + lo, planes: hi - lo, planeSize: planeSize)
        default:
            if task == 0 { execute(step, scratch: scratch) }
        }
    }

    func execute(_ step: Step, scratch: UnsafeMutablePointer<Float>) {
        let out = pointer(step.outputs[0])
        let ins = step.inputs
        switch step.kind {
        case .conv(let p, let activation, let f):
            conv2D(p, input: read(ins[0]), weights: read(ins[1]), bias: ins.count > 2 ? read(ins[2]) : nil,
                   activation: activation, output: out, scratch: scratch, batchRange: 0..<p.batch,
                   channelRange: 0..<p.outChannels, fusion: convFusion(f, step))
        case .gemm(let transA, let transB, let m, let n, let k, let alpha, let beta, let cStrides):
            if let cStrides {
                let c = read(ins[2])
                for i in 0..<m {
                    for j in 0..<n { out[i * n + j] = c[i * cStrides[0] + j * cStrides[1]] }
                }
            }
            sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                  a: read(ins[0]), lda: transA ? m : k, b: read(ins[1]), ldb: transB ? k : n,
                  beta: beta, c: out, ldc: n, scratch: scratch)
        case .batchedMatMul(let batch, let m, let n, let k, let aOffsets, let bOffsets):
            let a = read(ins[0]), b = read(ins[1])
            for i in 0..<batch {
                sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a + aOffsets[i], lda: k,
                      b: b + bOffsets[i], ldb: n, beta: 0, c: out + i * m * n, ldc: n, scratch: scratch)
            }
        case .unary(let op, let count):
            unary(op, input: read(ins[0]), output: out, count: count)
        case .binary(let op, let aStrides, let bStrides, let outShape):
            binary(op, a: read(ins[0]), aStrides: aStrides, b: read(ins[1]), bStrides: bStrides, output: out, outShape: outShape)
        case .select(let cStrides, let xStrides, let yStrides, let outShape):
            select(condition: read(ins[0]), conditionStrides: cStrides, x: read(ins[1]), xStrides: xStrides,
                   y: read(ins[2]), yStrides: yStrides, output: out, outShape: outShape)
        case .reduce(let op, let shape, let axes):
            reduce(op, input: read(ins[0]), shape: shape, axes: axes, output: out)
        case .globalAveragePool(let planes, let planeSize):
            globalAveragePool(input: read(ins[0]), output: out, planes: planes, planeSize: planeSize)
        case .maxPool(let p):
            maxPool2D(p, input: read(ins[0]), output: out)
        case .averagePool(let p):
            averagePool2D(p, input: read(ins[0]), output: out)
        case .softmax(let outer, let axisSize, let inner):
            softmax(input: read(ins[0]), output: out, outer: outer, axisSize: axisSize, inner: inner)
        case .transpose(let shape, let permutation):
            transpose(input: read(ins[0]), shape: shape, permutation: permutation, output: out)
        case .concat(let axisSizes, let outer, let inner):
            concat(inputs: ins.map { read($0) }, axisSizes: axisSizes, outer: outer, inner: inner, output: out)
        case .slice(let shape, let starts, let steps, let outShape):
            slice(input: read(ins[0]), shape: shape, starts: starts, steps: steps, outShape: outShape, output: out)
        case .pad(let shape, let padsBegin, let outShape, let value):
            padConstant(input: read(ins[0]), shape: shape, padsBegin: padsBegin, outShape: outShape, value: value, output: out)
        case .gather(let shape, let axis, let indices):
            gather(input: read(ins[0]), shape: shape, axis: axis, indices: indices, output: out)
        case .scaleShift(let batch, let channels, let inner, let relu):
            if relu {
                channelScaleShiftRelu(input: read(ins[0]), output: out, batch: batch, channels: channels, inner: inner,
                                      scale: read(ins[1]), shift: read(ins[2]))
            } else {
                channelScaleShift(input: read(ins[0]), output: out, batch: batch, channels: channels, inner: inner,
                                  scale: read(ins[1]), shift: read(ins[2]))
            }
        case .copy(let count):
            out.update(from: read(ins[0]), count: count)
        case .shrink(let planeSize, let tauOffsets, let residual, let unit):
            tauOffsets.withUnsafeBufferPointer { offsets in
                shrink(input: read(ins[0]), tau: read(ins[1]), tauOffsets: offsets.baseAddress!,
                       residual: residual ? read(ins[2]) : nil, output: out, planes: 0..<offsets.count,
                       planeSize: planeSize, zeroCounts: zeroCountBuffer(unit))
            }
        case .absMean(let planes, let planeSize):
            absMean(input: read(ins[0]), output: out, planes: planes, planeSize: planeSize)
        case .thresholdNetwork(let batch, let inChannels, let hidden, let outChannels, let transB1, let transB2, let bias1, let bias2):
            runThresholdNetwork(ins, out, rows: 0..<batch, inChannels, hidden, outChannels, transB1, transB2, bias1, bias2, scratch)
        }
    }

    /// The kernel-side form of a conv step's fusion (pointers resolved for this run).
    @inline(__always)
    func convFusion(_ f: ConvStepFusion, _ step: Step) -> ConvFusion {
        ConvFusion(preScale: f.preScale, preShift: f.preShift, packedWeights: f.packedWeights,
                   absMean: f.absMean ? pointer(step.outputs[1]) : nil)
    }

    func runThresholdNetwork(_ ins: [Operand], _ out: UnsafeMutablePointer<Float>, rows: Range<Int>, _ inChannels: Int,
                             _ hidden: Int, _ outChannels: Int, _ transB1: Bool, _ transB2: Bool, _ bias1: Bool,
                             _ bias2: Bool, _ scratch: UnsafeMutablePointer<Float>) {
        ThresholdNetworkFusion.compute(m: read(ins[0]), a: read(ins[1]), w1: read(ins[2]), b1: bias1 ? read(ins[4]) : nil,
                                       w2: read(ins[3]), b2: bias2 ? read(ins[bias1 ? 5 : 4]) : nil, tau: out, rows: rows,
                                       channels: inChannels, hiddenCount: hidden, outChannels: outChannels,
                                       transB1: transB1, transB2: transB2, hidden: scratch)
    }
}
