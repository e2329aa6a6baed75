/// Folds inference BatchNormalization nodes into the linear node that directly precedes
/// them when that node's output feeds nothing else. With s = gamma / sqrt(var + eps) and
/// t = beta - mean * s per channel:
///  * Conv: W'[m] = W[m] * s[m], b'[m] = b[m] * s[m] + t[m];
///  * Gemm (the threshold sub-network's FC -> BN on [N, C]):
///    B'[:, c] = alpha * B[:, c] * s[c], C'[c] = beta * C[c] * s[c] + t[c].
enum BatchNormFolding {
    static func run(_ graph: inout Graph) throws(DRSNError) {
        try foldIntoProducers(&graph, producerOp: "Conv", foldConv)
    }

    static func runGemm(_ graph: inout Graph) throws(DRSNError) {
        try foldIntoProducers(&graph, producerOp: "Gemm", foldGemm)
    }

    /// A fold: given the producer node, s and t, returns its replacement with new constants
    /// added to the graph, or nil when it cannot fold.
    typealias Fold = (Node, [Float], [Float], inout Graph) throws(DRSNError) -> Node?

    static func foldIntoProducers(_ graph: inout Graph, producerOp: String, _ fold: Fold) throws(DRSNError) {
        let uses = graph.useCounts()
        var producer: [String: Int] = [:]
        for (n, node) in graph.nodes.enumerated() { for o in node.outputs { producer[o] = n } }
        var remove = Set<Int>()
        for (n, bn) in graph.nodes.enumerated() where bn.opType == "BatchNormalization" && bn.domain.isEmpty {
            guard bn.inputs.count == 5, bn.outputs.dropFirst().allSatisfy({ $0.isEmpty }),
                  try bn.int("training_mode", default: 0) == 0,
                  let p = producer[bn.inputs[0]], !remove.contains(p) else { continue }
            let node = graph.nodes[p]
            guard node.opType == producerOp, node.domain.isEmpty, uses[node.outputs[0]] == 1,
                  bn.inputs[1...].allSatisfy({ graph.constants[$0] != nil }) else { continue }
            let params = bn.inputs[1...].map { graph.constants[$0]!.floatValues }
            let channels = params[0].count
            guard channels > 0, params.allSatisfy({ $0.count == channels }) else { continue }
            let eps = try bn.float("epsilon", default: 1e-5)
            var s = [Float](repeating: 0, count: channels), t = s
            for c in 0..<channels {
                s[c] = params[0][c] / (params[3][c] + eps).squareRoot()
                t[c] = params[1][c] - params[2][c] * s[c]
            }
            guard var folded = try fold(node, s, t, &graph) else { continue }
            folded.outputs = [bn.outputs[0]]
            graph.nodes[p] = folded
            remove.insert(n)
        }
        graph.nodes = graph.nodes.enumerated().filter { !remove.contains($0.offset) }.map(\.element)
    }

    static func foldConv(_ conv: Node, _ s: [Float], _ t: [Float], _ graph: inout Graph) throws(DRSNError) -> Node? {
        let m = s.count
        guard conv.inputs.count >= 2, let w = graph.constants[conv.inputs[1]], w.dtype == .float32,
              w.shape.first == m else { return nil }
        var bias = [Float](repeating: 0, count: m)
        if let b = conv.input(2) {
            guard let tb = graph.constants[b], tb.count == m else { return nil }
            bias = tb.floatValues
        }
        var weights = w.floatValues
        let per = weights.count / m
        for i in 0..<m {
            for j in 0..<per { weights[i * per + j] *= s[i] }
            bias[i] = bias[i] * s[i] + t[i]
        }
        let wName = "\(conv.name)::folded_weight", bName = "\(conv.name)::folded_bias"
        graph.constants[wName] = try Tensor(floats: weights, shape: w.shape)
        graph.constants[bName] = try Tensor(floats: bias, shape: [m])
        var folded = conv
        folded.inputs = [conv.inputs[0], wName, bName]
        return folded
    }

    static func foldGemm(_ gemm: Node, _ s: [Float], _ t: [Float], _ graph: inout Graph) throws(DRSNError) -> Node? {
        guard let bName = gemm.input(1), let b = graph.constants[bName], b.dtype == .float32, b.shape.count == 2 else { return nil }
        let transB = try gemm.int("transB", default: 0) != 0
        let alpha = try gemm.float("alpha", default: 1)
        let beta = try gemm.float("beta", default: 1)
        let k = transB ? b.shape[1] : b.shape[0], n = transB ? b.shape[0] : b.shape[1]
        guard n == s.count else { return nil }
        var bias = [Float](repeating: 0, count: n)
        if let cName = gemm.input(2) {
            guard let c = graph.constants[cName] else { return nil }
            let values = c.floatValues
            if values.count == n {
                bias = values.map { $0 * beta }
            } else if values.count == 1 {
                bias = [Float](repeating: values[0] * beta, count: n)
            } else {
                return nil
            }
        }
        var weights = b.floatValues
        for c in 0..<n {
            for r in 0..<k { weights[transB ? c * k + r : r * n + c] *= s[c] * alpha }
            bias[c] = bias[c] * s[c] + t[c]
        }
        let wName = "\(gemm.name)::bn_folded_weight", cName = "\(gemm.name)::bn_folded_bias"
        graph.constants[wName] = try Tensor(floats: weights, shape: b.shape)
        graph.constants[cName] = try Tensor(floats: bias, shape: [n])
        var folded = gemm
        folded.inputs = [gemm.inputs[0], wName, cName]
        folded.attributes["alpha"] = .float(1)
        folded.attributes["beta"] = .float(1)
        return folded
    }
}
