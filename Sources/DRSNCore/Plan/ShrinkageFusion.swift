import DRSNKernels

/// Recognises the residual shrinkage unit in bound steps and replaces it with fused steps:
///  * soft thresholding written as sign(r) * relu(|r| - tau), sign(r) * max(d, d - d),
///    sign(r) * clip(d, 0) with d = |r| - tau, or the Where chain
///    where(r > tau, r - tau, where(r < -tau, r + tau, 0)) becomes one `shrink` step, which
///    also absorbs a following residual Add;
///  * mean(|r|) over the trailing axes (Abs then GlobalAveragePool or ReduceMean) becomes
///    one `absMean` step.
/// Only the final step of a pattern is rewritten; intermediate steps that become unread are
/// removed by the plan's dead-step elimination, and ones still read elsewhere stay, so a
/// partial match can never change results.
enum ShrinkageFusion {
    /// A fused unit, for introspection.
    struct Unit {
        var tau: Operand
        var tauSize: Int
        var batch: Int
        var planes: Int
        var planeSize: Int
    }

    struct Context {
        var steps: [Step]
        var producer: [Int: Int] = [:]
        var readers: [Int: Int] = [:]

        init(steps: [Step]) {
            self.steps = steps
            for (i, s) in steps.enumerated() {
                for o in s.outputs { producer[o] = i }
                for case .value(let v) in s.inputs { readers[v, default: 0] += 1 }
            }
        }

        func step(producing operand: Operand) -> Step? {
            guard case .value(let v) = operand, let i = producer[v] else { return nil }
            return steps[i]
        }

        func value(_ operand: Operand) -> Int? {
            if case .value(let v) = operand { return v }
            return nil
        }

        /// The input of a unary step of the given kind producing `operand`.
        func unaryInput(_ operand: Operand, _ match: (UnaryOp) -> Bool) -> Operand? {
            guard let s = step(producing: operand), let u = s.kernel(as: UnaryStep.self), match(u.op) else { return nil }
            return s.inputs[0]
        }

        /// (a, b, aStrides, bStrides, outShape) of a binary step of kind `op` producing `operand`.
        func binaryInputs(_ operand: Operand, _ op: BinaryOp) -> (Operand, Operand, [Int], [Int], [Int])? {
            guard let s = step(producing: operand), let b = s.kernel(as: BinaryStep.self), b.op == op else { return nil }
            return (s.inputs[0], s.inputs[1], b.aStrides, b.bStrides, b.outShape)
        }
    }

    /// Whether `strides` read a tensor of `shape` densely (dimensions of size 1 may have any stride).
    static func isDense(_ strides: [Int], _ shape: [Int]) -> Bool {
        let dense = denseStrides(shape)
        return strides.count == shape.count && (0..<shape.count).allSatisfy { shape[$0] == 1 || strides[$0] == dense[$0] }
    }

    static func same(_ a: Operand, _ b: Operand) -> Bool {
        switch (a, b) {
        case (.value(let x), .value(let y)): return x == y
        case (.constant(let x), .constant(let y)): return x == y
        default: return false
        }
    }

    /// r, tau, tau's strides against r's shape, and r's shape for d = |r| - tau.
    static func absMinusTau(_ ctx: Context, _ d: Operand) -> (Operand, Operand, [Int], [Int])? {
        guard let (a, tau, sa, st, shape) = ctx.binaryInputs(d, .sub),
              isDense(sa, shape),
              let r = ctx.unaryInput(a, { $0 == .abs }) else { return nil }
        return (r, tau, st, shape)
    }

    /// Matches y = soft-threshold(r, tau) ending at step `index`.
    static func softThreshold(_ ctx: Context, at index: Int) -> (r: Operand, tau: Operand, tauStrides: [Int], shape: [Int])? {
        let step = ctx.steps[index]
        if let mul = step.kernel(as: BinaryStep.self), mul.op == .mul {
            let shape = mul.outShape
            guard isDense(mul.aStrides, shape), isDense(mul.bStrides, shape) else { return nil }
            for (signSide, other) in [(step.inputs[0], step.inputs[1]), (step.inputs[1], step.inputs[0])] {
                guard let r = ctx.unaryInput(signSide, { $0 == .sign }) else { continue }
                var d: Operand? = ctx.unaryInput(other, { op in
                    switch op {
                    case .relu: return true
                    case .clip(let lo, let hi): return lo == 0 && hi >= Float.greatestFiniteMagnitude
                    default: return false
                    }
                })
                if d == nil, let (p, q, _, _, _) = ctx.binaryInputs(other, .max) {
                    for (x, z) in [(p, q), (q, p)] {
                        if let (z1, z2, _, _, _) = ctx.binaryInputs(z, .sub), same(z1, x), same(z2, x) { d = x }
                    }
                }
                guard let d, let (r2, tau, st, s2) = absMinusTau(ctx, d), same(r, r2), s2 == shape else { continue }
                return (r, tau, st, shape)
            }
            return nil
        }
        if let sel = step.kernel(as: SelectStep.self) {
            let (sc, sx, sy, shape) = (sel.cStrides, sel.xStrides, sel.yStrides, sel.outShape)
            // where(r > tau, r - tau, where(r < -tau, r + tau, 0))
            guard let (r, tau, _, st, _) = ctx.binaryInputs(step.inputs[0], .greater),
                  let (r2, tau2, _, _, _) = ctx.binaryInputs(step.inputs[1], .sub), same(r, r2), same(tau, tau2),
                  let inner = ctx.step(producing: step.inputs[2]), inner.kernel is SelectStep,
                  let (r3, negTau, _, _, _) = ctx.binaryInputs(inner.inputs[0], .less), same(r, r3),
                  let tau3 = ctx.unaryInput(negTau, { $0 == .neg }), same(tau, tau3),
                  let (r4, tau4, _, _, _) = ctx.binaryInputs(inner.inputs[1], .add), same(r, r4), same(tau, tau4),
                  case .constant(let zero) = inner.inputs[2], zero.pointee == 0,
                  isDense(sc, shape), isDense(sx, shape), isDense(sy, shape) else { return nil }
            return (r, tau, st, shape)
        }
        return nil
    }

    /// Splits `shape` into planes (leading dims) and the trailing run over which `strides` are 0.
    static func planes(_ shape: [Int], _ tauStrides: [Int]) -> (planes: Int, planeSize: Int, offsets: [Int]) {
        var k = shape.count
        while k > 0 && tauStrides[k - 1] == 0 { k -= 1 }
        let lead = Array(shape[..<k])
        let planeSize = shape[k...].reduce(1, *)
        let offsets = sourceIndices(strides: Array(tauStrides[..<k]), lead)
        return (lead.reduce(1, *), planeSize, offsets)
    }

    static func run(_ steps: inout [Step], protected: Set<Int>, sizes: [Int]) -> [Unit] {
        var ctx = Context(steps: steps)
        var units: [Unit] = []
        for i in 0..<ctx.steps.count {
            guard let (r, tau, st, shape) = softThreshold(ctx, at: i), shape.count >= 1 else { continue }
            let (planes, planeSize, offsets) = planes(shape, st)
            let unit = units.count
            let y = ctx.steps[i].outputs[0]
            let tauSize = ctx.value(tau).map { sizes[$0] } ?? offsets.max().map { $0 + 1 } ?? 1
            units.append(Unit(tau: tau, tauSize: tauSize, batch: shape[0], planes: planes, planeSize: planeSize))
            var shrink = ShrinkStep(planeSize: planeSize, tauOffsets: offsets, residual: false, unit: unit)
            var fused = Step(shrink, inputs: [r, tau], outputs: [y], nodeName: ctx.steps[i].nodeName)
            // Absorb the residual add that is y's only reader.
            if ctx.readers[y] == 1, !protected.contains(y),
               let j = ((i + 1)..<ctx.steps.count).first(where: { ctx.steps[$0].inputs.contains { same($0, .value(y)) } }),
               let add = ctx.steps[j].kernel(as: BinaryStep.self), add.op == .add,
               add.outShape == shape, isDense(add.aStrides, shape), isDense(add.bStrides, shape) {
                let res = same(ctx.steps[j].inputs[0], .value(y)) ? ctx.steps[j].inputs[1] : ctx.steps[j].inputs[0]
                fused.inputs = [r, tau, res]
                fused.outputs = ctx.steps[j].outputs
                shrink.residual = true
                fused.kernel = shrink
                ctx.steps[j] = fused
            } else {
                ctx.steps[i] = fused
            }
        }
        // mean(|r|) over trailing axes.
        for i in 0..<ctx.steps.count {
            let s = ctx.steps[i]
            var planes = 0, planeSize = 0
            if let pool = s.kernel(as: GlobalAveragePoolStep.self) {
                planes = pool.planes
                planeSize = pool.planeSize
            } else if let r = s.kernel(as: ReduceStep.self), r.op == .mean {
                let (shape, axes) = (r.shape, r.axes)
                guard let k = axes.firstIndex(of: true), k >= 1, axes[k...].allSatisfy({ $0 }) else { continue }
                planes = shape[..<k].reduce(1, *)
                planeSize = shape[k...].reduce(1, *)
            } else {
                continue
            }
            guard let r = ctx.unaryInput(s.inputs[0], { $0 == .abs }) else { continue }
            ctx.steps[i] = Step(AbsMeanStep(planes: planes, planeSize: planeSize), inputs: [r], outputs: s.outputs,
                                nodeName: s.nodeName)
        }
        steps = ctx.steps
        return units
    }
}
