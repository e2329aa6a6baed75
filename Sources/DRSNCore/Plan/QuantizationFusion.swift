/// Plan-level fusion of quantize -> dequantize round trips (the QDQ format puts one after
/// every quantized activation): a QuantizeLinear step read by exactly one DequantizeLinear
/// step with the same parameters writes the dequantized values itself, in the same pass
/// (`QuantizeLinearStep.writesValues`), bit for bit what the DequantizeLinear computed;
/// the codes are still written when anything else reads them (a QLinearConv) or they are
/// a graph output. The DequantizeLinear step is removed.
enum QuantizationFusion {
    /// Returns the number of DequantizeLinear steps absorbed.
    static func fuseRoundTrips(_ steps: inout [Step], protected: Set<Int>) -> Int {
        let readers = readersByValue(steps)
        var removed = Set<Int>()
        for j in 0..<steps.count {
            guard var q = steps[j].kernel(as: QuantizeLinearStep.self), !q.dequantize, !q.writesValues,
                  steps[j].outputs.count == 1 else { continue }
            let codes = steps[j].outputs[0]
            let users = readers[codes] ?? []
            let matching = users.filter { i in
                guard let d = steps[i].kernel(as: QuantizeLinearStep.self), d.dequantize, steps[i].outputs.count == 1,
                      steps[i].inputs.count == 1, d.outer == q.outer, d.channels == q.channels, d.inner == q.inner,
                      d.scales == q.scales, d.zeroPoints == q.zeroPoints else { return false }
                return true
            }
            guard matching.count == 1, let d = matching.first, !removed.contains(d) else { continue }
            q.writesValues = true
            q.writesCodes = users.count > 1 || protected.contains(codes)
            steps[j].outputs = q.writesCodes ? [codes, steps[d].outputs[0]] : [steps[d].outputs[0]]
            steps[j].kernel = q
            removed.insert(d)
        }
        steps = steps.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        return removed.count
    }

    /// A per-tensor QuantizeLinear step whose codes only QLinearConv steps read (as their
    /// data input, with the same scale, zero point and range) stops writing them: the
    /// convolutions read its float input and quantize it while packing it. Returns the
    /// number of convolutions changed.
    static func fuseConvInputs(_ steps: inout [Step], protected: Set<Int>) -> Int {
        let readers = readersByValue(steps)
        var fused = 0
        for j in 0..<steps.count {
            guard var q = steps[j].kernel(as: QuantizeLinearStep.self), !q.dequantize, q.writesCodes, q.perTensor,
                  case .value(let x) = steps[j].inputs[0] else { continue }
            let codes = steps[j].outputs[0]
            guard !protected.contains(codes), let users = readers[codes], !users.isEmpty else { continue }
            let legal = users.allSatisfy { i in
                guard let c = steps[i].kernel(as: QLinearConvStep.self), c.input.scale == 0,
                      c.input.zeroPoint == q.zeroPoints[0], c.input.min == q.lo, c.input.max == q.hi,
                      steps[i].inputs.count == 1, case .value(codes) = steps[i].inputs[0] else { return false }
                return true
            }
            guard legal else { continue }
            for i in Set(users) {
                guard var c = steps[i].kernel(as: QLinearConvStep.self) else { continue }
                c.input.scale = q.scales[0]
                steps[i].kernel = c
                steps[i].inputs[0] = .value(x)
                fused += 1
            }
            if q.writesValues {
                // the dequantized values are still read: keep writing those alone
                q.writesCodes = false
                steps[j].outputs = [steps[j].outputs[1]]
                steps[j].kernel = q
            }
            // otherwise the step has no readers left; dead-step elimination removes it
        }
        return fused
    }

    /// A QLinearConv step whose codes only one DequantizeLinear step reads (per tensor, the
    /// convolution's own output scale and zero point) writes the dequantized values itself.
    /// Returns the number of DequantizeLinear steps absorbed.
    static func fuseConvOutputs(_ steps: inout [Step], protected: Set<Int>) -> Int {
        let readers = readersByValue(steps)
        var removed = Set<Int>()
        for j in 0..<steps.count {
            guard var c = steps[j].kernel(as: QLinearConvStep.self), c.output.scale == 0 else { continue }
            let codes = steps[j].outputs[0]
            guard !protected.contains(codes), let users = readers[codes], users.count == 1, let d = users.first,
                  let dq = steps[d].kernel(as: QuantizeLinearStep.self), dq.dequantize, dq.perTensor,
                  dq.scales == [c.outputScale], dq.zeroPoints == [c.output.zeroPoint], c.outputScale != 0 else { continue }
            c.output.scale = c.outputScale
            steps[j].kernel = c
            steps[j].outputs = [steps[d].outputs[0]]
            removed.insert(d)
        }
        steps = steps.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        return removed.count
    }

    /// The steps reading each runtime value id.
    static func readersByValue(_ steps: [Step]) -> [Int: [Int]] {
        var readers: [Int: [Int]] = [:]
        for (i, s) in steps.enumerated() {
            for case .value(let v) in s.inputs { readers[v, default: []].append(i) }
        }
        return readers
    }
}
