/// The load-time pass pipeline, in order: topological sort and validation, identity
/// elimination, constant folding, BatchNorm-into-Conv and -Gemm folding, Conv+ReLU fusion, and dead
/// node elimination.
public enum GraphOptimizer {
    /// Names of the passes that changed the graph, for `inspect`-style reporting.
    /// `maxValueElements` bounds each constant computed by folding and their total.
    public static func run(_ graph: inout Graph, maxValueElements: Int = Options().maxValueElements) throws(DRSNError) -> [String] {
        var applied: [String] = []
        for node in graph.nodes { _ = try OperatorRegistry.function(for: node, opset: graph.opset) }
        try TopologicalSort.run(&graph)
        func step(_ name: String, _ body: (inout Graph) throws(DRSNError) -> Void) throws(DRSNError) {
            let before = graph.nodes.count
            try body(&graph)
            if graph.nodes.count != before { applied.append("\(name) (-\(before - graph.nodes.count) nodes)") }
        }
        try step("identity elimination") { (g: inout Graph) throws(DRSNError) in try IdentityElimination.run(&g) }
        try step("qdq conv fusion") { (g: inout Graph) throws(DRSNError) in QDQConvFusion.run(&g) }
        try step("constant folding") { (g: inout Graph) throws(DRSNError) in try ConstantFolding.run(&g, maxValueElements: maxValueElements) }
        try step("batchnorm folding") { (g: inout Graph) throws(DRSNError) in try BatchNormFolding.run(&g) }
        try step("gemm+batchnorm folding") { (g: inout Graph) throws(DRSNError) in try BatchNormFolding.runGemm(&g) }
        try step("conv+relu fusion") { (g: inout Graph) throws(DRSNError) in ConvActivationFusion.run(&g) }
        try step("dead node elimination") { (g: inout Graph) throws(DRSNError) in DeadNodeElimination.run(&g) }
        return applied
    }
}
