import Glibc

/// Fuses the shrinkage unit's threshold sub-network, tau = a * sigmoid(FC2(relu(FC1(m)))),
/// from its five bound steps (gemm, relu, gemm, sigmoid, mul; BN already folded into FC1)
/// into one step over the tiny per-sample tensors, which removes four step dispatches per
/// unit. Channel-wise units have a = m ([N, C]); channel-shared units scale a per-sample
/// mean a ([N, 1]) by a one-output FC2.
enum ThresholdNetworkFusion {
    /// A fully connected layer: a bias-only Gemm, or a 1x1 Conv on a single position
    /// ([N, C, 1] or [N, C, 1, 1]) whose weights [n, k, 1, 1] are laid out like transB.
    struct Linear {
        var x: Operand, w: Operand, b: Operand?, transB: Bool, n: Int, k: Int, relu: Bool
    }

    static func linear(_ ctx: ShrinkageFusion.Context, _ operand: Operand) -> Linear? {
        guard let s = ctx.step(producing: operand) else { return nil }
        switch s.kind {
        case .gemm(let transA, let transB, _, let n, let k, let alpha, let beta, let cStrides):
            guard !transA, alpha == 1 else { return nil }
            if let cStrides {
                guard beta == 1, cStrides[1] == 1 || n == 1, cStrides[0] == 0 else { return nil }
                return Linear(x: s.inputs[0], w: s.inputs[1], b: s.inputs[2], transB: transB, n: n, k: k, relu: false)
            }
            return Linear(x: s.inputs[0], w: s.inputs[1], b: nil, transB: transB, n: n, k: k, relu: false)
        case .conv(let p, let activation, _):
            guard p.kernelHeight == 1, p.kernelWidth == 1, p.groups == 1, p.inHeight * p.inWidth == 1,
                  p.outHeight * p.outWidth == 1, p.padTop == 0, p.padLeft == 0 else { return nil }
            return Linear(x: s.inputs[0], w: s.inputs[1], b: s.inputs.count > 2 ? s.inputs[2] : nil, transB: true,
                          n: p.outChannels, k: p.inChannels, relu: activation == .relu)
        default:
            return nil
        }
    }

    static func run(_ steps: inout [Step]) {
        let ctx = ShrinkageFusion.Context(steps: steps)
        for i in 0..<steps.count {
            guard case .binary(.mul, let sa, let sb, let shape) = steps[i].kind, shape.count >= 2,
                  shape[2...].allSatisfy({ $0 == 1 }),
                  ShrinkageFusion.isDense(sa, shape), ShrinkageFusion.isDense(sb, shape) else { continue }
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
                steps[i] = Step(kind: .thresholdNetwork(batch: shape[0], inChannels: fc1.k, hidden: fc1.n, outChannels: shape[1],
                                                        transB1: fc1.transB, transB2: fc2.transB,
                                                        bias1: fc1.b != nil, bias2: fc2.b != nil),
                                inputs: inputs, outputs: steps[i].outputs, scratch: MemoryPlan.align(fc1.n),
                                nodeName: steps[i].nodeName)
                break
            }
        }
    }

    /// Fuses a BatchNormalization (scale-shift) step with the ReLU that is its only reader:
    /// the pre-activation BN -> ReLU of a residual unit becomes one pass over the data.
    static func fuseScaleShiftRelu(_ steps: inout [Step], protected: Set<Int>) {
        let ctx = ShrinkageFusion.Context(steps: steps)
        for i in 0..<steps.count {
            guard case .unary(.relu, _) = steps[i].kind, case .value(let x) = steps[i].inputs[0],
                  ctx.readers[x] == 1, !protected.contains(x), let j = ctx.producer[x],
                  case .scaleShift(let batch, let channels, let inner, false) = steps[j].kind else { continue }
            steps[i] = Step(kind: .scaleShift(batch: batch, channels: channels, inner: inner, relu: true),
                            inputs: steps[j].inputs, outputs: steps[i].outputs, scratch: 0, nodeName: steps[i].nodeName)
        }
    }

    /// tau[n, o] = a[n, o] * sigmoid(b2[o] + sum_j W2[o, j] * relu(b1[j] + sum_i W1[j, i] * m[n, i])),
    /// W stored [out, in] when transB, else [in, out]. `hidden` holds `hiddenCount` floats.
    static func compute(m: UnsafePointer<Float>, a: UnsafePointer<Float>, w1: UnsafePointer<Float>, b1: UnsafePointer<Float>?,
                        w2: UnsafePointer<Float>, b2: UnsafePointer<Float>?, tau: UnsafeMutablePointer<Float>,
                        rows: Range<Int>, channels: Int, hiddenCount: Int, outChannels: Int, transB1: Bool, transB2: Bool,
                        hidden: UnsafeMutablePointer<Float>) {
        for n in rows {
            let x = m + n * channels
            for j in 0..<hiddenCount {
                var s: Float = b1?[j] ?? 0
                if transB1 {
                    let w = w1 + j * channels
                    for i in 0..<channels { s += w[i] * x[i] }
                } else {
                    for i in 0..<channels { s += w1[i * hiddenCount + j] * x[i] }
                }
                hidden[j] = s > 0 ? s : (s.isNaN ? s : 0)
            }
            for c in 0..<outChannels {
                var s: Float = b2?[c] ?? 0
                if transB2 {
                    let w = w2 + c * hiddenCount
                    for j in 0..<hiddenCount { s += w[j] * hidden[j] }
                } else {
                    for j in 0..<hiddenCount { s += w2[j * outChannels + c] * hidden[j] }
                }
                let z = s >= 0 ? 1 / (1 + expf(-s)) : expf(s) / (1 + expf(s))
                tau[n * outChannels + c] = a[n * outChannels + c] * z
            }
        }
    }
}
