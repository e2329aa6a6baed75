import DRSNKernels

/// MaxPool, AveragePool (1-D and 2-D) and GlobalAveragePool.
enum PoolOps {
    static func pool(max isMax: Bool) -> OperatorFunction {
        return { (ctx: OpContext) throws(DRSNError) -> [BoundValue] in
            if ctx.node.outputs.count > 1 && !ctx.node.outputs[1].isEmpty {
                throw fail(.unsupported, "MaxPool Indices output is not supported")
            }
            let x = try ctx.input(0)
            try ctx.requireRuntimeType(x, 0)
            let xs = x.shape
            guard xs.count == 3 || xs.count == 4 else {
                throw fail(.unsupported, "pooling input must have rank 3 or 4, got \(describe(xs))")
            }
            guard let ks = try ctx.node.ints("kernel_shape"), ks.count == xs.count - 2 else {
                throw fail(.invalidModel, "kernel_shape must have \(xs.count - 2) values")
            }
            var kernel: [Int] = []
            for k in ks { kernel.append(try checkedInt(k, "kernel_shape")) }
            let ceil = try ctx.node.int("ceil_mode", default: 0) != 0
            let g = try spatialGeometry(node: ctx.node, input: Array(xs[2...]), kernel: kernel, ceilMode: ceil)
            let h: AxisGeometry = g.count == 2 ? g[0] : AxisGeometry(input: 1, kernel: 1, stride: 1, dilation: 1, padBegin: 0, padEnd: 0, output: 1)
            let w = g[g.count - 1]
            let p = PoolParams(planes: xs[0] * xs[1], inHeight: h.input, inWidth: w.input, outHeight: h.output,
                               outWidth: w.output, kernelHeight: h.kernel, kernelWidth: w.kernel,
                               strideHeight: h.stride, strideWidth: w.stride, dilationHeight: h.dilation,
                               dilationWidth: w.dilation, padTop: h.padBegin, padLeft: w.padBegin,
                               padBottom: h.padEnd, padRight: w.padEnd,
                               countIncludePad: try ctx.node.int("count_include_pad", default: 0) != 0)
            let outShape = [xs[0], xs[1]] + g.map(\.output)
            return [try ctx.emit(PoolStep(params: p, isMax: isMax), inputs: [x], outputShape: outShape)]
        }
    }

    static func globalAveragePool(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        try ctx.requireRuntimeType(x, 0)
        let xs = x.shape
        guard xs.count >= 3 else { throw fail(.shapeMismatch, "GlobalAveragePool input must have rank >= 3, got \(describe(xs))") }
        let planeSize = xs[2...].reduce(1, *)
        let outShape = [xs[0], xs[1]] + [Int](repeating: 1, count: xs.count - 2)
        return [try ctx.emit(GlobalAveragePoolStep(planes: xs[0] * xs[1], planeSize: planeSize),
                                     inputs: [x], outputShape: outShape)]
    }
}
