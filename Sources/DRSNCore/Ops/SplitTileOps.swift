import DRSNKernels

/// Split and Tile: pure data movement through the Slice and broadcast-copy (select) kernels.
/// Constant inputs are computed now.
enum SplitTileOps {
    /// Split along `axis` (default 0) into one part per node output. The part sizes: the
    /// `split` attribute (opset < 13) or input (13+), else `num_outputs` (18+: parts of
    /// ceil(dim / n), the last one smaller), else equal parts (the axis must divide evenly).
    static func split(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        let xs = x.shape
        guard !xs.isEmpty else { throw fail(.shapeMismatch, "Split input must have rank >= 1, got a scalar") }
        let axis = try normalizeAxis(try ctx.node.int("axis", default: 0), rank: xs.count)
        let n = ctx.node.outputs.count
        guard n >= 1 else { throw fail(.invalidModel, "Split needs at least one output") }
        let dim = xs[axis]
        var given: [Int64]? = nil
        if ctx.opset < 13 {
            given = try ctx.node.ints("split")
        } else if let t = try ctx.optionalConstantInput(1, "Split split"), t.count > 0 {
            given = t.intValues
        }
        var sizes: [Int]
        if let given, !given.isEmpty {
            guard given.count == n else {
                throw fail(.invalidModel, "Split has \(given.count) split sizes \(given) for \(n) outputs")
            }
            sizes = []
            for g in given {
                guard g >= 0 else { throw fail(.invalidModel, "Split size \(g) is negative") }
                sizes.append(try checkedInt(g, "Split size"))
            }
            guard sizes.reduce(0, +) == dim else {
                throw fail(.shapeMismatch, "Split sizes \(given) do not add up to axis \(axis) of size \(dim) (input \(describe(xs)))")
            }
        } else if ctx.opset >= 18, let parts = try ctx.node.int("num_outputs") {
            guard parts == Int64(n) else {
                throw fail(.invalidModel, "Split num_outputs \(parts) differs from its \(n) outputs")
            }
            let chunk = (dim + n - 1) / n
            guard chunk * (n - 1) <= dim else {
                throw fail(.shapeMismatch, "Split of axis \(axis) of size \(dim) into \(n) parts of \(chunk) leaves no last part")
            }
            sizes = [Int](repeating: chunk, count: n - 1) + [dim - chunk * (n - 1)]
        } else {
            guard dim % n == 0 else {
                throw fail(.shapeMismatch, "Split of axis \(axis) of size \(dim) into \(n) equal parts: \(dim) is not a multiple of \(n)")
            }
            sizes = [Int](repeating: dim / n, count: n)
        }
        if x.constant == nil { try ctx.requireRuntimeType(x, 0) }
        let dense = denseStrides(xs)
        var outs: [BoundValue] = []
        var start = 0
        for size in sizes {
            var shape = xs
            shape[axis] = size
            if let t = x.constant {
                try ctx.checkConstant(shape)
                outs.append(.constant(try t.gathered(sourceIndices(strides: dense, shape, base: start * dense[axis]), shape: shape)))
            } else {
                var begin = [Int](repeating: 0, count: xs.count)
                begin[axis] = start
                outs.append(try ctx.emit(SliceStep(shape: xs, starts: begin, steps: [Int](repeating: 1, count: xs.count),
                                                   outShape: shape), inputs: [x], outputShape: shape, dtype: x.dtype))
            }
            start += size
        }
        return outs
    }

    /// Tile with constant repeats (one per dim, >= 0): output dim d = x dim d * repeats[d].
    /// Read as a broadcast copy of x viewed as [1, d0, 1, d1, ...] to [r0, d0, r1, d1, ...],
    /// whose dense layout is the tiled output's.
    static func tile(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        let xs = x.shape
        let repeats = try ctx.constantInput(1, "Tile repeats").intValues
        guard repeats.count == xs.count else {
            throw fail(.invalidModel, "Tile has \(repeats.count) repeats for input \(describe(xs)) of rank \(xs.count)")
        }
        var outShape: [Int] = [], viewShape: [Int] = [], viewStrides: [Int] = []
        let dense = denseStrides(xs)
        for (d, r) in repeats.enumerated() {
            guard r >= 0 else { throw fail(.invalidModel, "Tile repeat \(r) is negative") }
            let reps = try checkedInt(r, "Tile repeat")
            let (n, overflow) = xs[d].multipliedReportingOverflow(by: reps)
            guard !overflow else { throw fail(.limitExceeded, "Tile output dimension \(xs[d]) x \(reps) is too large") }
            outShape.append(n)
            viewShape += [reps, xs[d]]
            viewStrides += [0, dense[d]]
        }
        try ctx.checkShape(outShape, "the Tile output")
        if let t = x.constant {
            try ctx.checkConstant(outShape)
            return [.constant(try t.gathered(sourceIndices(strides: viewStrides, viewShape), shape: outShape))]
        }
        try ctx.requireRuntimeType(x, 0)
        if xs.isEmpty { return [x] }
        // select(true, x, x) with x read through the view's strides: an exact copy.
        let zero = [Int](repeating: 0, count: viewShape.count)
        let one = try Tensor(floats: [1], shape: [])
        return [try ctx.emit(SelectStep(cStrides: zero, xStrides: viewStrides, yStrides: viewStrides, outShape: viewShape),
                             inputs: [.constant(one), x, x], outputShape: outShape, dtype: x.dtype)]
    }
}
