import DRSNKernels

/// Conv (1-D and 2-D) and BatchNormalization.
enum ConvOps {
    static func conv(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0), w = try ctx.input(1)
        let bias = ctx.optionalInput(2)
        try ctx.requireRuntimeType(x, 0)
        let (p, outShape) = try geometry(ctx, input: x.shape, weights: w.shape)
        if let b = bias, b.shape != [p.outChannels] {
            throw fail(.shapeMismatch, "Conv bias shape \(describe(b.shape)) should be [\(p.outChannels)]")
        }
        var inputs = [x, w]
        if let bias { inputs.append(bias) }
        // The epilogue a graph pass fused into this node (typed; never read from the file).
        let activation = ctx.node.fusedActivation
        return [try ctx.emit(ConvStep(params: p, activation: activation), inputs: inputs, outputShape: outShape)]
    }

    /// The convolution geometry of a Conv-like node (Conv, QLinearConv) from its input and
    /// weight shapes and its attributes (group, kernel_shape, strides, pads, dilations,
    /// auto_pad), and its output shape.
    static func geometry(_ ctx: OpContext, input: [Int], weights: [Int]) throws(DRSNError) -> (ConvParams, [Int]) {
        let xs = input, ws = weights
        let op = ctx.node.opType
        guard xs.count == 3 || xs.count == 4 else {
            throw fail(.unsupported, "\(op) input must have rank 3 (1-D) or 4 (2-D), got shape \(describe(xs))")
        }
        guard ws.count == xs.count else {
            throw fail(.shapeMismatch, "\(op) weight shape \(describe(ws)) does not match input rank \(xs.count)")
        }
        let group = try checkedInt(try ctx.node.int("group", default: 1), "group")
        let c = xs[1], m = ws[0]
        guard group >= 1, c % group == 0, m % group == 0, ws[1] == c / group else {
            throw fail(.shapeMismatch, "\(op) input channels \(c), weight shape \(describe(ws)) and group \(group) do not agree")
        }
        let spatial = Array(xs[2...])
        let kernel = Array(ws[2...])
        if let ks = try ctx.node.ints("kernel_shape"), ks.map({ Int($0) }) != kernel {
            throw fail(.shapeMismatch, "\(op) kernel_shape \(ks) does not match weight shape \(describe(ws))")
        }
        let g = try spatialGeometry(node: ctx.node, input: spatial, kernel: kernel)
        let h: AxisGeometry = g.count == 2 ? g[0] : AxisGeometry(input: 1, kernel: 1, stride: 1, dilation: 1, padBegin: 0, padEnd: 0, output: 1)
        let wd = g[g.count - 1]
        let p = ConvParams(batch: xs[0], inChannels: c, inHeight: h.input, inWidth: wd.input, outChannels: m,
                           outHeight: h.output, outWidth: wd.output, kernelHeight: h.kernel, kernelWidth: wd.kernel,
                           strideHeight: h.stride, strideWidth: wd.stride, dilationHeight: h.dilation,
                           dilationWidth: wd.dilation, padTop: h.padBegin, padLeft: wd.padBegin, groups: group)
        let outShape = [xs[0], m] + g.map(\.output)
        return (p, outShape)
    }

    /// Scale and shift of an inference BatchNormalization, one per parameter value
    /// (`channels` values: the input's channels, or channels x positions when spatial=0).
    static func batchNormCoefficients(_ ctx: OpContext, channels: Int) throws(DRSNError) -> (scale: [Float], shift: [Float]) {
        let gamma = try ctx.constantInput(1, "BatchNormalization scale").floatValues
        let beta = try ctx.constantInput(2, "BatchNormalization bias").floatValues
        let mean = try ctx.constantInput(3, "BatchNormalization mean").floatValues
        let variance = try ctx.constantInput(4, "BatchNormalization variance").floatValues
        guard gamma.count == channels, beta.count == channels, mean.count == channels, variance.count == channels else {
            throw fail(.shapeMismatch, "BatchNormalization parameters must each have \(channels) values, got \(gamma.count), \(beta.count), \(mean.count) and \(variance.count)")
        }
        let eps = try ctx.node.float("epsilon", default: 1e-5)
        var scale = [Float](repeating: 0, count: channels)
        var shift = [Float](repeating: 0, count: channels)
        for i in 0..<channels {
            scale[i] = gamma[i] / (variance[i] + eps).squareRoot()
            shift[i] = beta[i] - mean[i] * scale[i]
        }
        return (scale, shift)
    }

    /// BatchNormalization at inference, y = (x - mean) / sqrt(var + epsilon) * scale + B, with
    /// constant parameters. Before opset 9 the attribute spatial=0 gives every position its
    /// own parameters (each of shape C x D1 x ... x Dn). Training (training_mode=1 from
    /// opset 14, or the running/saved statistics outputs) is refused.
    static func batchNorm(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        if try ctx.node.int("training_mode", default: 0) != 0 {
            throw fail(.unsupported, "BatchNormalization with training_mode=1 is not supported (inference only)")
        }
        if ctx.node.outputs.dropFirst().contains(where: { !$0.isEmpty }) {
            throw fail(.unsupported, "BatchNormalization running mean/variance outputs are not supported (inference only)")
        }
        let x = try ctx.input(0)
        let xs = x.shape
        guard xs.count >= 2 else { throw fail(.shapeMismatch, "BatchNormalization input must have rank >= 2, got \(describe(xs))") }
        let spatial = try ctx.node.int("spatial", default: 1) != 0
        let positions = xs.count > 2 ? xs[2...].reduce(1, *) : 1
        // Parameters per sample and the elements each applies to.
        let channels = spatial ? xs[1] : xs[1] * positions
        let inner = spatial ? positions : 1
        if RuntimeParameters.anyRuntime(ctx, 1, 2, 3, 4) {
            try ctx.requireRuntimeType(x, 0)
            let eps = try ctx.node.float("epsilon", default: 1e-5)
            let (s, b) = try RuntimeParameters.batchNormCoefficients(ctx, channels: channels, epsilon: eps)
            return [try ctx.emit(ScaleShiftStep(batch: xs[0], channels: channels, inner: inner, relu: false),
                                 inputs: [x, s, b], outputShape: xs)]
        }
        let (scale, shift) = try batchNormCoefficients(ctx, channels: channels)
        if let t = x.constant {
            try ctx.checkConstant(xs)
            var v = t.floatValues
            for i in 0..<v.count { let ch = (i / inner) % channels; v[i] = v[i] * scale[ch] + shift[ch] }
            return [.constant(try Tensor(floats: v, shape: xs))]
        }
        try ctx.requireRuntimeType(x, 0)
        let s = try Tensor(floats: scale, shape: [channels]), b = try Tensor(floats: shift, shape: [channels])
        return [try ctx.emit(ScaleShiftStep(batch: xs[0], channels: channels, inner: inner, relu: false),
                                     inputs: [x, .constant(s), .constant(b)], outputShape: xs)]
    }
}
