@testable import DRSNCore
import DRSNKernels
import XCTest

/// The plan's self-describing step kinds (StepKernel), the plan pass report, constant
/// folding through the operators and typed fusion decisions.
final class StepKernelTests: XCTestCase {
    static let models = repositoryRoot.appendingPathComponent("benchmarks/models").path

    func testEveryStepIsSplitAsItsKindSays() throws {
        for name in ["drsn_cw_1d", "drsn_cs_1d", "drsn_cw_2d"] {
            let model = try Model.load(path: "\(Self.models)/\(name).onnx")
            for batch in [1, 3, 8] {
                let shape = [batch] + model.inputs[0].dims!.dropFirst()
                for threads in [1, 2, 3, 4] {
                    let plan = try ExecutionPlan(binding: try Binder.bind(model.graph, inputShapes: [shape]), threads: threads)
                    var flops = 0
                    for step in plan.steps {
                        let (units, perUnit) = step.kernel.split(threads: threads)
                        XCTAssertEqual(step.units, units, "\(name) \(step.kernel.name)")
                        XCTAssertEqual(step.tasks, Parallelization.tasks(units: units, perUnit: perUnit, threads: threads))
                        XCTAssertLessThanOrEqual(step.tasks, max(units, 1))
                        XCTAssertLessThanOrEqual(step.scratch, plan.scratchPerWorker)
                        flops += step.kernel.flops
                    }
                    XCTAssertEqual(plan.flops, flops)
                    if threads == 1 { XCTAssertTrue(plan.steps.allSatisfy { $0.tasks == 1 }) }
                }
            }
        }
    }

    func testPlanPassesReportInPipelineOrder() throws {
        let model = try Model.load(path: "\(Self.models)/drsn_cw_2d.onnx")
        let plan = try model.plan(for: [[2, 3, 32, 32]])
        XCTAssertEqual(plan.passReport.map(\.name), [
            "shrinkage unit fusion", "threshold network fusion", "batchnorm+relu fusion", "conv prologue fusion",
            "conv |r| mean fusion", "weight packing", "dead step elimination",
        ])
        let count = Dictionary(uniqueKeysWithValues: plan.passReport.map { ($0.name, $0.count) })
        XCTAssertEqual(count["shrinkage unit fusion"], plan.shrinkageUnits.count)
        XCTAssertEqual(count["threshold network fusion"], plan.stepCounts["thresholdNetwork"])
        XCTAssertEqual(count["conv |r| mean fusion"], 9)
        XCTAssertEqual(plan.stepCounts["absMean"], nil)
        // The summary lists the report as is.
        let summary = model.summaryJSON()
        for entry in plan.passReport where entry.count > 0 {
            XCTAssertTrue(summary.contains(entry.description), entry.description)
        }
        let plain = try ExecutionPlan(binding: try Binder.bind(model.graph, inputShapes: [[2, 3, 32, 32]]), fuse: false)
        XCTAssertEqual(plain.passReport.map(\.name), ["weight packing", "dead step elimination"])
    }

    func testConstantFoldingEvaluatesThroughTheOperators() throws {
        // LeakyRelu and Add of constants fold (evaluated by the operators); a Conv on
        // constant inputs needs a kernel step, so it stays.
        let g = Graph(
            nodes: [Node(name: "leaky", opType: "LeakyRelu", inputs: ["c"], outputs: ["l"], attributes: ["alpha": .float(0.5)]),
                    Node(name: "add", opType: "Add", inputs: ["l", "c"], outputs: ["s"]),
                    Node(name: "conv", opType: "Conv", inputs: ["cx", "w"], outputs: ["k"]),
                    Node(name: "out", opType: "Add", inputs: ["x", "s"], outputs: ["y"]),
                    Node(name: "out2", opType: "Add", inputs: ["x", "k"], outputs: ["z"])],
            constants: ["c": constant([-2, -1, 0, 3], [4]), "cx": constant([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 4]),
                        "w": constant([1, 1], [1, 2, 1])],
            inputs: [input("x", [.symbolic("N"), .fixed(1), .fixed(4)])], outputs: [output("y"), output("z")], opset: 17)
        var graph = g
        try TopologicalSort.run(&graph)
        try ConstantFolding.run(&graph)
        XCTAssertEqual(Set(graph.nodes.map(\.name)), ["conv", "out", "out2"])
        XCTAssertEqual(graph.constants["s"]?.floatValues, [-3, -1.5, 0, 6])
        let y = try runGraph(g, [[0, 0, 0, 0, 1, 1, 1, 1]], [[2, 1, 4]])
        XCTAssertEqual(y[0], [-3, -1.5, 0, 6, -2, -0.5, 1, 7])
        XCTAssertEqual(y[1], [6, 8, 10, 12, 7, 9, 11, 13])
    }

    func testConvActivationIsTypedNotReadFromTheFile() throws {
        // A file's attribute named like the old internal one cannot set the activation: Conv
        // defines no such attribute, so the model is refused (OperatorSchema), optimized or not.
        let g = Graph(
            nodes: [Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["y"],
                         attributes: ["drsn.activation": .string("relu")])],
            constants: ["w": constant([1], [1, 1, 1])],
            inputs: [input("x", [.symbolic("N"), .fixed(1), .fixed(3)])], outputs: [output("y")], opset: 17)
        for optimize in [true, false] {
            XCTAssertThrowsError(try runGraph(g, [[-1, 2, -3]], [[1, 1, 3]], optimize: optimize)) { error in
                XCTAssertEqual((error as? DRSNError)?.status, .invalidModel)
                XCTAssertTrue((error as? DRSNError)?.message.contains("'drsn.activation' is not defined for Conv") ?? false, "\(error)")
            }
        }
        var plain = g
        plain.nodes[0].attributes = [:]
        XCTAssertEqual(try runGraph(plain, [[-1, 2, -3]], [[1, 1, 3]])[0], [-1, 2, -3])
    }
}
