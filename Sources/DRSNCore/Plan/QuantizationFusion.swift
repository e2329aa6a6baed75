/// Plan-level fusion of quantize -> dequantize round trips (the QDQ format puts one after
/// every quantized activation): a QuantizeLinear step read by exactly one DequantizeLinear
/// step with the same parameters writes the dequantized values itself, in the same pass
/// (`QuantizeLinearStep.writesValues`), bit for bit what the DequantizeLinear computed;
/// the codes are still written when anything else reads them (a QLinearConv) or they are
/// a graph output. The DequantizeLinear step is removed.
enum QuantizationFusion {
    /// Returns the number of DequantizeLinear steps absorbed.
    static func fuseRoundTrips(_ steps: inout [Step], protected: Set<Int>) -> Int {
        var readers: [Int: [Int]] = [:]
        for (i, s) in steps.enumerated() {
            for case .value(let v) in s.inputs { readers[v, default: []].append(i) }
        }
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
}
