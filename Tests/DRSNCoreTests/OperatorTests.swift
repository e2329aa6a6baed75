@testable import DRSNCore
import XCTest

/// Operators against naive references, through binding and execution.
final class OperatorTests: XCTestCase {
    func single(_ op: String, inputs: [String], attributes: [String: Attribute] = [:], constants: [String: Tensor] = [:],
                shapes: [[Int]], opset: Int = 17) -> Graph {
        let runtime = inputs.filter { constants[$0] == nil }
        return Graph(nodes: [Node(name: "n", opType: op, inputs: inputs, outputs: ["y"], attributes: attributes)],
                     constants: constants, inputs: zip(runtime, shapes).map { input($0.0, $0.1.map { .fixed($0) }) },
                     outputs: [output("y")], opset: opset)
    }

    func testSoftThresholdFormsAgree() throws {
        // sign(x) * relu(|x| - t), sign(x) * max(|x|-t, (|x|-t)-(|x|-t)), clip(min=0), Where chain.
        var r = SeededRandom(9)
        let x = r.floats(2 * 3 * 8)
        let t = r.floats(2 * 3).map { abs($0) * 0.5 }
        var expected = x
        for i in 0..<x.count {
            let th = t[i / 8]
            expected[i] = x[i] > th ? x[i] - th : (x[i] < -th ? x[i] + th : 0)
        }
        let common = [Node(name: "abs", opType: "Abs", inputs: ["x"], outputs: ["a"]),
                      Node(name: "sub", opType: "Sub", inputs: ["a", "t"], outputs: ["d"]),
                      Node(name: "sign", opType: "Sign", inputs: ["x"], outputs: ["s"])]
        let forms: [[Node]] = [
            common + [Node(name: "relu", opType: "Relu", inputs: ["d"], outputs: ["r"]),
                      Node(name: "mul", opType: "Mul", inputs: ["s", "r"], outputs: ["y"])],
            common + [Node(name: "zero", opType: "Sub", inputs: ["d", "d"], outputs: ["z"]),
                      Node(name: "max", opType: "Max", inputs: ["d", "z"], outputs: ["r"]),
                      Node(name: "mul", opType: "Mul", inputs: ["s", "r"], outputs: ["y"])],
            common + [Node(name: "clip", opType: "Clip", inputs: ["d", "zero0"], outputs: ["r"]),
                      Node(name: "mul", opType: "Mul", inputs: ["s", "r"], outputs: ["y"])],
            [Node(name: "gt", opType: "Greater", inputs: ["x", "t"], outputs: ["g"]),
             Node(name: "nt", opType: "Neg", inputs: ["t"], outputs: ["mt"]),
             Node(name: "lt", opType: "Less", inputs: ["x", "mt"], outputs: ["l"]),
             Node(name: "xm", opType: "Sub", inputs: ["x", "t"], outputs: ["xm"]),
             Node(name: "xp", opType: "Add", inputs: ["x", "t"], outputs: ["xp"]),
             Node(name: "w1", opType: "Where", inputs: ["l", "xp", "zero0"], outputs: ["w"]),
             Node(name: "w2", opType: "Where", inputs: ["g", "xm", "w"], outputs: ["y"])],
        ]
        for (k, nodes) in forms.enumerated() {
            let g = Graph(nodes: nodes, constants: ["zero0": constant([0], [])],
                          inputs: [input("x", [.symbolic("N"), .fixed(3), .fixed(8)]), input("t", [.symbolic("N"), .fixed(3), .fixed(1)])],
                          outputs: [output("y")], opset: 17)
            assertClose(try runGraph(g, [x, t], [[2, 3, 8], [2, 3, 1]])[0], expected, tolerance: 1e-6)
            _ = k
        }
    }

    func testGemmWithTransposesAndBroadcastC() throws {
        var r = SeededRandom(4)
        let m = 5, n = 7, k = 3
        let a = r.floats(k * m), b = r.floats(n * k), c = r.floats(n)
        let g = single("Gemm", inputs: ["a", "b", "c"], attributes: ["transA": .int(1), "transB": .int(1), "alpha": .float(0.5), "beta": .float(2)],
                       constants: ["b": constant(b, [n, k]), "c": constant(c, [n])], shapes: [[k, m]])
        var expected = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n {
            var s: Float = 0
            for p in 0..<k { s += a[p * m + i] * b[j * k + p] }
            expected[i * n + j] = 0.5 * s + 2 * c[j]
        } }
        assertClose(try runGraph(g, [a], [[k, m]])[0], expected)
    }

    func testReduceMeanAxesAttributeAndInput() throws {
        var r = SeededRandom(8)
        let x = r.floats(2 * 3 * 4)
        var expected = [Float](repeating: 0, count: 2 * 3)
        for i in 0..<6 { expected[i] = x[(i * 4)..<(i * 4 + 4)].reduce(0, +) / 4 }
        let old = single("ReduceMean", inputs: ["x"], attributes: ["axes": .ints([-1]), "keepdims": .int(0)], shapes: [[2, 3, 4]], opset: 13)
        assertClose(try runGraph(old, [x], [[2, 3, 4]])[0], expected)
        let new = single("ReduceMean", inputs: ["x", "axes"], attributes: ["keepdims": .int(1)], constants: ["axes": intConstant([2])],
                         shapes: [[2, 3, 4]], opset: 18)
        assertClose(try runGraph(new, [x], [[2, 3, 4]])[0], expected)
    }

    func testShapeGatherUnsqueezeConcatReshapeFlattensWithDynamicBatch() throws {
        // Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])): the shape chain binds per batch size.
        let g = Graph(nodes: [
            Node(name: "shape", opType: "Shape", inputs: ["x"], outputs: ["s"]),
            Node(name: "gather", opType: "Gather", inputs: ["s", "zero"], outputs: ["n"], attributes: ["axis": .int(0)]),
            Node(name: "unsq", opType: "Unsqueeze", inputs: ["n", "axes"], outputs: ["n1"]),
            Node(name: "cat", opType: "Concat", inputs: ["n1", "minus1"], outputs: ["spec"], attributes: ["axis": .int(0)]),
            Node(name: "reshape", opType: "Reshape", inputs: ["x", "spec"], outputs: ["y"]),
        ], constants: ["zero": Tensor(ints: [0], shape: []), "axes": intConstant([0]), "minus1": intConstant([-1])],
           inputs: [input("x", [.symbolic("N"), .fixed(2), .fixed(3)])], outputs: [output("y")], opset: 17)
        for batch in [1, 7] {
            var graph = g
            _ = try GraphOptimizer.run(&graph)
            let binding = try Binder.bind(graph, inputShapes: [[batch, 2, 3]])
            XCTAssertEqual(binding.outputs[0].shape, [batch, 6])
            let x = (0..<(batch * 6)).map(Float.init)
            XCTAssertEqual(try runGraph(g, [x], [[batch, 2, 3]])[0], x)
        }
    }

    func testShapeErrorsNameShapes() {
        let g = single("Add", inputs: ["a", "b"], shapes: [[2, 3], [4]])
        XCTAssertThrowsError(try runGraph(g, [[Float](repeating: 0, count: 6), [0, 0, 0, 0]], [[2, 3], [4]])) { e in
            XCTAssertTrue("\(e)".contains("[2, 3]") && "\(e)".contains("[4]"), "\(e)")
        }
    }
}
