import DRSNKernels

/// Operator parameters given as runtime tensors (graph inputs, or values the graph computes)
/// where models usually hold constants: Clip min/max, BatchNormalization scale, B, mean and
/// var, Pad constant_value. The constant forms keep their fast paths (a clip folded into the
/// unary kernel, BatchNormalization folded into the convolution before it); these are the
/// general paths, read by the step at run time.
enum RuntimeParameters {
    /// Whether any of the node's optional inputs `indices` is present and not a constant.
    static func anyRuntime(_ ctx: OpContext, _ indices: Int...) -> Bool {
        indices.contains { i in
            if let v = ctx.optionalInput(i) { return v.constant == nil }
            return false
        }
    }

    /// A one-element FLOAT parameter (constant or runtime), named for errors.
    static func scalarParameter(_ ctx: OpContext, _ i: Int, _ what: String) throws(DRSNError) -> BoundValue? {
        guard let v = ctx.optionalInput(i) else { return nil }
        guard try elementCount(v.shape) == 1 else {
            throw fail(.invalidModel, "\(what) (input \(i)) must be a scalar, got shape \(describe(v.shape))")
        }
        if v.constant == nil {
            try ctx.requireRuntimeType(v, i)
            guard v.dtype == .float32 else { throw fail(.unsupported, "\(what) (input \(i)) must be FLOAT, got \(v.dtype)") }
        }
        return v
    }

    /// Clip (opset 11+) with at least one runtime bound: a `RuntimeClipStep` reading the
    /// bounds at run time (the same clip kernel, so NaN stays NaN and min > max gives max).
    static func clip(_ ctx: OpContext) throws(DRSNError) -> BoundValue {
        let x = try ctx.input(0)
        let lo = try scalarParameter(ctx, 1, "Clip min"), hi = try scalarParameter(ctx, 2, "Clip max")
        try ctx.requireRuntimeType(x, 0)
        guard x.dtype.isFloatingPoint else { throw fail(.unsupported, "Clip input must be FLOAT, got \(x.dtype)") }
        let inputs = [x] + [lo, hi].compactMap { $0 }
        return try ctx.emit(RuntimeClipStep(count: try elementCount(x.shape), hasMin: lo != nil, hasMax: hi != nil),
                            inputs: inputs, outputShape: x.shape)
    }

    /// BatchNormalization's per-channel scale s = gamma / sqrt(var + eps) and shift
    /// t = beta - mean * s when some of its parameters are runtime tensors, each of shape
    /// [channels]: computed by `binary` and `unaryMath` (sqrt) steps on [channels] values;
    /// the parts that only involve constants are folded now.
    static func batchNormCoefficients(_ ctx: OpContext, channels: Int,
                                      epsilon: Float) throws(DRSNError) -> (scale: BoundValue, shift: BoundValue) {
        let names = ["scale", "B", "mean", "var"]
        var params: [BoundValue] = []
        for k in 1...4 {
            let v = try ctx.input(k)
            guard v.shape == [channels] else {
                throw fail(.shapeMismatch, "BatchNormalization \(names[k - 1]) (input \(k)) must have shape [\(channels)] (the input's channels), got \(describe(v.shape))")
            }
            if v.constant == nil {
                try ctx.requireRuntimeType(v, k)
                guard v.dtype == .float32 else {
                    throw fail(.unsupported, "BatchNormalization \(names[k - 1]) (input \(k)) must be FLOAT, got \(v.dtype)")
                }
            }
            params.append(v)
        }
        let eps = BoundValue.constant(try Tensor(floats: [epsilon], shape: []))
        let std = try MathOps.applyUnaryMath(.sqrt, try ElementwiseOps.applyBinary(.add, params[3], eps, ctx), ctx)
        let scale = try ElementwiseOps.applyBinary(.div, params[0], std, ctx)
        let shift = try ElementwiseOps.applyBinary(.sub, params[1], try ElementwiseOps.applyBinary(.mul, params[2], scale, ctx), ctx)
        return (scale, shift)
    }
}
