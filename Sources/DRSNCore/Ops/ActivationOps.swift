import DRSNKernels

/// Activations with their own kernel: LeakyRelu.
enum ActivationOps {
    /// LeakyRelu (opset 6+: attribute alpha, default 0.01). A constant input is evaluated
    /// now, by the same kernel a run uses.
    static func leakyRelu(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        let alpha = try ctx.node.float("alpha", default: 0.01)
        if let t = x.constant {
            try ctx.checkConstant(t.shape)
            guard t.dtype.isFloatingPoint else {
                throw fail(.unsupported, "LeakyRelu input must be floating point, got \(t.dtype)")
            }
            var v = t.floatValues
            let n = v.count
            v.withUnsafeMutableBufferPointer { b in
                if let p = b.baseAddress { activeKernels.leakyRelu(input: p, output: p, count: n, alpha: alpha) }
            }
            return [.constant(try Tensor(floats: v, shape: t.shape, dtype: t.dtype))]
        }
        try ctx.requireRuntimeType(x, 0)
        guard x.dtype == .float32 else { throw fail(.unsupported, "LeakyRelu input must be FLOAT, got \(x.dtype)") }
        return [try ctx.emit(LeakyReluStep(count: try elementCount(x.shape), alpha: alpha), inputs: [x],
                                     outputShape: x.shape)]
    }
}
