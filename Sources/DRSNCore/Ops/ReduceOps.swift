import DRSNKernels

/// ReduceMean, ReduceSum, ReduceMax with axes as attribute (older opsets) or input.
enum ReduceOps {
    /// The first opset in which `opType` takes axes as an input instead of an attribute.
    static func axesInputOpset(_ opType: String) -> Int { opType == "ReduceSum" ? 13 : 18 }

    static func reduce(_ op: ReduceOp) -> OperatorFunction {
        return { (ctx: OpContext) throws(DRSNError) -> [BoundValue] in
            let x = try ctx.input(0)
            try ctx.requireRuntimeType(x, 0)
            let xs = x.shape
            var rawAxes: [Int64]? = nil
            if ctx.opset >= axesInputOpset(ctx.node.opType) {
                if let t = try ctx.optionalConstantInput(1, "axes") { rawAxes = t.intValues }
            } else {
                rawAxes = try ctx.node.ints("axes")
            }
            let keep = try ctx.node.int("keepdims", default: 1) != 0
            let noop = try ctx.node.int("noop_with_empty_axes", default: 0) != 0
            var mask = [Bool](repeating: false, count: xs.count)
            if let rawAxes, !rawAxes.isEmpty {
                for a in rawAxes { mask[try normalizeAxis(a, rank: xs.count)] = true }
            } else if noop {
                return [x]
            } else {
                mask = [Bool](repeating: true, count: xs.count)
            }
            var outShape: [Int] = []
            for (i, d) in xs.enumerated() {
                if mask[i] { if keep { outShape.append(1) } } else { outShape.append(d) }
            }
            return [try ctx.emit(ReduceStep(op: op, shape: xs, axes: mask), inputs: [x], outputShape: outShape)]
        }
    }
}
