import DRSNKernels

/// Sum and Mean: one or more inputs with multidirectional broadcasting (opset 8+; opsets
/// 6-7 require equal shapes), added left to right by `binary` add steps like variadic
/// Max/Min (so a chain of three inputs is ((a + b) + c), the order onnxruntime adds in).
/// Mean divides the sum by the input count (a division, as onnxruntime). One input is a copy.
enum SumMeanOps {
    static func sum(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        try checkShapes(ctx)
        return try ElementwiseOps.variadic(.add)(ctx)
    }

    static func mean(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        try checkShapes(ctx)
        let total = try ElementwiseOps.variadic(.add)(ctx)
        guard ctx.inputs.count > 1, let sum = total.first else { return total }
        if let t = sum.constant, !t.dtype.isFloatingPoint {
            throw fail(.unsupported, "Mean of \(t.dtype) inputs is not supported (floating point only)")
        }
        let n = try Tensor(floats: [Float(ctx.inputs.count)], shape: [])
        return [try ElementwiseOps.applyBinary(.div, sum, .constant(n), ctx)]
    }

    /// Before opset 8 (Sum-6, Mean-6) every input has the first one's shape.
    static func checkShapes(_ ctx: OpContext) throws(DRSNError) {
        guard ctx.opset < 8 else { return }
        let first = try ctx.input(0).shape
        var i = 1
        while i < ctx.inputs.count {
            let shape = try ctx.input(i).shape
            if shape != first {
                throw fail(.shapeMismatch, "\(ctx.node.opType) before opset 8 needs inputs of one shape (broadcasting came with opset 8): input 0 is \(describe(first)), input \(i) is \(describe(shape))")
            }
            i += 1
        }
    }
}
