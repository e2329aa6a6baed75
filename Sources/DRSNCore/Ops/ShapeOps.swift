/// Operators that only change how a tensor's elements are viewed (Identity, Dropout,
/// Reshape, Flatten, Squeeze, Unsqueeze: runtime aliases, no copy) and operators that
/// produce shape data (Shape, ConstantOfShape, Constant), which are always constants at
/// bind time.
enum ShapeOps {
    /// The same data under a new shape: constants are re-labelled, runtime values aliased.
    static func view(_ x: BoundValue, _ shape: [Int]) -> BoundValue {
        switch x {
        case .constant(let t): return .constant(t.reshaped(shape))
        case .runtime(var r):
            r.shape = shape
            return .runtime(r)
        }
    }

    static func identity(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        [try ctx.input(0)]
    }

    /// Dropout in inference: the output is the input (ratio is ignored). The optional mask
    /// output is what onnxruntime writes in inference: all true from opset 12 (bool), all
    /// false in opsets 10-11 (bool) and all 0.0 before opset 10 (where it has the input's
    /// type). A mask nothing reads costs nothing: IdentityElimination drops the node, or
    /// dead step elimination its step.
    static func dropout(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        if let t = try ctx.optionalConstantInput(2, "Dropout training_mode"), t.intValues.first ?? 0 != 0 {
            throw fail(.unsupported, "Dropout with training_mode=true is not supported (inference only)")
        }
        let x = try ctx.input(0)
        guard ctx.node.outputs.count > 1, !ctx.node.outputs[1].isEmpty else { return [x] }
        return [x, try dropoutMask(like: x, ctx)]
    }

    /// A tensor of x's shape filled with the inference mask value of `dropout`.
    static func dropoutMask(like x: BoundValue, _ ctx: OpContext) throws(DRSNError) -> BoundValue {
        let value: Float = ctx.opset >= 12 ? 1 : 0
        let dtype: DType = ctx.opset >= 10 ? .bool : x.dtype
        let shape = x.shape
        let n = try elementCount(shape)
        if x.constant != nil {
            try ctx.checkConstant(shape)
            if dtype.isFloatingPoint {
                return .constant(try Tensor(floats: [Float](repeating: value, count: n), shape: shape, dtype: dtype))
            }
            return .constant(Tensor(ints: [Int64](repeating: Int64(value), count: n), shape: shape, dtype: dtype))
        }
        // A broadcast of one constant element: select(true, v, v) with every operand read
        // through zero strides (as Expand does).
        let zero = [Int](repeating: 0, count: shape.count)
        let one = try Tensor(floats: [1], shape: []), v = try Tensor(floats: [value], shape: [])
        return try ctx.emit(SelectStep(cStrides: zero, xStrides: zero, yStrides: zero, outShape: shape),
                            inputs: [.constant(one), .constant(v), .constant(v)], outputShape: shape, dtype: dtype)
    }

    static func flatten(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        let xs = x.shape
        let raw = try ctx.node.int("axis", default: 1)
        let r = Int64(xs.count)
        // Negative axes count from the end since Flatten-11; before, the axis is in [0, rank].
        let lowest = ctx.opset < 11 ? 0 : -r
        guard raw >= lowest, raw <= r else {
            throw fail(.invalidModel, "Flatten axis \(raw) is out of range for rank \(xs.count) at opset \(ctx.opset) (allowed: \(lowest) to \(r))")
        }
        let axis = Int(raw < 0 ? raw + r : raw)
        return [view(x, [xs[..<axis].reduce(1, *), xs[axis...].reduce(1, *)])]
    }

    static func reshape(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        let xs = x.shape
        let spec = try ctx.constantInput(1, "Reshape shape").intValues
        let allowZero = try ctx.node.int("allowzero", default: 0) != 0
        var out: [Int] = []
        var inferred: Int? = nil
        for (i, d) in spec.enumerated() {
            if d == 0 && !allowZero {
                guard i < xs.count else { throw fail(.shapeMismatch, "Reshape shape \(spec) copies dimension \(i) that input \(describe(xs)) does not have") }
                out.append(xs[i])
            } else if d == -1 {
                guard inferred == nil else { throw fail(.invalidModel, "Reshape shape \(spec) has more than one -1") }
                inferred = i
                out.append(1)
            } else {
                guard d >= 0 else { throw fail(.invalidModel, "Reshape shape \(spec) has a negative dimension") }
                out.append(try checkedInt(d, "Reshape dimension"))
            }
        }
        let total = try elementCount(xs)
        if let i = inferred {
            let rest = try elementCount(out)
            guard rest > 0, total % rest == 0 else {
                throw fail(.shapeMismatch, "cannot reshape input of shape \(describe(xs)) to \(spec)")
            }
            out[i] = total / rest
        }
        guard try elementCount(out) == total else {
            throw fail(.shapeMismatch, "cannot reshape input of shape \(describe(xs)) (\(total) elements) to \(describe(out))")
        }
        try ctx.checkShape(out)
        return [view(x, out)]
    }

    /// Axes from the attribute (opset < 13) or the optional input 1.
    static func axesArgument(_ ctx: OpContext) throws(DRSNError) -> [Int64]? {
        if ctx.opset < 13 { return try ctx.node.ints("axes") }
        return try ctx.optionalConstantInput(1, "axes")?.intValues
    }

    static func squeeze(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        let xs = x.shape
        var remove = [Bool](repeating: false, count: xs.count)
        if let axes = try axesArgument(ctx) {
            for a in axes {
                let i = try normalizeAxis(a, rank: xs.count)
                guard xs[i] == 1 else { throw fail(.shapeMismatch, "cannot squeeze axis \(a) of size \(xs[i]) in shape \(describe(xs))") }
                remove[i] = true
            }
        } else {
            for (i, d) in xs.enumerated() where d == 1 { remove[i] = true }
        }
        return [view(x, xs.enumerated().filter { !remove[$0.offset] }.map(\.element))]
    }

    static func unsqueeze(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        let xs = x.shape
        guard let axes = try axesArgument(ctx) else { throw fail(.invalidModel, "Unsqueeze needs axes") }
        let rank = xs.count + axes.count
        var insert = [Bool](repeating: false, count: rank)
        for a in axes {
            let i = try normalizeAxis(a, rank: rank)
            guard !insert[i] else { throw fail(.invalidModel, "Unsqueeze axes \(axes) repeat an axis") }
            insert[i] = true
        }
        var out: [Int] = []
        var j = 0
        for i in 0..<rank {
            if insert[i] { out.append(1) } else { out.append(xs[j]); j += 1 }
        }
        return [view(x, out)]
    }

    static func shape(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let xs = try ctx.input(0).shape
        let r = xs.count
        func clampIndex(_ v: Int64) -> Int {
            let i = v < 0 ? Int(max(v + Int64(r), 0)) : Int(min(v, Int64(r)))
            return i
        }
        let start = clampIndex(try ctx.node.int("start", default: 0))
        let end = clampIndex(try ctx.node.int("end", default: Int64(r)))
        let dims = start < end ? Array(xs[start..<end]) : []
        return [.constant(Tensor(ints: dims.map { Int64($0) }, shape: [dims.count]))]
    }

    static func constantOfShape(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let spec = try ctx.constantInput(0, "ConstantOfShape shape").intValues
        var shape: [Int] = []
        for d in spec {
            guard d >= 0 else { throw fail(.invalidModel, "ConstantOfShape shape \(spec) has a negative dimension") }
            shape.append(try checkedInt(d, "ConstantOfShape dimension"))
        }
        try ctx.checkConstant(shape)
        let n = try elementCount(shape)
        let value = try ctx.node.tensor("value")
        if let value, case .ints(let v) = value.storage {
            return [.constant(Tensor(ints: [Int64](repeating: v.first ?? 0, count: n), shape: shape, dtype: value.dtype))]
        }
        let f = value?.floatValues.first ?? 0
        // Filled in place: no temporary array as large as the constant.
        guard let buffer = AlignedBuffer(count: n) else {
            throw fail(.outOfMemory, "cannot allocate \(n) floats for a constant")
        }
        if f != 0 || f.sign == .minus { buffer.pointer.update(repeating: f, count: n) }
        return [.constant(Tensor(buffer: buffer, shape: shape, dtype: value?.dtype ?? .float32))]
    }

    static func constant(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        [.constant(try constantValue(of: ctx.node))]
    }

    /// The value of a Constant node (value, value_float(s), value_int(s)).
    static func constantValue(of node: Node) throws(DRSNError) -> Tensor {
        if let t = try node.tensor("value") { return t }
        if let f = try node.float("value_float") { return try Tensor(floats: [f], shape: []) }
        if let v = try node.floats("value_floats") { return try Tensor(floats: v, shape: [v.count]) }
        if let i = try node.int("value_int") { return Tensor(ints: [i], shape: []) }
        if let v = try node.ints("value_ints") { return Tensor(ints: v, shape: [v.count]) }
        throw fail(.unsupported, "Constant node without a supported value attribute (value, value_float(s), value_int(s))")
    }
}
