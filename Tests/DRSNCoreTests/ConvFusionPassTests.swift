@testable import DRSNCore
import DRSNKernels
import XCTest

/// ConvFusionPass on the project's benchmark DRSNs (pre-activation units): the BN -> ReLU
/// before each unit's first conv becomes that conv's prologue, the |r| means come from the
/// second conv, weights are packed at plan time, and the fused plan computes what the
/// unfused plan computes.
final class ConvFusionPassTests: XCTestCase {
    static let models = repositoryRoot.appendingPathComponent("benchmarks/models").path

    func run(_ plan: ExecutionPlan, _ x: [Float]) -> [Float] {
        let arena = AlignedBuffer(count: plan.arenaSize)!
        let input = AlignedBuffer(copying: x)!
        let out = AlignedBuffer(count: plan.outputElementCounts[0])!
        [UnsafePointer(input.pointer)].withUnsafeBufferPointer { i in
            [out.pointer].withUnsafeBufferPointer { o in
                Executor(plan: plan, arena: arena.pointer, inputs: i, outputs: o).run()
            }
        }
        return out.array
    }

    func testBenchmarkModelsFuseIntoConvolutions() throws {
        for (name, units) in [("drsn_cw_2d", 9), ("drsn_cw_1d", 9), ("drsn_cs_1d", 9)] {
            let model = try Model.load(path: "\(Self.models)/\(name).onnx")
            let shape = [3] + model.inputs[0].dims!.dropFirst()
            var r = SeededRandom(UInt64(units))
            let x = r.floats(shape.reduce(1, *))
            for threads in [1, 2] {
                let binding = try Binder.bind(model.graph, inputShapes: [shape])
                let fused = try ExecutionPlan(binding: binding, threads: threads)
                let plain = try ExecutionPlan(binding: try Binder.bind(model.graph, inputShapes: [shape]), threads: threads,
                                              fuse: false)
                var prologues = 0, absMeans = 0, packed = 0
                for step in fused.steps {
                    if let f = step.kernel(as: ConvStep.self)?.fusion {
                        if f.preScale != nil { prologues += 1 }
                        if f.absMean { absMeans += 1; XCTAssertEqual(step.outputs.count, 2) }
                        if f.packedWeights != nil { packed += 1 }
                    } else if step.kernel is AbsMeanStep {
                        XCTFail("\(name): an absMean step is left")
                    }
                }
                let counts = fused.stepCounts
                XCTAssertEqual(prologues, units, name)
                XCTAssertEqual(absMeans, units, name)
                XCTAssertGreaterThanOrEqual(packed, 2 * units, name)
                // Only the head's BN -> ReLU (read by global average pooling) stays a step.
                XCTAssertEqual(counts["scaleShift"], 1, "\(name): \(counts)")
                assertClose(run(fused, x), run(plain, x), tolerance: 1e-5)
            }
        }
    }

    func testWeightsArePackedAtLoadOncePerModel() throws {
        let model = try Model.load(path: "\(Self.models)/drsn_cw_2d.onnx")
        let atLoad = model.packedWeights.floatCount
        // Every convolution's weights once, in the kernel's packed form (direct or
        // Winograd-transformed, depending on the layer and the ISA variant).
        let plan = try model.plan(for: [[1, 3, 32, 32]])
        var expected = 0
        var seen = Set<UnsafePointer<Float>>()
        for step in plan.steps {
            guard let c = step.kernel(as: ConvStep.self), case let (p, f) = (c.params, c.fusion),
                  case .constant(let w) = step.inputs[1] else { continue }
            XCTAssertNotNil(f.packedWeights)
            if seen.insert(w).inserted { expected += activeKernels.convPackedWeightsCount(p) }
        }
        XCTAssertEqual(seen.count, 19)
        XCTAssertGreaterThanOrEqual(expected, 267_696)  // at least the plain 3x3 weights
        XCTAssertEqual(atLoad, expected)
        for batch in [5, 7] {
            let x = [Float](repeating: 0.25, count: batch * 3 * 32 * 32)
            _ = try model.run([x], shapes: [[batch, 3, 32, 32]])
        }
        XCTAssertEqual(model.packedWeights.floatCount, atLoad, "new plans reuse the packed weights")
    }

    func testPrologueNotFusedWhenAnotherReaderNeedsTheActivation() throws {
        // BN -> ReLU read by a 3x3 conv and returned as a graph output: the activation must
        // exist, so the scale-shift step stays and the conv reads it as usual.
        var r = SeededRandom(5)
        let c = 4
        let g = Graph(
            nodes: [Node(name: "bn", opType: "BatchNormalization", inputs: ["x", "s", "b", "m", "v"], outputs: ["n"]),
                    Node(name: "relu", opType: "Relu", inputs: ["n"], outputs: ["a"]),
                    Node(name: "conv", opType: "Conv", inputs: ["a", "w"], outputs: ["y"],
                         attributes: ["pads": .ints([1, 1, 1, 1])])],
            constants: ["s": constant(r.floats(c), [c]), "b": constant(r.floats(c), [c]),
                        "m": constant(r.floats(c), [c]), "v": constant(r.floats(c).map { abs($0) + 0.5 }, [c]),
                        "w": constant(r.floats(5 * c * 9), [5, c, 3, 3])],
            inputs: [input("x", [.symbolic("N"), .fixed(c), .fixed(6), .fixed(7)])],
            outputs: [output("y"), output("a")], opset: 17)
        var graph = g
        _ = try GraphOptimizer.run(&graph)
        let plan = try ExecutionPlan(binding: try Binder.bind(graph, inputShapes: [[2, c, 6, 7]]))
        XCTAssertEqual(plan.stepCounts["scaleShift"], 1)
        for step in plan.steps {
            if let c = step.kernel(as: ConvStep.self) { XCTAssertNil(c.fusion.preScale) }
        }
        let x = r.floats(2 * c * 42)
        let fused = try runGraph(g, [x], [[2, c, 6, 7]])
        let plain = try runGraph(g, [x], [[2, c, 6, 7]], optimize: false)
        assertClose(fused[0], plain[0], tolerance: 1e-5)
        assertClose(fused[1], plain[1], tolerance: 1e-6)
    }
}
