/// Binds a graph to concrete input shapes: every value becomes a constant (computed now)
/// or a runtime tensor of known shape produced by a kernel step.
enum Binder {
    struct Result {
        var builder: PlanBuilder
        var inputIds: [Int]
        /// Per graph output: its bound value.
        var outputs: [BoundValue]
    }

    static func bind(_ graph: Graph, inputShapes: [[Int]], maxValueElements: Int = Options().maxValueElements) throws(DRSNError) -> Result {
        let builder = PlanBuilder(budget: ConstantBudget(maxValueElements: maxValueElements))
        var states: [String: BoundValue] = [:]
        states.reserveCapacity(graph.constants.count + graph.nodes.count * 2)
        for (name, t) in graph.constants { states[name] = .constant(t) }
        var inputIds: [Int] = []
        for (info, shape) in zip(graph.inputs, inputShapes) {
            let v = try builder.newValue(shape: shape, dtype: info.dtype)
            states[info.name] = .runtime(v)
            inputIds.append(v.id)
        }
        for node in graph.nodes {
            try bindNode(node, graph: graph, states: &states, builder: builder)
        }
        var outputs: [BoundValue] = []
        for o in graph.outputs {
            guard let v = states[o.name] else {
                throw fail(.invalidModel, "graph output '\(o.name)' is not produced by any node")
            }
            outputs.append(v)
        }
        return Result(builder: builder, inputIds: inputIds, outputs: outputs)
    }

    static func bindNode(_ node: Node, graph: Graph, states: inout [String: BoundValue], builder: PlanBuilder) throws(DRSNError) {
        builder.currentNode = node.name
        var inputs: [BoundValue?] = []
        for name in node.inputs {
            if name.isEmpty { inputs.append(nil); continue }
            guard let v = states[name] else {
                throw fail(.invalidModel, "node '\(node.name)' (\(node.opType)) reads '\(name)', which no node, initializer or graph input defines")
            }
            inputs.append(v)
        }
        let outs = try OperatorRegistry.evaluate(node, opset: graph.opset, inputs: inputs, budget: builder.budget,
                                                 sink: .plan(builder))
        for (k, name) in node.outputs.enumerated() where !name.isEmpty { states[name] = outs[k] }
    }
}
