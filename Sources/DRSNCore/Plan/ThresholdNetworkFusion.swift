/// Fuses the shrinkage unit's threshold sub-network, tau = a * sigmoid(FC2(relu(FC1(m)))),
/// from its five bound steps (gemm, relu, gemm, sigmoid, mul; BN already folded into FC1)
/// into one step over the tiny per-sample tensors, which removes four step dispatches per
/// unit (the compute is the `thresholdNetwork` kernel, run by `ThresholdNetworkStep`).
/// Channel-wise units have a = m ([N, C]); channel-shared units scale a per-sample
/// mean a ([N, 1]) by a one-output FC2.
enum ThresholdNetworkFusion {
    /// A fully connected layer: a bias-only Gemm, or a 1x1 Conv on a single position
    /// ([N, C, 1] or [N, C, 1, 1]) whose weights [n, k, 1, 1] are laid out like transB.
    struct Linear {
        var x: Operand, w: Operand, b: Operand?, transB: Bool, n: Int, k: Int, relu: Bool
    }

    static func linear(_ ctx: ShrinkageFusion.Context, _ operand: Operand) -> Linear? {
        guard let s = ctx.step(producing: operand) else { return nil }
        if let g = s.kernel(as: GemmStep.self) {
            guard !g.transA, g.alpha == 1 else { return nil }
            if let cStrides = g.cStrides {
                guard g.beta == 1, cStrides[1] == 1 || g.n == 1, cStrides[0] == 0 else { return nil }
                return Linear(x: s.inputs[0], w: s.inputs[1], b: s.inputs[2], transB: g.transB, n: g.n, k: g.k, relu: false)
            }
            return Linear(x: s.inputs[0], w: s.inputs[1], b: nil, transB: g.transB, n: g.n, k: g.k, relu: false)
        }
        if let c = s.kernel(as: ConvStep.self) {
            let p = c.params
            guard p.kernelHeight == 1, p.kernelWidth == 1, p.groups == 1, p.inHeight * p.inWidth == 1,
                  p.outHeight * p.outWidth == 1, p.padTop == 0, p.padLeft == 0 else { return nil }
            return Linear(x: s.inputs[0], w: s.inputs[1], b: s.inputs.count > 2 ? s.inputs[2] : nil, transB: true,
                          n: p.outChannels, k: p.inChannels, relu: c.activation == .relu)
        }
        return nil
    }

    /// Returns the number of threshold networks fused.
    @discardableResult
    static func run(_ steps: inout [Step]) -> Int {
        var fused = 0
        let ctx = ShrinkageFusion.Context(steps: steps)
        for i in 0..<steps.count {
            guard let mul = steps[i].kernel(as: BinaryStep.self), mul.op == .mul, case let shape = mul.outShape,
                  shape.count >= 2, shape[2...].allSatisfy({ $0 == 1 }),
                  ShrinkageFusion.isDense(mul.aStrides, shape), ShrinkageFusion.isDense(mul.bStrides, shape) else { continue }
            for (a, zOperand) in [(steps[i].inputs[0], steps[i].inputs[1]), (steps[i].inputs[1], steps[i].inputs[0])] {
                guard let g2 = ctx.unaryInput(zOperand, { $0 == .sigmoid }),
                      let fc2 = linear(ctx, g2), !fc2.relu else { continue }
                let first: Linear?
                if let g1 = ctx.unaryInput(fc2.x, { $0 == .relu }), let l = linear(ctx, g1), !l.relu {
                    first = l
                } else if let l = linear(ctx, fc2.x), l.relu {
                    first = l
                } else {
                    first = nil
                }
                guard let fc1 = first, case .value = fc1.x, fc2.n == shape[1], fc2.k == fc1.n else { continue }
                var inputs = [fc1.x, a, fc1.w, fc2.w]
                if let b = fc1.b { inputs.append(b) }
                if let b = fc2.b { inputs.append(b) }
                steps[i] = Step(ThresholdNetworkStep(batch: shape[0], inChannels: fc1.k, hidden: fc1.n, outChannels: shape[1],
                                                     transB1: fc1.transB, transB2: fc2.transB,
                                                     bias1: fc1.b != nil, bias2: fc2.b != nil),
                                inputs: inputs, outputs: steps[i].outputs, nodeName: steps[i].nodeName)
                fused += 1
                break
            }
        }
        return fused
    }

    /// Fuses a BatchNormalization (scale-shift) step with the ReLU that is its only reader:
    /// the pre-activation BN -> ReLU of a residual unit becomes one pass over the data.
    /// Returns the number of pairs fused.
    @discardableResult
    static func fuseScaleShiftRelu(_ steps: inout [Step], protected: Set<Int>) -> Int {
        var fused = 0
        let ctx = ShrinkageFusion.Context(steps: steps)
        for i in 0..<steps.count {
            guard let relu = steps[i].kernel(as: UnaryStep.self), relu.op == .relu, case .value(let x) = steps[i].inputs[0],
                  ctx.readers[x] == 1, !protected.contains(x), let j = ctx.producer[x],
                  var scaleShift = steps[j].kernel(as: ScaleShiftStep.self), !scaleShift.relu else { continue }
            scaleShift.relu = true
            steps[i] = Step(scaleShift, inputs: steps[j].inputs, outputs: steps[i].outputs, nodeName: steps[i].nodeName)
            fused += 1
        }
        return fused
    }
}
