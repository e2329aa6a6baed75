/// Turns the QDQ form of a quantized convolution, as onnxruntime's quantizer writes it,
///
///     codes -> DequantizeLinear -> Conv(., DequantizeLinear(w), [DequantizeLinear(b)]) -> QuantizeLinear -> codes'
///
/// into one QLinearConv node, so that the convolution runs on integers (int32 accumulation
/// and requantization, `QLinearConvStep`) instead of on dequantized floats. Fused only when
/// the result is what QLinearConv defines for the same codes: the input codes come from a
/// QuantizeLinear or QLinearConv, the weights are constant 8-bit integers (per tensor, or per
/// output channel along axis 0), activation scales and zero points are constant scalars,
/// the bias (if any) is a constant INT32 with zero point 0 and scale x_scale * w_scale, and
/// the Conv's output is read only by the QuantizeLinear. Anything else stays float.
enum QDQConvFusion {
    static func run(_ graph: inout Graph) {
        let uses = graph.useCounts()
        let graphOutputs = Set(graph.outputs.map(\.name))
        var producer: [String: Int] = [:]
        var consumer: [String: Int] = [:]
        for (n, node) in graph.nodes.enumerated() {
            for o in node.outputs where !o.isEmpty { producer[o] = n }
            for i in node.inputs where !i.isEmpty { consumer[i] = n }
        }
        func node(_ name: String, _ op: String) -> Node? {
            guard let i = producer[name], graph.nodes[i].opType == op, graph.nodes[i].domain.isEmpty else { return nil }
            return graph.nodes[i]
        }
        func constant(_ node: Node, _ i: Int) -> Tensor? {
            i < node.inputs.count && !node.inputs[i].isEmpty ? graph.constants[node.inputs[i]] : nil
        }
        /// The constant scalar scale of a Q/DQ node with a constant 8-bit scalar zero point.
        func scalarScale(_ n: Node) -> Float? {
            guard let s = constant(n, 1), let z = constant(n, 2), s.count == 1, z.count == 1,
                  z.dtype == .uint8 || z.dtype == .int8, s.dtype.isFloatingPoint else { return nil }
            if case .int(let b)? = n.attributes["block_size"], b != 0 { return nil }
            return s.floatValues[0]
        }
        var remove = Set<Int>()
        for (c, conv) in graph.nodes.enumerated() where conv.opType == "Conv" && conv.domain.isEmpty {
            guard conv.fusedActivation == .none, conv.inputs.count >= 2, conv.outputs.count == 1,
                  let dqx = node(conv.inputs[0], "DequantizeLinear"), let dqw = node(conv.inputs[1], "DequantizeLinear"),
                  let codes = dqx.inputs.first, graph.constants[codes] == nil,
                  let source = producer[codes], ["QuantizeLinear", "QLinearConv"].contains(graph.nodes[source].opType),
                  let xs = scalarScale(dqx),
                  let y = conv.outputs.first, uses[y] == 1, !graphOutputs.contains(y),
                  let qi = consumer[y], graph.nodes[qi].opType == "QuantizeLinear", graph.nodes[qi].domain.isEmpty,
                  graph.nodes[qi].inputs.first == y,
                  scalarScale(graph.nodes[qi]) != nil,
                  let w = constant(dqw, 0), w.dtype == .int8 || w.dtype == .uint8, w.shape.count >= 3,
                  let ws = constant(dqw, 1), let wz = constant(dqw, 2), wz.dtype == w.dtype,
                  ws.dtype.isFloatingPoint, ws.count == wz.count, ws.shape.count <= 1
            else { continue }
            let m = w.shape[0]
            if ws.count != 1 {
                guard ws.count == m, case .int(0)? = dqw.attributes["axis"] else { continue }
            }
            if case .int(let b)? = dqw.attributes["block_size"], b != 0 { continue }
            var inputs = [codes, dqx.inputs[1], dqx.inputs[2], dqw.inputs[0], dqw.inputs[1], dqw.inputs[2],
                          graph.nodes[qi].inputs[1], graph.nodes[qi].inputs[2]]
            if conv.inputs.count > 2, !conv.inputs[2].isEmpty {
                guard let dqb = node(conv.inputs[2], "DequantizeLinear"), let b = constant(dqb, 0), b.dtype == .int32,
                      b.count == m, let bs = constant(dqb, 1), bs.count == 1 || bs.count == m,
                      constant(dqb, 2).map({ $0.intValues.allSatisfy { $0 == 0 } }) ?? (dqb.inputs.count < 3 || dqb.inputs[2].isEmpty),
                      biasScaleMatches(bs.floatValues, xs, ws.floatValues, m)
                else { continue }
                inputs.append(dqb.inputs[0])
            }
            graph.nodes[c] = Node(name: conv.name, opType: "QLinearConv", inputs: inputs,
                                  outputs: graph.nodes[qi].outputs, attributes: conv.attributes)
            remove.insert(qi)
        }
        graph.nodes = graph.nodes.enumerated().filter { !remove.contains($0.offset) }.map(\.element)
    }

    /// Whether a bias scale (one or `m` values) is x_scale * w_scale[c] for every channel
    /// (to float rounding): the int32 bias is then in the accumulator's units.
    static func biasScaleMatches(_ bs: [Float], _ xs: Float, _ ws: [Float], _ m: Int) -> Bool {
        for c in 0..<m {
            let expected = xs * ws[ws.count == 1 ? 0 : c], got = bs[bs.count == 1 ? 0 : c]
            guard abs(got - expected) <= 1e-6 * abs(expected) else { return false }
        }
        return true
    }
}
