/// Folds an inference BatchNormalization on a rank-2 [N, C] tensor into the Gemm that
/// directly precedes it (the threshold sub-network's FC -> BN): with s = gamma / sqrt(var + eps),
/// B'[:, c] = B[:, c] * s[c] and C'[c] = (C[c] - mean[c]) * s[c] + beta[c].
enum GemmBatchNormFolding {
    static func run(_ graph: inout Graph) throws(DRSNError) {
        let uses = graph.useCounts()
        var producer: [String: Int] = [:]
        for (n, node) in graph.nodes.enumerated() { for o in node.outputs { producer[o] = n } }
        var remove = Set<Int>()
        for (n, bn) in graph.nodes.enumerated() where bn.opType == "BatchNormalization" && bn.domain.isEmpty {
            guard bn.inputs.count == 5, bn.outputs.dropFirst().allSatisfy({ $0.isEmpty }),
                  try bn.int("training_mode", default: 0) == 0,
                  let g = producer[bn.inputs[0]], !remove.contains(g) else { continue }
            let gemm = graph.nodes[g]
            guard gemm.opType == "Gemm", gemm.domain.isEmpty, uses[gemm.outputs[0]] == 1,
                  let bName = gemm.input(1), let b = graph.constants[bName], b.dtype == .float32, b.shape.count == 2,
                  bn.inputs[1...].allSatisfy({ graph.constants[$0] != nil }) else { continue }
            let transB = try gemm.int("transB", default: 0) != 0
            let alpha = try gemm.float("alpha", default: 1)
            let beta = try gemm.float("beta", default: 1)
            let k = transB ? b.shape[1] : b.shape[0], n2 = transB ? b.shape[0] : b.shape[1]
            let params = bn.inputs[1...].map { graph.constants[$0]!.floatValues }
            guard params.allSatisfy({ $0.count == n2 }) else { continue }
            var bias = [Float](repeating: 0, count: n2)
            if let cName = gemm.input(2) {
                guard let c = graph.constants[cName] else { continue }
                let values = c.floatValues
                if values.count == n2 { bias = values.map { $0 * beta } } else if values.count == 1 { bias = [Float](repeating: values[0] * beta, count: n2) } else { continue }
            }
            let eps = try bn.float("epsilon", default: 1e-5)
            var weights = b.floatValues
            for c in 0..<n2 {
                let s = params[0][c] / (params[3][c] + eps).squareRoot()
                for r in 0..<k {
                    let i = transB ? c * k + r : r * n2 + c
                    weights[i] *= s * alpha
                }
                bias[c] = (bias[c] - params[2][c]) * s + params[1][c]
            }
            let wName = "\(gemm.name)::bn_folded_weight", cName = "\(gemm.name)::bn_folded_bias"
            graph.constants[wName] = try Tensor(floats: weights, shape: b.shape)
            graph.constants[cName] = try Tensor(floats: bias, shape: [n2])
            var fused = gemm
            fused.inputs = [gemm.inputs[0], wName, cName]
            fused.outputs = [bn.outputs[0]]
            fused.attributes["alpha"] = .float(1)
            fused.attributes["beta"] = .float(1)
            graph.nodes[g] = fused
            remove.insert(n)
        }
        graph.nodes = graph.nodes.enumerated().filter { !remove.contains($0.offset) }.map(\.element)
    }
}
