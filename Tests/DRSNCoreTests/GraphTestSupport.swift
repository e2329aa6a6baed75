@testable import DRSNCore
import XCTest

/// Deterministic pseudo-random floats in [-1, 1).
struct SeededRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &* 0x9E3779B97F4A7C15 | 1 }
    mutating func next() -> Float {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Float(state >> 40) / Float(1 << 24) * 2 - 1
    }
    mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
}

func constant(_ values: [Float], _ shape: [Int]) -> Tensor { try! Tensor(floats: values, shape: shape) }
func intConstant(_ values: [Int64]) -> Tensor { Tensor(ints: values, shape: [values.count]) }

func input(_ name: String, _ dims: [Dim]) -> ValueInfo { ValueInfo(name: name, dtype: .float32, dims: dims) }
func output(_ name: String) -> ValueInfo { ValueInfo(name: name, dtype: .float32, dims: nil) }

/// The repository's root folder (this file is Tests/DRSNCoreTests/GraphTestSupport.swift).
let repositoryRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url
}()

/// Runs a graph through the whole pipeline (optimiser, binding, plan, executor).
func runGraph(_ g: Graph, _ inputs: [[Float]], _ shapes: [[Int]], optimize: Bool = true) throws -> [[Float]] {
    var graph = g
    if optimize { _ = try GraphOptimizer.run(&graph) } else { try TopologicalSort.run(&graph) }
    let plan = try ExecutionPlan(binding: try Binder.bind(graph, inputShapes: shapes))
    let arena = AlignedBuffer(count: plan.arenaSize)!
    let ins = inputs.map { AlignedBuffer(copying: $0)! }
    let outs = plan.outputShapes.map { AlignedBuffer(count: $0.reduce(1, *))! }
    let inPointers = ins.map { UnsafePointer($0.pointer) }, outPointers = outs.map(\.pointer)
    inPointers.withUnsafeBufferPointer { i in
        outPointers.withUnsafeBufferPointer { o in
            Executor(plan: plan, arena: arena.pointer, inputs: i, outputs: o).run()
        }
    }
    return outs.map(\.array)
}

func assertClose(_ a: [Float], _ b: [Float], tolerance: Float = 1e-4, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "element counts differ", file: file, line: line)
    var worst: Float = 0
    for (x, y) in zip(a, b) {
        if x.isNaN && y.isNaN { continue }
        worst = max(worst, abs(x - y))
    }
    XCTAssertLessThanOrEqual(worst, tolerance, "max deviation \(worst)", file: file, line: line)
}
