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
/// Everything else is left as it is, so a graph that does not match runs unchanged. The
/// three rewrites are passes of `PlanPasses`.
enum ConvFusionPass {
    /// Returns the number of scale-shift steps absorbed.
    @discardableResult
    static func fusePrologues(_ steps: inout [Step], protected: Set<Int>) -> Int {
        var fused = 0
        var readers: [Int: [Int]] = [:]
        for (i, s) in steps.enumerated() {
            for case .value(let v) in s.inputs { readers[v, default: []].append(i) }
        }
        for j in 0..<steps.count {
            guard let ss = steps[j].kernel(as: ScaleShiftStep.self), ss.relu, case let (batch, channels, inner) = (ss.batch, ss.channels, ss.inner),
                  steps[j].inputs.count == 3, case .constant(let scale) = steps[j].inputs[1],
                  case .constant(let shift) = steps[j].inputs[2],
                  steps[j].outputs.count == 1, !protected.contains(steps[j].outputs[0]),
                  let users = readers[steps[j].outputs[0]], !users.isEmpty else { continue }
            let y = steps[j].outputs[0]
            let legal = users.allSatisfy { i in
                guard let c = steps[i].kernel(as: ConvStep.self), case let p = c.params, activeKernels.convSupportsFusion(p), c.fusion.preScale == nil,
                      p.batch == batch, p.inChannels == channels, p.inHeight * p.inWidth == inner,
                      case .value(y) = steps[i].inputs[0] else { return false }
                // Read as data only (never as weights or bias).
                return !steps[i].inputs.dropFirst().contains { if case .value(y) = $0 { return true } else { return false } }
            }
            guard legal else { continue }
            for i in Set(users) {
                guard var c = steps[i].kernel(as: ConvStep.self) else { continue }
                c.fusion.preScale = scale
                c.fusion.preShift = shift
                steps[i].kernel = c
                steps[i].inputs[0] = steps[j].inputs[0]
            }
            // The scale-shift step has no readers left; dead-step elimination removes it.
            fused += 1
        }
        return fused
    }

    /// Returns the number of absMean steps absorbed.
    @discardableResult
    static func fuseAbsMeans(_ steps: inout [Step]) -> Int {
        var producer: [Int: Int] = [:]
        for (i, s) in steps.enumerated() { for o in s.outputs { producer[o] = i } }
        var removed = Set<Int>()
        for k in 0..<steps.count {
            guard let m = steps[k].kernel(as: AbsMeanStep.self), steps[k].outputs.count == 1,
                  case .value(let r) = steps[k].inputs[0], let j = producer[r], j < k,
                  var c = steps[j].kernel(as: ConvStep.self), case let p = c.params, activeKernels.convSupportsFusion(p), !c.fusion.absMean,
                  steps[j].outputs == [r],
                  m.planes == p.batch * p.outChannels, m.planeSize == p.outHeight * p.outWidth else { continue }
            c.fusion.absMean = true
            steps[j].kernel = c
            steps[j].outputs.append(steps[k].outputs[0])
            removed.insert(k)
        }
        if !removed.isEmpty {
            steps = steps.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        }
        return removed.count
    }

    /// Returns the number of convolutions given packed weights.
    @discardableResult
    static func packWeights(_ steps: inout [Step], _ weights: PackedWeights) throws(DRSNError) -> Int {
        var packed = 0
        for i in 0..<steps.count {
            // (A packed layout exists exactly for the convolutions `convSupportsFusion` takes.)
            guard var c = steps[i].kernel(as: ConvStep.self), c.fusion.packedWeights == nil,
                  activeKernels.convPackedWeightsCount(c.params) > 0, case .constant(let w) = steps[i].inputs[1] else { continue }
            c.fusion.packedWeights = try weights.packed(w, c.params, node: steps[i].nodeName)
            steps[i].kernel = c
            packed += 1
        }
        return packed
    }
}
