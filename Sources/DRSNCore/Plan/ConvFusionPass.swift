import DRSNKernels

/// Plan-level fusion into direct and Winograd convolutions (those with `convSupportsFusion`):
///  * the pre-activation BatchNorm -> ReLU (a `scaleShift(relu: true)` step with constant
///    scale and shift) becomes the prologue of the convolutions that read it, applied while
///    each image is copied into the padded buffer, when every reader of its output is such a
///    convolution (reading it as the data input) and the output is not a graph output;
///  * the per-plane mean of |r| that starts a shrinkage unit's threshold network
///    (`absMean`) is computed by the convolution producing r, per image, right after the
///    image's output is written (while it is in cache);
///  * constant weights come packed in the kernel's order from the model's `PackedWeights`.
/// Everything else is left as it is, so a graph that does not match runs unchanged.
enum ConvFusionPass {
    /// Rewrites `steps` in place (the prologue and |r| fusions only when `fuse`); weights
    /// come packed from `weights`.
    static func run(_ steps: inout [Step], protected: Set<Int>, fuse: Bool,
                    weights: PackedWeights) throws(DRSNError) {
        if fuse {
            fusePrologues(&steps, protected: protected)
            fuseAbsMeans(&steps)
        }
        try packWeights(&steps, weights)
    }

    static func fusePrologues(_ steps: inout [Step], protected: Set<Int>) {
        var readers: [Int: [Int]] = [:]
        for (i, s) in steps.enumerated() {
            for case .value(let v) in s.inputs { readers[v, default: []].append(i) }
        }
        for j in 0..<steps.count {
            guard case .scaleShift(let batch, let channels, let inner, true) = steps[j].kind,
                  steps[j].inputs.count == 3, case .constant(let scale) = steps[j].inputs[1],
                  case .constant(let shift) = steps[j].inputs[2],
                  steps[j].outputs.count == 1, !protected.contains(steps[j].outputs[0]),
                  let users = readers[steps[j].outputs[0]], !users.isEmpty else { continue }
            let y = steps[j].outputs[0]
            let legal = users.allSatisfy { i in
                guard case .conv(let p, _, let f) = steps[i].kind, convSupportsFusion(p), f.preScale == nil,
                      p.batch == batch, p.inChannels == channels, p.inHeight * p.inWidth == inner,
                      case .value(y) = steps[i].inputs[0] else { return false }
                // Read as data only (never as weights or bias).
                return !steps[i].inputs.dropFirst().contains { if case .value(y) = $0 { return true } else { return false } }
            }
            guard legal else { continue }
            for i in Set(users) {
                guard case .conv(let p, let activation, var f) = steps[i].kind else { continue }
                f.preScale = scale
                f.preShift = shift
                steps[i].kind = .conv(p, activation: activation, fusion: f)
                steps[i].inputs[0] = steps[j].inputs[0]
            }
            // The scale-shift step has no readers left; dead-step elimination removes it.
        }
    }

    static func fuseAbsMeans(_ steps: inout [Step]) {
        var producer: [Int: Int] = [:]
        for (i, s) in steps.enumerated() { for o in s.outputs { producer[o] = i } }
        var removed = Set<Int>()
        for k in 0..<steps.count {
            guard case .absMean(let planes, let planeSize) = steps[k].kind, steps[k].outputs.count == 1,
                  case .value(let r) = steps[k].inputs[0], let j = producer[r], j < k,
                  case .conv(let p, let activation, var f) = steps[j].kind, convSupportsFusion(p), !f.absMean,
                  steps[j].outputs == [r],
                  planes == p.batch * p.outChannels, planeSize == p.outHeight * p.outWidth else { continue }
            f.absMean = true
            steps[j].kind = .conv(p, activation: activation, fusion: f)
            steps[j].outputs.append(steps[k].outputs[0])
            removed.insert(k)
        }
        if !removed.isEmpty {
            steps = steps.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        }
    }

    static func packWeights(_ steps: inout [Step], _ weights: PackedWeights) throws(DRSNError) {
        for i in 0..<steps.count {
            // (A packed layout exists exactly for the convolutions `convSupportsFusion` takes.)
            guard case .conv(let p, let activation, var f) = steps[i].kind, f.packedWeights == nil,
                  convPackedWeightsCount(p) > 0, case .constant(let w) = steps[i].inputs[1] else { continue }
            f.packedWeights = try weights.packed(w, p, node: steps[i].nodeName)
            steps[i].kind = .conv(p, activation: activation, fusion: f)
        }
    }
}
