/// Computes at load time every node whose inputs are all constants and whose operator can
/// produce constants (shape arithmetic, data movement, elementwise), replacing it by its
/// result. The node is evaluated by its operator (`OperatorRegistry.evaluate`) with no plan
/// behind it: an operator that would need a runtime step marks the evaluation, and such
/// nodes are left in the graph.
enum ConstantFolding {
    static func run(_ graph: inout Graph, maxValueElements: Int = Options().maxValueElements) throws(DRSNError) {
        // One budget for the whole pass: it bounds the constants all nodes compute.
        let budget = ConstantBudget(maxValueElements: maxValueElements)
        var kept: [Node] = []
        kept.reserveCapacity(graph.nodes.count)
        let outputNames = Set(graph.outputs.map(\.name))
        for node in graph.nodes {
            let constantInputs = node.inputs.allSatisfy { $0.isEmpty || graph.constants[$0] != nil }
            // Shape needs only the input's shape, which is known for constants.
            guard constantInputs, !node.outputs.contains(where: { outputNames.contains($0) }) else {
                kept.append(node)
                continue
            }
            let inputs: [BoundValue?] = node.inputs.map { $0.isEmpty ? nil : .constant(graph.constants[$0]!) }
            let evaluation = ConstantEvaluation()
            let outs = try OperatorRegistry.evaluate(node, opset: graph.opset, inputs: inputs, budget: budget,
                                                     sink: .evaluation(evaluation))
            var results: [(String, Tensor)] = []
            for (k, o) in node.outputs.enumerated() where !o.isEmpty {
                if let t = outs[k].constant { results.append((o, t)) }
            }
            if !evaluation.needsRuntime && results.count == node.outputs.filter({ !$0.isEmpty }).count {
                for (name, t) in results { graph.constants[name] = t }
            } else {
                kept.append(node)
            }
        }
        graph.nodes = kept
    }
}
