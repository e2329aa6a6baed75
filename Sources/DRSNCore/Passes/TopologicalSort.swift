/// Orders nodes so that every value is defined before it is read, and rejects graphs with
/// cycles, values defined twice or inputs that nothing defines.
enum TopologicalSort {
    static func run(_ graph: inout Graph) throws(DRSNError) {
        var producer: [String: Int] = [:]
        var defined = Set(graph.constants.keys)
        for i in graph.inputs {
            guard defined.insert(i.name).inserted else { throw fail(.invalidModel, "graph input '\(i.name)' is defined twice") }
        }
        for (n, node) in graph.nodes.enumerated() {
            for o in node.outputs where !o.isEmpty {
                guard !defined.contains(o), producer.updateValue(n, forKey: o) == nil else {
                    throw fail(.invalidModel, "value '\(o)' is defined more than once (again by node '\(node.name)')")
                }
            }
        }
        let count = graph.nodes.count
        var pending = [Int](repeating: 0, count: count)
        var consumers = [[Int]](repeating: [], count: count)
        for (n, node) in graph.nodes.enumerated() {
            for i in node.inputs where !i.isEmpty {
                if let p = producer[i] {
                    pending[n] += 1
                    consumers[p].append(n)
                } else if !defined.contains(i) {
                    throw fail(.invalidModel, "node '\(node.name)' (\(node.opType)) reads '\(i)', which no node, initializer or graph input defines")
                }
            }
        }
        var ready = (0..<count).filter { pending[$0] == 0 }.reversed() as [Int]
        var order: [Int] = []
        order.reserveCapacity(count)
        while let n = ready.popLast() {
            order.append(n)
            for c in consumers[n] {
                pending[c] -= 1
                if pending[c] == 0 { ready.append(c) }
            }
        }
        guard order.count == count else {
            let stuck = (0..<count).first { pending[$0] > 0 }.map { graph.nodes[$0].name } ?? "?"
            throw fail(.invalidModel, "the graph has a cycle (through node '\(stuck)')")
        }
        let nodes = graph.nodes
        graph.nodes = order.map { nodes[$0] }
        for o in graph.outputs where producer[o.name] == nil && !defined.contains(o.name) {
            throw fail(.invalidModel, "graph output '\(o.name)' is not produced by any node")
        }
    }
}
