import DRSNKernels

/// Gemm, MatMul and Softmax.
enum MatrixOps {
    static func gemm(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let a = try ctx.input(0), b = try ctx.input(1)
        let c = ctx.optionalInput(2)
        guard c != nil || ctx.opset >= 11 else {
            throw fail(.invalidModel, "Gemm input C is required before opset 11 (optional from 11)")
        }
        try ctx.requireRuntimeType(a, 0)
        try ctx.requireRuntimeType(b, 1)
        let transA = try ctx.node.int("transA", default: 0) != 0
        let transB = try ctx.node.int("transB", default: 0) != 0
        let alpha = try ctx.node.float("alpha", default: 1)
        let beta = try ctx.node.float("beta", default: 1)
        guard a.shape.count == 2, b.shape.count == 2 else {
            throw fail(.shapeMismatch, "Gemm inputs must be 2-D, got \(describe(a.shape)) and \(describe(b.shape))")
        }
        let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
        let kb = transB ? b.shape[1] : b.shape[0], n = transB ? b.shape[0] : b.shape[1]
        guard k == kb else {
            throw fail(.shapeMismatch, "Gemm inner dimensions differ: A \(describe(a.shape))\(transA ? "ᵀ" : "") and B \(describe(b.shape))\(transB ? "ᵀ" : "")")
        }
        var inputs = [a, b]
        var cStrides: [Int]? = nil
        if let c, beta != 0 {
            let out = try broadcastShape(c.shape, [m, n])
            guard out == [m, n] else {
                throw fail(.shapeMismatch, "Gemm C of shape \(describe(c.shape)) cannot be broadcast to [\(m), \(n)]")
            }
            cStrides = stridesForBroadcast(c.shape, to: [m, n])
            inputs.append(c)
        }
        let kind = GemmStep(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: cStrides == nil ? 0 : beta, cStrides: cStrides)
        return [try ctx.emit(kind, inputs: inputs, outputShape: [m, n])]
    }

    static func matMul(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let a = try ctx.input(0), b = try ctx.input(1)
        try ctx.requireRuntimeType(a, 0)
        try ctx.requireRuntimeType(b, 1)
        guard !a.shape.isEmpty, !b.shape.isEmpty else { throw fail(.shapeMismatch, "MatMul inputs must have rank >= 1") }
        let aShape = a.shape.count == 1 ? [1, a.shape[0]] : a.shape
        let bShape = b.shape.count == 1 ? [b.shape[0], 1] : b.shape
        let m = aShape[aShape.count - 2], k = aShape[aShape.count - 1]
        let kb = bShape[bShape.count - 2], n = bShape[bShape.count - 1]
        guard k == kb else {
            throw fail(.shapeMismatch, "MatMul inner dimensions differ: \(describe(a.shape)) x \(describe(b.shape))")
        }
        let batchA = Array(aShape.dropLast(2)), batchB = Array(bShape.dropLast(2))
        let batchShape = try broadcastShape(batchA, batchB)
        var outShape = batchShape
        if a.shape.count > 1 { outShape.append(m) }
        if b.shape.count > 1 { outShape.append(n) }
        try ctx.checkShape(outShape)
        try ctx.checkShape(batchShape)
        let batch = batchShape.reduce(1, *)
        let aIdx = broadcastSourceIndices(batchA, to: batchShape).map { $0 * m * k }
        let bIdx = broadcastSourceIndices(batchB, to: batchShape).map { $0 * k * n }
        let kind: any StepKernel
        if bIdx.allSatisfy({ $0 == 0 }) && aIdx.enumerated().allSatisfy({ $0.element == $0.offset * m * k }) {
            kind = GemmStep(transA: false, transB: false, m: batch * m, n: n, k: k, alpha: 1, beta: 0, cStrides: nil)
        } else {
            kind = BatchedMatMulStep(batch: batch, m: m, n: n, k: k, aOffsets: aIdx, bOffsets: bIdx)
        }
        return [try ctx.emit(kind, inputs: [a, b], outputShape: outShape)]
    }

    static func softmax(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        try ctx.requireRuntimeType(x, 0)
        let xs = x.shape
        guard !xs.isEmpty else { throw fail(.shapeMismatch, "Softmax input must have rank >= 1") }
        let legacy = ctx.opset < 13
        let axis = try normalizeAxis(try ctx.node.int("axis", default: legacy ? 1 : -1), rank: xs.count)
        let outer = xs[..<axis].reduce(1, *)
        let kind = legacy
            ? SoftmaxStep(outer: outer, axisSize: xs[axis...].reduce(1, *), inner: 1)
            : SoftmaxStep(outer: outer, axisSize: xs[axis], inner: xs[(axis + 1)...].reduce(1, *))
        return [try ctx.emit(kind, inputs: [x], outputShape: xs)]
    }
}
