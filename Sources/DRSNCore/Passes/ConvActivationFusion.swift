/// Marks a Conv followed by a Relu that is its only reader so the Conv applies ReLU in its
/// epilogue (`Node.fusedActivation`, which `ConvOps.conv` passes to its step); the Relu node
/// disappears.
enum ConvActivationFusion {
    static func run(_ graph: inout Graph) {
        let uses = graph.useCounts()
        var producer: [String: Int] = [:]
        for (n, node) in graph.nodes.enumerated() { for o in node.outputs { producer[o] = n } }
        var remove = Set<Int>()
        for (n, relu) in graph.nodes.enumerated() where relu.opType == "Relu" && relu.domain.isEmpty {
            guard let src = relu.input(0), let c = producer[src], graph.nodes[c].opType == "Conv",
                  graph.nodes[c].domain.isEmpty, uses[src] == 1, graph.nodes[c].fusedActivation == .none else { continue }
            graph.nodes[c].fusedActivation = .relu
            graph.nodes[c].outputs = [relu.outputs[0]]
            remove.insert(n)
        }
        graph.nodes = graph.nodes.enumerated().filter { !remove.contains($0.offset) }.map(\.element)
    }
}
