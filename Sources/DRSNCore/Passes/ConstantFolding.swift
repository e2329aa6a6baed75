/// Computes at load time every node whose inputs are all constants and whose operator can
/// produce constants (shape arithmetic, data movement, elementwise), replacing it by its
/// result. Nodes whose operator would need a kernel step are left in the graph.
enum ConstantFolding {
    static func run(_ graph: inout Graph, maxValueElements: Int = Options().maxValueElements) throws(DRSNError) {
        // One builder for the whole pass: its budget bounds the constants all nodes compute.
        let builder = PlanBuilder()
        builder.maxValueElements = maxValueElements
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
            let stepsBefore = builder.steps.count
            var states: [String: BoundValue] = [:]
            for i in node.inputs where !i.isEmpty { states[i] = .constant(graph.constants[i]!) }
            try Binder.bindNode(node, graph: graph, states: &states, builder: builder)
            var results: [(String, Tensor)] = []
            for o in node.outputs where !o.isEmpty {
                if let t = states[o]?.constant { results.append((o, t)) }
            }
            if builder.steps.count == stepsBefore && results.count == node.outputs.filter({ !$0.isEmpty }).count {
                for (name, t) in results { graph.constants[name] = t }
            } else {
                kept.append(node)
            }
        }
        graph.nodes = kept
    }
}
