@testable import DRSNCore
import XCTest

final class GraphPassTests: XCTestCase {
    /// Conv -> BatchNormalization -> Relu on a 1-D signal, with a dynamic batch.
    func convBNReluGraph() -> Graph {
        var r = SeededRandom(7)
        let w = constant(r.floats(4 * 2 * 3), [4, 2, 3])
        let b = constant(r.floats(4), [4])
        let gamma = constant(r.floats(4).map { $0 + 1.5 }, [4])
        let beta = constant(r.floats(4), [4])
        let mean = constant(r.floats(4), [4])
        let variance = constant(r.floats(4).map { $0 + 1.2 }, [4])
        return Graph(
            nodes: [
                Node(name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["c"],
                     attributes: ["pads": .ints([1, 1]), "strides": .ints([2])]),
                Node(name: "bn", opType: "BatchNormalization", inputs: ["c", "gamma", "beta", "mean", "var"], outputs: ["n"],
                     attributes: ["epsilon": .float(1e-3)]),
                Node(name: "relu", opType: "Relu", inputs: ["n"], outputs: ["y"]),
            ],
            constants: ["w": w, "b": b, "gamma": gamma, "beta": beta, "mean": mean, "var": variance],
            inputs: [input("x", [.symbolic("N"), .fixed(2), .fixed(9)])], outputs: [output("y")], opset: 17)
    }

    func testBatchNormFoldsIntoConvAndReluFuses() throws {
        var g = convBNReluGraph()
        let applied = try GraphOptimizer.run(&g)
        XCTAssertEqual(g.nodes.map(\.opType), ["Conv"], "applied: \(applied)")
        XCTAssertEqual(g.nodes[0].fusedActivation, .relu)
    }

    func testOptimizedGraphMatchesUnoptimized() throws {
        var r = SeededRandom(3)
        for batch in [1, 7] {
            let x = r.floats(batch * 2 * 9)
            let reference = try runGraph(convBNReluGraph(), [x], [[batch, 2, 9]], optimize: false)
            let optimized = try runGraph(convBNReluGraph(), [x], [[batch, 2, 9]])
            assertClose(optimized[0], reference[0], tolerance: 1e-5)
            XCTAssertTrue(reference[0].allSatisfy { $0 >= 0 })
        }
    }

    func testBatchNormMatchesNaiveFormula() throws {
        let g = convBNReluGraph()
        var r = SeededRandom(11)
        let x = r.floats(2 * 2 * 9)
        // Conv alone, then BN by hand.
        var convOnly = g
        convOnly.nodes = [g.nodes[0]]
        convOnly.outputs = [output("c")]
        let c = try runGraph(convOnly, [x], [[2, 2, 9]], optimize: false)[0]
        let y = try runGraph(g, [x], [[2, 2, 9]])[0]
        let p = ["gamma", "beta", "mean", "var"].map { g.constants[$0]!.floatValues }
        var expected = c
        let length = c.count / (2 * 4)
        for i in 0..<c.count {
            let ch = (i / length) % 4
            expected[i] = max(0, (c[i] - p[2][ch]) / (p[3][ch] + 1e-3).squareRoot() * p[0][ch] + p[1][ch])
        }
        assertClose(y, expected, tolerance: 1e-5)
    }

    /// The TorchScript exporter's channel zero-padding chain: all of it must fold at load.
    func testPadAmountChainFoldsToConstant() throws {
        let nodes = [
            Node(name: "cos", opType: "ConstantOfShape", inputs: ["four"], outputs: ["zeros"],
                 attributes: ["value": .tensor(Tensor(ints: [0], shape: [1]))]),
            Node(name: "cat", opType: "Concat", inputs: ["amounts", "zeros"], outputs: ["all"], attributes: ["axis": .int(0)]),
            Node(name: "rs", opType: "Reshape", inputs: ["all", "shape2"], outputs: ["pairs"]),
            Node(name: "sl", opType: "Slice", inputs: ["pairs", "start", "end", "axis0", "step"], outputs: ["rev"]),
            Node(name: "tr", opType: "Transpose", inputs: ["rev"], outputs: ["t"], attributes: ["perm": .ints([1, 0])]),
            Node(name: "rs2", opType: "Reshape", inputs: ["t", "flat"], outputs: ["pads64"]),
            Node(name: "cast", opType: "Cast", inputs: ["pads64"], outputs: ["pads"], attributes: ["to": .int(7)]),
            Node(name: "pad", opType: "Pad", inputs: ["x", "pads"], outputs: ["y"]),
        ]
        // amounts = [0, 0, 2, 2] (last dim: none; channel dim: 2 before, 2 after) then zeros for batch.
        var g = Graph(nodes: nodes, constants: [
            "four": intConstant([2]), "amounts": intConstant([0, 0, 2, 2]), "shape2": intConstant([-1, 2]),
            "start": intConstant([-1]), "end": intConstant([Int64.min + 1]), "axis0": intConstant([0]),
            "step": intConstant([-1]), "flat": intConstant([-1]),
        ], inputs: [input("x", [.symbolic("N"), .fixed(3), .fixed(5)])], outputs: [output("y")], opset: 17)
        _ = try GraphOptimizer.run(&g)
        XCTAssertEqual(g.nodes.map(\.opType), ["Pad"])
        XCTAssertEqual(g.constants[g.nodes[0].inputs[1]]?.intValues, [0, 2, 0, 0, 2, 0])
        var r = SeededRandom(5)
        let x = r.floats(2 * 3 * 5)
        let y = try runGraph(g, [x], [[2, 3, 5]])[0]
        XCTAssertEqual(y.count, 2 * 7 * 5)
        XCTAssertEqual(Array(y[0..<10]), [Float](repeating: 0, count: 10))
        XCTAssertEqual(Array(y[10..<25]), Array(x[0..<15]))
    }

    func testIdentityAndDropoutAreRemoved() throws {
        var g = Graph(nodes: [
            Node(name: "id", opType: "Identity", inputs: ["x"], outputs: ["a"]),
            Node(name: "do", opType: "Dropout", inputs: ["a"], outputs: ["b"]),
            Node(name: "neg", opType: "Neg", inputs: ["b"], outputs: ["y"]),
        ], constants: [:], inputs: [input("x", [.fixed(3)])], outputs: [output("y")], opset: 13)
        _ = try GraphOptimizer.run(&g)
        XCTAssertEqual(g.nodes.map(\.opType), ["Neg"])
        XCTAssertEqual(try runGraph(g, [[1, -2, 3]], [[3]])[0], [-1, 2, -3])
    }

    func testCycleAndDanglingInputAreRejected() {
        var cyclic = Graph(nodes: [
            Node(name: "a", opType: "Relu", inputs: ["q"], outputs: ["p"]),
            Node(name: "b", opType: "Relu", inputs: ["p"], outputs: ["q"]),
        ], constants: [:], inputs: [input("x", [.fixed(1)])], outputs: [output("q")], opset: 17)
        XCTAssertThrowsError(try GraphOptimizer.run(&cyclic)) { e in
            XCTAssertTrue("\(e)".contains("cycle"), "\(e)")
        }
        var dangling = Graph(nodes: [Node(name: "a", opType: "Relu", inputs: ["nope"], outputs: ["y"])],
                             constants: [:], inputs: [input("x", [.fixed(1)])], outputs: [output("y")], opset: 17)
        XCTAssertThrowsError(try GraphOptimizer.run(&dangling)) { e in
            XCTAssertTrue("\(e)".contains("nope"), "\(e)")
        }
    }

    func testUnsupportedOperatorNamesOpNodeAndOpset() {
        var g = Graph(nodes: [Node(name: "weird", opType: "Einsum", inputs: ["x"], outputs: ["y"])],
                      constants: [:], inputs: [input("x", [.fixed(1)])], outputs: [output("y")], opset: 17)
        XCTAssertThrowsError(try GraphOptimizer.run(&g)) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains("Einsum") && m.contains("weird") && m.contains("17"), m)
            XCTAssertEqual((e as? DRSNError)?.status, .unsupported)
        }
    }
}
