// binaryMath kernel: Pow and PRelu with multidirectional broadcasting, on the same collapsed
// iteration space and inner loops as `binary` (Elementwise.swift).

import DRSNKernelTypes

extension ISAKernels {
    /// output = op(a, b) with `a` and `b` broadcast to `outShape` (strides from
    /// `broadcastStrides`: `outShape.count` entries, 0 on broadcast dims). May write over an
    /// input read with the output's own dense strides. Semantics: `BinaryMathOp`.
    public static func binaryMath(_ op: BinaryMathOp, a: UnsafePointer<Float>, aStrides: [Int], b: UnsafePointer<Float>,
                                  bStrides: [Int], output: UnsafeMutablePointer<Float>, outShape: [Int]) {
        kernelPrecondition(isShape(outShape) && aStrides.count == outShape.count && bStrides.count == outShape.count,
                           "binaryMath: output shape \(outShape), strides \(aStrides) and \(bStrides) do not agree")
        for d in outShape where d == 0 { return }
        withCollapsed(outShape: outShape, aStrides, bStrides, nil) { rank, shape, strides, counters in
            switch op {
            case .pow:
                binaryRun(a: a, b: b, output: output, rank: rank, shape: shape, strides: strides, counters: counters) {
                    powV($0, $1)
                }
            case .prelu:
                binaryRun(a: a, b: b, output: output, rank: rank, shape: shape, strides: strides, counters: counters) {
                    x, slope in x.replacing(with: x * slope, where: x .< V8())
                }
            }
        }
    }
}
