/// Removes Identity and inference Dropout nodes by making their readers read the input
/// directly (a Dropout whose mask output no node and no graph output reads counts as one).
/// A node whose output is a graph output is kept (binding makes it an alias).
enum IdentityElimination {
    static func run(_ graph: inout Graph) throws(DRSNError) {
        let outputNames = Set(graph.outputs.map(\.name))
        let read = outputNames.union(graph.nodes.flatMap(\.inputs))
        var rename: [String: String] = [:]
        var kept: [Node] = []
        for var node in graph.nodes {
            node.inputs = node.inputs.map { rename[$0] ?? $0 }
            let isIdentity = node.domain.isEmpty && (node.opType == "Identity" ||
                (node.opType == "Dropout" && node.outputs.dropFirst().allSatisfy { $0.isEmpty || !read.contains($0) } &&
                 (node.input(2).map { graph.constants[$0]?.intValues.first == 0 } ?? true)))
            if isIdentity, let out = node.outputs.first, !outputNames.contains(out), let src = node.input(0) {
                rename[out] = src
                continue
            }
            kept.append(node)
        }
        graph.nodes = kept
    }
}
