import DRSNKernels

/// ReduceMean, ReduceSum, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2,
/// ReduceSumSquare, ReduceLogSumExp with axes as attribute (older opsets) or input,
/// keepdims and noop_with_empty_axes. A constant input is reduced now: floats by the kernel a
/// run uses, integers exactly (shape arithmetic such as ReduceProd of a Shape).
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
                // Reduced over no axis: each element alone, which only L1, L2 and SumSquare change.
                if op != .l1 && op != .l2 && op != .sumSquare { return [x] }
            } else {
                mask = [Bool](repeating: true, count: xs.count)
            }
            var outShape: [Int] = []
            for (i, d) in xs.enumerated() {
                if mask[i] { if keep { outShape.append(1) } } else { outShape.append(d) }
            }
            // min and max keep the input's type (bool included); the others compute floats.
            let keepsType = op == .max || op == .min
            if let t = x.constant {
                try ctx.checkConstant(outShape)
                if case .ints(let v) = t.storage {
                    let r = try reduceIntegers(op, v, xs, mask)
                    return [.constant(Tensor(ints: r, shape: outShape, dtype: t.dtype))]
                }
                var out = [Float](repeating: 0, count: try elementCount(outShape))
                let values = t.count > 0 ? t.floatValues : [0]  // an empty reduction still writes its outputs
                values.withUnsafeBufferPointer { i in
                    out.withUnsafeMutableBufferPointer { o in
                        guard let ip = i.baseAddress, let yp = o.baseAddress else { return }
                        activeKernels.reduce(op, input: ip, shape: xs, axes: mask, output: yp)
                    }
                }
                return [.constant(try Tensor(floats: out, shape: outShape, dtype: t.dtype))]
            }
            return [try ctx.emit(ReduceStep(op: op, shape: xs, axes: mask), inputs: [x], outputShape: outShape,
                                 dtype: keepsType ? x.dtype : .float32)]
        }
    }

    /// `op` over the masked dims of an integer tensor, in Int64 arithmetic that wraps on
    /// overflow (as onnxruntime's integer kernels do); mean truncates toward zero. L2 and
    /// LogSumExp of integers are refused.
    static func reduceIntegers(_ op: ReduceOp, _ v: [Int64], _ shape: [Int], _ mask: [Bool]) throws(DRSNError) -> [Int64] {
        var outStrides = [Int](repeating: 0, count: shape.count)
        var count = 1, reduced = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            if mask[d] { reduced *= shape[d] } else { outStrides[d] = count; count *= shape[d] }
        }
        let initial: Int64
        switch op {
        case .sum, .mean, .l1, .sumSquare: initial = 0
        case .prod: initial = 1
        case .max: initial = .min
        case .min: initial = .max
        case .l2, .logSumExp:
            throw fail(.unsupported, "\(op == .l2 ? "ReduceL2" : "ReduceLogSumExp") of an integer tensor is not supported")
        }
        var out = [Int64](repeating: initial, count: count)
        let sources = sourceIndices(strides: outStrides, shape)
        for (k, o) in sources.enumerated() {
            let a = v[k]
            switch op {
            case .sum, .mean: out[o] &+= a
            case .l1: out[o] &+= a < 0 ? 0 &- a : a
            case .sumSquare: out[o] &+= a &* a
            case .prod: out[o] &*= a
            case .max: out[o] = Swift.max(out[o], a)
            case .min: out[o] = Swift.min(out[o], a)
            case .l2, .logSumExp: break
            }
        }
        if op == .mean && reduced > 0 { for i in 0..<count { out[i] /= Int64(reduced) } }
        return out
    }
}
