/// Removes nodes none of whose outputs reach a graph output, and constants nothing reads.
enum DeadNodeElimination {
    static func run(_ graph: inout Graph) {
        var needed = Set(graph.outputs.map(\.name))
        var keep = [Bool](repeating: false, count: graph.nodes.count)
        for n in stride(from: graph.nodes.count - 1, through: 0, by: -1) {
            let node = graph.nodes[n]
            if node.outputs.contains(where: { needed.contains($0) }) {
                keep[n] = true
                for i in node.inputs where !i.isEmpty { needed.insert(i) }
            }
        }
        graph.nodes = graph.nodes.enumerated().filter { keep[$0.offset] }.map(\.element)
        graph.constants = graph.constants.filter { needed.contains($0.key) }
    }
}
