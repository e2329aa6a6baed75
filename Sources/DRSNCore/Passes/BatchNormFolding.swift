/// Folds an inference BatchNormalization into the Conv that directly precedes it when the
/// Conv's output feeds nothing else: W'[m] = W[m] * s[m], b'[m] = b[m] * s[m] + t[m],
/// with s = gamma / sqrt(var + eps) and t = beta - mean * s.
enum BatchNormFolding {
    static func run(_ graph: inout Graph) throws(DRSNError) {
        let uses = graph.useCounts()
        var producer: [String: Int] = [:]
        for (n, node) in graph.nodes.enumerated() { for o in node.outputs { producer[o] = n } }
        var remove = Set<Int>()
        for (n, bn) in graph.nodes.enumerated() where bn.opType == "BatchNormalization" && bn.domain.isEmpty {
            guard bn.inputs.count == 5, bn.outputs.dropFirst().allSatisfy({ $0.isEmpty }),
                  try bn.int("training_mode", default: 0) == 0,
                  let c = producer[bn.inputs[0]], !remove.contains(c) else { continue }
            let conv = graph.nodes[c]
            guard conv.opType == "Conv", conv.domain.isEmpty, uses[conv.outputs[0]] == 1,
                  conv.inputs.count >= 2, let w = graph.constants[conv.inputs[1]], w.dtype == .float32,
                  bn.inputs[1...].allSatisfy({ graph.constants[$0] != nil }) else { continue }
            let m = w.shape.first ?? 0
            let params = bn.inputs[1...].map { graph.constants[$0]!.floatValues }
            guard m > 0, params.allSatisfy({ $0.count == m }) else { continue }
            var bias = [Float](repeating: 0, count: m)
            if let b = conv.input(2) {
                guard let t = graph.constants[b], t.count == m else { continue }
                bias = t.floatValues
            }
            let eps = try bn.float("epsilon", default: 1e-5)
            var weights = w.floatValues
            let per = weights.count / m
            for i in 0..<m {
                let s = params[0][i] / (params[3][i] + eps).squareRoot()
                for j in 0..<per { weights[i * per + j] *= s }
                bias[i] = (bias[i] - params[2][i]) * s + params[1][i]
            }
            let wName = "\(conv.name)::folded_weight", bName = "\(conv.name)::folded_bias"
            graph.constants[wName] = try Tensor(floats: weights, shape: w.shape)
            graph.constants[bName] = try Tensor(floats: bias, shape: [m])
            var fused = conv
            fused.inputs = [conv.inputs[0], wName, bName]
            fused.outputs = [bn.outputs[0]]
            graph.nodes[c] = fused
            remove.insert(n)
        }
        graph.nodes = graph.nodes.enumerated().filter { !remove.contains($0.offset) }.map(\.element)
    }
}
