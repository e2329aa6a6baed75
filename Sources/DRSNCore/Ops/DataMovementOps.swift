/// Transpose, Concat, Slice, Pad (constant mode) and Gather. Constant inputs are computed
/// at bind time through flat source-index maps; runtime inputs get a kernel step.
enum DataMovementOps {
    static func transpose(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        let xs = x.shape
        var perm: [Int] = Array((0..<xs.count).reversed())
        if let p = try ctx.node.ints("perm") {
            guard p.count == xs.count else { throw fail(.shapeMismatch, "Transpose perm \(p) does not match rank \(xs.count)") }
            perm = []
            for a in p { perm.append(try normalizeAxis(a, rank: xs.count, "perm entry")) }
            guard Set(perm).count == perm.count else { throw fail(.invalidModel, "Transpose perm \(p) is not a permutation") }
        }
        let outShape = perm.map { xs[$0] }
        if let t = x.constant {
            try ctx.checkConstant(outShape)
            let inStrides = denseStrides(xs)
            let permuted = perm.map { inStrides[$0] }
            return [.constant(try t.gathered(sourceIndices(strides: permuted, outShape), shape: outShape))]
        }
        try ctx.requireRuntimeType(x, 0)
        return [try ctx.emit(TransposeStep(shape: xs, permutation: perm), inputs: [x], outputShape: outShape, dtype: x.dtype)]
    }

    static func concat(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        var parts: [BoundValue] = []
        for v in ctx.inputs { if let v { parts.append(v) } }
        guard let first = parts.first else { throw fail(.invalidModel, "Concat needs at least one input") }
        let rank = first.shape.count
        guard let rawAxis = try ctx.node.int("axis") else { throw fail(.invalidModel, "Concat needs the axis attribute") }
        let axis = try normalizeAxis(rawAxis, rank: rank)
        var outShape = first.shape
        outShape[axis] = 0
        for p in parts {
            var a = p.shape, b = first.shape
            guard a.count == rank else { throw fail(.shapeMismatch, "Concat inputs have different ranks: \(describe(first.shape)) and \(describe(p.shape))") }
            a[axis] = 0
            b[axis] = 0
            guard a == b else { throw fail(.shapeMismatch, "Concat inputs \(describe(first.shape)) and \(describe(p.shape)) differ outside axis \(axis)") }
            outShape[axis] += p.shape[axis]
        }
        let outer = first.shape[..<axis].reduce(1, *)
        let inner = first.shape[(axis + 1)...].reduce(1, *)
        if parts.allSatisfy({ $0.constant != nil }) {
            try ctx.checkConstant(outShape)
            let tensors = parts.map { $0.constant! }
            let floatOut = tensors.contains { if case .floats = $0.storage { return true } else { return false } }
            if floatOut {
                var out: [Float] = []
                out.reserveCapacity(try elementCount(outShape))
                let values = tensors.map(\.floatValues)
                for o in 0..<outer {
                    for (t, v) in zip(tensors, values) {
                        let block = t.shape[axis] * inner
                        out.append(contentsOf: v[(o * block)..<((o + 1) * block)])
                    }
                }
                return [.constant(try Tensor(floats: out, shape: outShape, dtype: tensors[0].dtype))]
            }
            var out: [Int64] = []
            let values = tensors.map(\.intValues)
            for o in 0..<outer {
                for (t, v) in zip(tensors, values) {
                    let block = t.shape[axis] * inner
                    out.append(contentsOf: v[(o * block)..<((o + 1) * block)])
                }
            }
            return [.constant(Tensor(ints: out, shape: outShape, dtype: tensors[0].dtype))]
        }
        for (i, p) in parts.enumerated() { try ctx.requireRuntimeType(p, i) }
        return [try ctx.emit(ConcatStep(axisSizes: parts.map { $0.shape[axis] }, outer: outer, inner: inner),
                                     inputs: parts, outputShape: outShape, dtype: first.dtype)]
    }

    static func slice(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        let xs = x.shape
        let starts: [Int64], ends: [Int64]
        var axes: [Int64]? = nil, steps: [Int64]? = nil
        if ctx.opset < 10 {
            guard let s = try ctx.node.ints("starts"), let e = try ctx.node.ints("ends") else {
                throw fail(.invalidModel, "Slice needs starts and ends")
            }
            starts = s
            ends = e
            axes = try ctx.node.ints("axes")
        } else {
            starts = try ctx.constantInput(1, "Slice starts").intValues
            ends = try ctx.constantInput(2, "Slice ends").intValues
            axes = try ctx.optionalConstantInput(3, "Slice axes")?.intValues
            steps = try ctx.optionalConstantInput(4, "Slice steps")?.intValues
        }
        guard starts.count == ends.count, axes == nil || axes!.count == starts.count,
              steps == nil || steps!.count == starts.count else {
            throw fail(.invalidModel, "Slice starts, ends, axes and steps must have the same length")
        }
        var begin = [Int](repeating: 0, count: xs.count)
        var step = [Int](repeating: 1, count: xs.count)
        var outShape = xs
        var seen = Set<Int>()
        for j in 0..<starts.count {
            let axis = try normalizeAxis(axes?[j] ?? Int64(j), rank: xs.count)
            guard seen.insert(axis).inserted else { throw fail(.invalidModel, "Slice axes repeat axis \(axis)") }
            let dim = Int64(xs[axis])
            let rawStep = steps?[j] ?? 1
            guard rawStep != 0 else { throw fail(.invalidModel, "Slice step must not be 0") }
            // A step longer than the axis selects at most one element, as a step of the axis
            // length does; clamping keeps -step and step * stride from overflowing.
            let st = min(max(rawStep, -max(dim, 1)), max(dim, 1))
            var s = starts[j], e = ends[j]
            if s < 0 { s += dim }
            if e < 0 { e += dim }
            let count: Int64
            if st > 0 {
                s = min(max(s, 0), dim)
                e = min(max(e, 0), dim)
                count = e > s ? (e - s + st - 1) / st : 0
            } else {
                s = min(max(s, -1), dim - 1)
                e = min(max(e, -1), dim - 1)
                count = s > e ? (s - e + (-st) - 1) / (-st) : 0
            }
            begin[axis] = Int(max(s, 0))
            step[axis] = Int(st)
            outShape[axis] = Int(count)
        }
        if let t = x.constant {
            try ctx.checkConstant(outShape)
            let dense = denseStrides(xs)
            let strides = zip(dense, step).map { $0 * $1 }
            let base = zip(begin, dense).reduce(0) { $0 + $1.0 * $1.1 }
            return [.constant(try t.gathered(sourceIndices(strides: strides, outShape, base: base), shape: outShape))]
        }
        try ctx.requireRuntimeType(x, 0)
        return [try ctx.emit(SliceStep(shape: xs, starts: begin, steps: step, outShape: outShape),
                                     inputs: [x], outputShape: outShape, dtype: x.dtype)]
    }

    static func pad(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        let xs = x.shape
        let mode = try ctx.node.string("mode") ?? "constant"
        guard mode == "constant" else { throw fail(.unsupported, "Pad mode '\(mode)' is not supported (only 'constant')") }
        var rawPads: [Int64]
        var value: Float = 0
        var axes: [Int] = Array(0..<xs.count)
        var runtimeValue: BoundValue? = nil
        if ctx.opset < 11 {
            rawPads = try ctx.node.ints("pads") ?? []
            value = try ctx.node.float("value", default: 0)
        } else {
            rawPads = try ctx.constantInput(1, "Pad pads").intValues
            if RuntimeParameters.anyRuntime(ctx, 2) {
                runtimeValue = try RuntimeParameters.scalarParameter(ctx, 2, "Pad constant_value")
            } else if let v = try ctx.optionalConstantInput(2, "Pad constant_value") {
                guard let f = v.floatValues.first, v.count == 1 else { throw fail(.invalidModel, "Pad constant_value must be a scalar") }
                value = f
            }
            if let a = try ctx.optionalConstantInput(3, "Pad axes") {
                axes = []
                for v in a.intValues { axes.append(try normalizeAxis(v, rank: xs.count)) }
            }
        }
        guard rawPads.count == 2 * axes.count else {
            throw fail(.invalidModel, "Pad pads has \(rawPads.count) values, expected \(2 * axes.count) for input \(describe(xs))")
        }
        var begin = [Int](repeating: 0, count: xs.count)
        var outShape = xs
        for (j, axis) in axes.enumerated() {
            let b = try checkedInt(rawPads[j], "pad"), e = try checkedInt(rawPads[j + axes.count], "pad")
            begin[axis] = b
            outShape[axis] = xs[axis] + b + e
            guard outShape[axis] >= 0 else { throw fail(.shapeMismatch, "Pad pads \(rawPads) crop more than input \(describe(xs)) holds") }
        }
        if let v = runtimeValue {
            try ctx.requireRuntimeType(x, 0)
            guard x.dtype == .float32 else { throw fail(.unsupported, "Pad with a runtime constant_value needs a FLOAT input, got \(x.dtype)") }
            return [try ctx.emit(RuntimeValuePadStep(shape: xs, padsBegin: begin, outShape: outShape),
                                 inputs: [x, v], outputShape: outShape)]
        }
        if let t = x.constant {
            try ctx.checkConstant(outShape)
            let dense = denseStrides(xs)
            let total = try elementCount(outShape)
            var src = [Int](repeating: -1, count: total)
            var index = [Int](repeating: 0, count: xs.count)
            for k in 0..<total {
                var off = 0
                var inside = true
                for d in 0..<xs.count {
                    let i = index[d] - begin[d]
                    if i < 0 || i >= xs[d] { inside = false; break }
                    off += i * dense[d]
                }
                src[k] = inside ? off : -1
                var d = xs.count - 1
                while d >= 0 { index[d] += 1; if index[d] < outShape[d] { break }; index[d] = 0; d -= 1 }
            }
            if case .ints(let v) = t.storage {
                let fill = Tensor.int64(value)
                return [.constant(Tensor(ints: src.map { $0 < 0 ? fill : v[$0] }, shape: outShape, dtype: t.dtype))]
            }
            let v = t.floatValues
            return [.constant(try Tensor(floats: src.map { $0 < 0 ? value : v[$0] }, shape: outShape, dtype: t.dtype))]
        }
        try ctx.requireRuntimeType(x, 0)
        return [try ctx.emit(PadStep(shape: xs, padsBegin: begin, outShape: outShape, value: value),
                                     inputs: [x], outputShape: outShape, dtype: x.dtype)]
    }

    /// Expand: broadcasts the input to shape `broadcast(input, shape)` (numpy rules).
    static func expand(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        var target: [Int] = []
        for d in try ctx.constantInput(1, "Expand shape").intValues {
            guard d >= 0 else { throw fail(.invalidModel, "Expand shape has a negative dimension \(d)") }
            target.append(try checkedInt(d, "Expand dimension"))
        }
        let outShape = try broadcastShape(x.shape, target)
        if let t = x.constant {
            try ctx.checkConstant(outShape)
            return [.constant(try t.gathered(broadcastSourceIndices(t.shape, to: outShape), shape: outShape))]
        }
        try ctx.requireRuntimeType(x, 0)
        // An exact broadcast copy: select(true, x, x) with x read through broadcast strides.
        let strides = stridesForBroadcast(x.shape, to: outShape)
        let zero = [Int](repeating: 0, count: outShape.count)
        let one = try Tensor(floats: [1], shape: [])
        return [try ctx.emit(SelectStep(cStrides: zero, xStrides: strides, yStrides: strides, outShape: outShape),
                                     inputs: [.constant(one), x, x], outputShape: outShape, dtype: x.dtype)]
    }

    static func gather(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        let xs = x.shape
        let indicesTensor = try ctx.constantInput(1, "Gather indices")
        guard !xs.isEmpty else { throw fail(.shapeMismatch, "Gather data must have rank >= 1") }
        let axis = try normalizeAxis(try ctx.node.int("axis", default: 0), rank: xs.count)
        let dim = xs[axis]
        var indices: [Int] = []
        for v in indicesTensor.intValues {
            guard v >= -Int64(dim), v < Int64(dim) else {
                throw fail(.shapeMismatch, "Gather index \(v) is out of range for axis \(axis) of size \(dim)")
            }
            indices.append(Int(v < 0 ? v + Int64(dim) : v))
        }
        let outShape = Array(xs[..<axis]) + indicesTensor.shape + Array(xs[(axis + 1)...])
        if let t = x.constant {
            try ctx.checkConstant(outShape)
            let outer = xs[..<axis].reduce(1, *), inner = xs[(axis + 1)...].reduce(1, *)
            var src: [Int] = []
            src.reserveCapacity(outer * indices.count * inner)
            for o in 0..<outer { for i in indices { for j in 0..<inner { src.append((o * dim + i) * inner + j) } } }
            return [.constant(try t.gathered(src, shape: outShape))]
        }
        try ctx.requireRuntimeType(x, 0)
        return [try ctx.emit(GatherStep(shape: xs, axis: axis, indices: indices), inputs: [x],
                                     outputShape: outShape, dtype: x.dtype)]
    }
}
