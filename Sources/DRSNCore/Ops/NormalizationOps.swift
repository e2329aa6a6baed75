import DRSNKernels

/// LRN (opset 1, 13), LayerNormalization (opset 17) and InstanceNormalization (opset 1, 6,
/// 22). A constant input is normalized now, by the kernel a run uses (constant folding).
enum NormalizationOps {
    /// LRN across channels of x [N, C, ...] (rank >= 2): attributes size (required, >= 1),
    /// alpha (1e-4), beta (0.75), bias (1).
    static func lrn(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        let xs = x.shape
        guard xs.count >= 2 else { throw fail(.shapeMismatch, "LRN input must have rank >= 2 (N, C, ...), got \(describe(xs))") }
        guard let rawSize = try ctx.node.int("size") else { throw fail(.invalidModel, "LRN needs the size attribute") }
        guard rawSize >= 1, rawSize <= 1 << 20 else { throw fail(.invalidModel, "LRN size \(rawSize) must be between 1 and 1048576") }
        let alpha = try ctx.node.float("alpha", default: 1e-4)
        let beta = try ctx.node.float("beta", default: 0.75)
        let bias = try ctx.node.float("bias", default: 1)
        let step = LRNStep(batch: xs[0], channels: xs[1], inner: xs[2...].reduce(1, *), size: Int(rawSize),
                           alpha: alpha, beta: beta, bias: bias)
        if let t = x.constant {
            let y = try evaluate(t, "LRN") { i, o in
                guard step.channels > 0 else { return }
                activeKernels.lrn(input: i, output: o, channels: step.channels, inner: step.inner,
                                  planes: 0..<(step.batch * step.channels), size: step.size, alpha: alpha, beta: beta, bias: bias)
            }
            return [.constant(y)]
        }
        try requireFloat(ctx, x, "LRN")
        return [try ctx.emit(step, inputs: [x], outputShape: xs)]
    }

    /// LayerNormalization: x normalized over dims axis..< rank (axis default -1), epsilon
    /// (1e-5), stash_type 1 (float) only; Scale and optional B broadcast to those dims
    /// (constants; a runtime Scale or B must have exactly their shape). Outputs: Y, and Mean
    /// and InvStdDev (shape x.shape[..<axis] + 1s) when the node names them.
    static func layerNormalization(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        let xs = x.shape
        guard !xs.isEmpty else { throw fail(.shapeMismatch, "LayerNormalization input must have rank >= 1") }
        let axis = try normalizeAxis(try ctx.node.int("axis", default: -1), rank: xs.count)
        let epsilon = try ctx.node.float("epsilon", default: 1e-5)
        let stash = try ctx.node.int("stash_type", default: 1)
        guard stash == 1 else {
            throw fail(.unsupported, "LayerNormalization stash_type \(stash) is not supported (only 1: float)")
        }
        let normalized = Array(xs[axis...])
        let rows = xs[..<axis].reduce(1, *), cols = normalized.reduce(1, *)
        let scale = try perColumn(ctx, 1, "Scale", to: normalized)
        let bias = ctx.optionalInput(2) == nil ? nil : try perColumn(ctx, 2, "B", to: normalized)
        let statShape = Array(xs[..<axis]) + [Int](repeating: 1, count: xs.count - axis)
        let wanted = (1...2).map { k in k < ctx.node.outputs.count && !ctx.node.outputs[k].isEmpty }

        if let t = x.constant, let s = scale.constant, bias.map({ $0.constant != nil }) ?? true {
            let sv = s.floatValues, bv = bias?.constant?.floatValues
            var outs: [BoundValue] = [.constant(try evaluate(t, "LayerNormalization") { i, o in
                guard rows > 0, cols > 0 else { return }
                sv.withUnsafeBufferPointer { sp in
                    guard let sp = sp.baseAddress else { return }
                    if let bv {
                        bv.withUnsafeBufferPointer { bp in
                            activeKernels.layerNorm(input: i, output: o, rows: 0..<rows, cols: cols, scale: sp,
                                                    bias: bp.baseAddress, epsilon: epsilon)
                        }
                    } else {
                        activeKernels.layerNorm(input: i, output: o, rows: 0..<rows, cols: cols, scale: sp, bias: nil,
                                                epsilon: epsilon)
                    }
                }
            })]
            for k in 0..<2 where wanted[k] {
                try ctx.checkConstant(statShape)
                var v = [Float](repeating: 0, count: rows)
                let values = t.floatValues
                values.withUnsafeBufferPointer { i in
                    v.withUnsafeMutableBufferPointer { o in
                        guard let ip = i.baseAddress, let op = o.baseAddress else { return }
                        activeKernels.layerNormStatistics(input: ip, rows: 0..<rows, cols: cols, epsilon: epsilon,
                                                          mean: k == 0 ? op : nil, invStdDev: k == 1 ? op : nil)
                    }
                }
                outs.append(.constant(try Tensor(floats: v, shape: statShape, dtype: t.dtype)))
            }
            return outs
        }
        try requireFloat(ctx, x, "LayerNormalization")
        var inputs = [x, scale]
        if let bias { inputs.append(bias) }
        var outs = [try ctx.emit(LayerNormStep(rows: rows, cols: cols, epsilon: epsilon), inputs: inputs, outputShape: xs)]
        for k in 0..<2 where wanted[k] {
            outs.append(try ctx.emit(LayerNormStatisticsStep(rows: rows, cols: cols, epsilon: epsilon, invStdDev: k == 1),
                                     inputs: [x], outputShape: statShape))
        }
        return outs
    }

    /// InstanceNormalization of x [N, C, ...] (rank >= 2) per (n, c) plane: epsilon (1e-5),
    /// scale and B of C elements each (constant or runtime).
    static func instanceNormalization(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        let xs = x.shape
        guard xs.count >= 2 else {
            throw fail(.shapeMismatch, "InstanceNormalization input must have rank >= 2 (N, C, ...), got \(describe(xs))")
        }
        let epsilon = try ctx.node.float("epsilon", default: 1e-5)
        let channels = xs[1]
        let scale = try perColumn(ctx, 1, "scale", to: [channels])
        let bias = try perColumn(ctx, 2, "B", to: [channels])
        let step = InstanceNormStep(batch: xs[0], channels: channels, planeSize: xs[2...].reduce(1, *), epsilon: epsilon)
        if let t = x.constant, let s = scale.constant, let b = bias.constant {
            let sv = s.floatValues, bv = b.floatValues
            return [.constant(try evaluate(t, "InstanceNormalization") { i, o in
                guard channels > 0 else { return }
                sv.withUnsafeBufferPointer { sp in
                    bv.withUnsafeBufferPointer { bp in
                        guard let sp = sp.baseAddress, let bp = bp.baseAddress else { return }
                        activeKernels.instanceNorm(input: i, output: o, planes: 0..<(step.batch * channels), channels: channels,
                                                   planeSize: step.planeSize, scale: sp, bias: bp, epsilon: epsilon)
                    }
                }
            })]
        }
        try requireFloat(ctx, x, "InstanceNormalization")
        return [try ctx.emit(step, inputs: [x, scale, bias], outputShape: xs)]
    }

    /// Input `i` as one value per element of `shape`: a constant is broadcast to it now (its
    /// shape must broadcast to `shape` without growing its rank beyond it); a runtime input must
    /// hold exactly `shape`'s elements in that shape (leading 1s aside).
    private static func perColumn(_ ctx: OpContext, _ i: Int, _ what: String,
                                  to shape: [Int]) throws(DRSNError) -> BoundValue {
        let v = try ctx.input(i)
        let op = ctx.node.opType
        if let t = v.constant {
            guard t.dtype.isFloatingPoint else { throw fail(.invalidModel, "\(op) \(what) must be floating point, got \(t.dtype)") }
            guard t.shape.count <= shape.count, (try? broadcastShape(t.shape, shape)) == shape else {
                throw fail(.shapeMismatch, "\(op) \(what) of shape \(describe(t.shape)) does not broadcast to \(describe(shape))")
            }
            if t.shape == shape { return v }
            try ctx.checkConstant(shape)
            return .constant(try t.gathered(broadcastSourceIndices(t.shape, to: shape), shape: shape))
        }
        try ctx.requireRuntimeType(v, i)
        let trimmed = Array(v.shape.drop { $0 == 1 }), target = Array(shape.drop { $0 == 1 })
        guard v.dtype == .float32, v.shape.count <= shape.count, trimmed == target else {
            throw fail(.unsupported, "\(op) \(what) computed at run time must be FLOAT of shape \(describe(shape)), got \(v.dtype) \(describe(v.shape)) (a broadcast \(what) must be a constant)")
        }
        return v
    }

    /// Runtime x must be FLOAT.
    private static func requireFloat(_ ctx: OpContext, _ x: BoundValue, _ op: String) throws(DRSNError) {
        try ctx.requireRuntimeType(x, 0)
        guard x.dtype == .float32 else { throw fail(.unsupported, "\(op) input must be FLOAT, got \(x.dtype)") }
    }

    /// A constant of t's shape and dtype computed by `body(input, output)` over t's values.
    private static func evaluate(_ t: Tensor, _ op: String,
                                 _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) throws(DRSNError) -> Tensor {
        guard t.dtype.isFloatingPoint else { throw fail(.unsupported, "\(op) input must be floating point, got \(t.dtype)") }
        let input = t.floatValues
        var out = [Float](repeating: 0, count: input.count)
        input.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { o in
                guard let ip = i.baseAddress, let op = o.baseAddress else { return }
                body(ip, op)
            }
        }
        return try Tensor(floats: out, shape: t.shape, dtype: t.dtype)
    }
}
