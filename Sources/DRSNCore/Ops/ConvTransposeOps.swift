import DRSNKernels

/// ConvTranspose (1-D and 2-D), every opset from 7 (the operator's attributes and inputs are
/// the same in all of them; later versions only add element types).
enum ConvTransposeOps {
    /// One spatial axis of a transposed convolution: the input and output sizes and the pad at
    /// the beginning (the end pad is implied by the output size).
    struct Axis: Equatable {
        var input: Int, output: Int, kernel: Int, stride: Int, dilation: Int, padBegin: Int
    }

    static func convTranspose(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0), w = try ctx.input(1)
        let bias = ctx.optionalInput(2)
        try ctx.requireRuntimeType(x, 0)
        try ctx.requireRuntimeType(w, 1)
        let xs = x.shape, ws = w.shape
        guard xs.count == 3 || xs.count == 4 else {
            throw fail(.unsupported, "ConvTranspose input must have rank 3 (1-D) or 4 (2-D), got shape \(describe(xs))")
        }
        guard x.dtype == .float32 || x.constant != nil else {
            throw fail(.unsupported, "ConvTranspose input must be FLOAT, got \(x.dtype)")
        }
        guard ws.count == xs.count else {
            throw fail(.shapeMismatch, "ConvTranspose weight shape \(describe(ws)) does not match input rank \(xs.count)")
        }
        let group = try checkedInt(try ctx.node.int("group", default: 1), "group")
        let c = xs[1]
        guard group >= 1, ws[0] == c, c % group == 0 else {
            throw fail(.shapeMismatch, "ConvTranspose input channels \(c), weight shape \(describe(ws)) and group \(group) do not agree (weights are [C, M / group, k...])")
        }
        let (m, overflow) = ws[1].multipliedReportingOverflow(by: group)
        guard !overflow else { throw fail(.shapeMismatch, "ConvTranspose output channels overflow") }
        if let b = bias {
            try ctx.requireRuntimeType(b, 2)
            guard b.shape == [m] else {
                throw fail(.shapeMismatch, "ConvTranspose bias shape \(describe(b.shape)) should be [\(m)]")
            }
        }
        let kernel = Array(ws[2...])
        if let ks = try ctx.node.ints("kernel_shape"), ks.map({ Int($0) }) != kernel {
            throw fail(.shapeMismatch, "ConvTranspose kernel_shape \(ks) does not match weight shape \(describe(ws))")
        }
        let axes = try geometry(ctx.node, input: Array(xs[2...]), kernel: kernel)
        let hAxis = axes.count == 2 ? axes[0] : Axis(input: 1, output: 1, kernel: 1, stride: 1, dilation: 1, padBegin: 0)
        let wAxis = axes[axes.count - 1]
        let p = ConvParams(batch: xs[0], inChannels: c, inHeight: hAxis.input, inWidth: wAxis.input, outChannels: m,
                           outHeight: hAxis.output, outWidth: wAxis.output, kernelHeight: hAxis.kernel,
                           kernelWidth: wAxis.kernel, strideHeight: hAxis.stride, strideWidth: wAxis.stride,
                           dilationHeight: hAxis.dilation, dilationWidth: wAxis.dilation, padTop: hAxis.padBegin,
                           padLeft: wAxis.padBegin, groups: group)
        let outShape = [xs[0], m] + axes.map(\.output)
        try ctx.checkShape(outShape)
        var inputs = [x, w]
        if let bias { inputs.append(bias) }
        return [try ctx.emit(ConvTransposeStep(params: p), inputs: inputs, outputShape: outShape)]
    }

    /// Output sizes and begin pads, with onnxruntime's rules: explicit pads (NOTSET, VALID: 0)
    /// give out = (in - 1) * stride + output_padding + (k - 1) * dilation + 1 - pads; with
    /// `output_shape` (its spatial part) or auto_pad SAME_* (out = in * stride) the total pad is
    /// max(0, (in - 1) * stride + output_padding + (k - 1) * dilation + 1 - out), of which the
    /// beginning gets the smaller half for SAME_UPPER and the larger half otherwise. Every
    /// output_padding must be below max(stride, dilation).
    static func geometry(_ node: Node, input: [Int], kernel: [Int]) throws(DRSNError) -> [Axis] {
        let n = input.count
        let strides = try windowInts(node, "strides", default: 1, count: n)
        let dilations = try windowInts(node, "dilations", default: 1, count: n)
        let outputPadding = try windowInts(node, "output_padding", default: 0, count: n)
        var pads = try windowInts(node, "pads", default: 0, count: 2 * n)
        let autoPad = try node.string("auto_pad") ?? "NOTSET"
        try checkWindow(strides: strides, dilations: dilations, kernel: kernel, pads: pads)
        for i in 0..<n where outputPadding[i] < 0 || outputPadding[i] >= max(strides[i], dilations[i]) {
            throw fail(.invalidModel, "output_padding \(outputPadding) must be >= 0 and below max(stride, dilation) on every axis (strides \(strides), dilations \(dilations))")
        }
        var outputShape: [Int]? = nil
        if let os = try node.ints("output_shape") {
            guard os.count == n || os.count == n + 2 else {
                throw fail(.invalidModel, "output_shape \(os) must have \(n) values (or \(n + 2) including N and C)")
            }
            var v: [Int] = []
            for x in os.suffix(n) { v.append(try checkedInt(x, "output_shape")) }
            for x in v where x < 0 { throw fail(.invalidModel, "output_shape \(os) has a negative size") }
            outputShape = v
        }
        switch autoPad {
        case "NOTSET", "", "VALID", "SAME_UPPER", "SAME_LOWER": break
        default: throw fail(.unsupported, "auto_pad '\(autoPad)' is not supported")
        }
        if autoPad == "VALID" { pads = [Int](repeating: 0, count: 2 * n) }
        var axes: [Axis] = []
        let limit = Int(Int32.max)
        for i in 0..<n {
            if input[i] == 0 {
                throw fail(.shapeMismatch, "ConvTranspose input has an empty spatial dimension (\(describe(input)))")
            }
            // Every term is bounded before it is combined (attributes can hold any Int64).
            guard strides[i] <= limit, dilations[i] <= limit, pads[i] <= limit, pads[i + n] <= limit,
                  input[i] <= limit, kernel[i] <= limit else {
                throw fail(.shapeMismatch, "ConvTranspose sizes out of range on spatial axis \(i)")
            }
            let eff = (kernel[i] - 1) * dilations[i] + 1
            let natural = (input[i] - 1) * strides[i] + outputPadding[i] + eff
            var out: Int, begin: Int
            if outputShape != nil || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
                out = outputShape?[i] ?? input[i] * strides[i]
                let total = max(0, natural - out)
                begin = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
            } else {
                out = natural - pads[i] - pads[i + n]
                begin = pads[i]
            }
            guard out >= 1 else {
                throw fail(.shapeMismatch, "ConvTranspose output size would be \(out) on spatial axis \(i) (input \(input[i]), pads \(pads[i])+\(pads[i + n]))")
            }
            axes.append(Axis(input: input[i], output: out, kernel: kernel[i], stride: strides[i], dilation: dilations[i],
                             padBegin: begin))
        }
        return axes
    }
}
