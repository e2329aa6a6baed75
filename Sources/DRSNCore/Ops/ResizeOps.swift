import DRSNKernels

/// Resize (opset 10, 11, 13, 18, 19) and Upsample (opset 7-9): nearest and linear
/// interpolation of the two innermost dims (NCHW images, NCW signals, [H, W]), from constant
/// scales or sizes. Refused with a clear error: cubic mode, antialias, tf_crop_and_resize,
/// resizing any other dim, runtime scales or sizes.
enum ResizeOps {
    static func resize(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        let rank = x.shape.count
        guard rank >= 1 else { throw fail(.shapeMismatch, "Resize input must have rank >= 1, got a scalar") }
        let linear = try interpolation(ctx, "Resize")
        var coordinates = ResizeCoordinateMode.asymmetric
        var rounding = ResizeNearestMode.simple
        var axes = Array(0..<rank)
        var policy = "stretch"
        var scales: [Float]? = nil, sizes: [Int64]? = nil
        if ctx.opset < 11 {
            scales = try ctx.constantInput(1, "Resize scales").floatValues
        } else {
            let name = try ctx.node.string("coordinate_transformation_mode") ?? "half_pixel"
            if name == "tf_crop_and_resize" {
                throw fail(.unsupported, "Resize coordinate_transformation_mode 'tf_crop_and_resize' is not supported")
            }
            guard let c = ResizeCoordinateMode(rawValue: name) else {
                throw fail(.invalidModel, "Resize coordinate_transformation_mode '\(name)' is not an ONNX mode")
            }
            coordinates = c
            let nearestName = try ctx.node.string("nearest_mode") ?? "round_prefer_floor"
            guard let r = ResizeNearestMode(rawValue: nearestName), r != .simple else {
                throw fail(.invalidModel, "Resize nearest_mode '\(nearestName)' is not an ONNX mode")
            }
            rounding = r
            if ctx.opset >= 18 {
                if try ctx.node.int("antialias", default: 0) != 0 {
                    throw fail(.unsupported, "Resize with antialias = 1 is not supported")
                }
                policy = try ctx.node.string("keep_aspect_ratio_policy") ?? "stretch"
                guard ["stretch", "not_larger", "not_smaller"].contains(policy) else {
                    throw fail(.invalidModel, "Resize keep_aspect_ratio_policy '\(policy)' is not an ONNX policy")
                }
                if let a = try ctx.node.ints("axes") {
                    axes = []
                    for v in a { axes.append(try normalizeAxis(v, rank: rank, "Resize axis")) }
                    guard Set(axes).count == axes.count else { throw fail(.invalidModel, "Resize axes \(a) repeat an axis") }
                }
            }
            // roi (input 1) only matters for tf_crop_and_resize.
            if let s = try ctx.optionalConstantInput(2, "Resize scales"), s.count > 0 { scales = s.floatValues }
            if let z = try ctx.optionalConstantInput(3, "Resize sizes"), z.count > 0 { sizes = z.intValues }
        }
        let xs = x.shape
        var scale = [Float](repeating: 1, count: rank)
        var outShape = xs
        switch (scales, sizes) {
        case (let s?, nil):
            guard s.count == axes.count else {
                throw fail(.invalidModel, "Resize has \(s.count) scales for \(axes.count) axes of input \(describe(xs))")
            }
            for (j, a) in axes.enumerated() {
                guard s[j] > 0, s[j].isFinite else { throw fail(.invalidModel, "Resize scale \(s[j]) must be positive") }
                scale[a] = s[j]
                outShape[a] = try scaledLength(xs[a], s[j], rounded: false)
            }
        case (nil, let z?):
            guard z.count == axes.count else {
                throw fail(.invalidModel, "Resize has \(z.count) sizes for \(axes.count) axes of input \(describe(xs))")
            }
            for (j, a) in axes.enumerated() {
                let n = try checkedInt(z[j], "Resize size")
                guard n >= 0 else { throw fail(.invalidModel, "Resize size \(n) is negative") }
                guard xs[a] > 0 || n == 0 else {
                    throw fail(.shapeMismatch, "Resize cannot make axis \(a) of size 0 into size \(n)")
                }
                outShape[a] = n
                scale[a] = xs[a] == 0 ? 1 : Float(n) / Float(xs[a])
            }
            if policy != "stretch" {
                // One scale for every resized axis: the smallest (not_larger) or largest (not_smaller).
                var common = policy == "not_larger" ? Float.greatestFiniteMagnitude : Float.leastNormalMagnitude
                for a in axes { common = policy == "not_larger" ? min(common, scale[a]) : max(common, scale[a]) }
                for a in axes {
                    scale[a] = common
                    outShape[a] = try scaledLength(xs[a], common, rounded: true)
                }
            }
        case (nil, nil):
            throw fail(.invalidModel, "Resize needs scales or sizes")
        case (.some, .some):
            throw fail(.invalidModel, "Resize takes scales or sizes, not both")
        }
        return try emit(ctx, x, linear: linear, scale: scale, outShape: outShape, coordinates: coordinates,
                        rounding: rounding, op: "Resize")
    }

    /// Upsample (opset 7 and 8: attribute scales; 9: input scales), deprecated since opset 10.
    /// Resize-10 semantics: asymmetric coordinates, nearest truncates; scales must be >= 1.
    static func upsample(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        guard ctx.opset < 10 else {
            throw fail(.unsupported, "Upsample is deprecated since opset 10 (opset \(ctx.opset)); use Resize")
        }
        let x = try ctx.input(0)
        let xs = x.shape
        guard !xs.isEmpty else { throw fail(.shapeMismatch, "Upsample input must have rank >= 1, got a scalar") }
        let linear = try interpolation(ctx, "Upsample")
        let scales: [Float]
        if ctx.opset < 9 {
            guard let s = try ctx.node.floats("scales") else { throw fail(.invalidModel, "Upsample needs the scales attribute") }
            scales = s
        } else {
            scales = try ctx.constantInput(1, "Upsample scales").floatValues
        }
        guard scales.count == xs.count else {
            throw fail(.invalidModel, "Upsample has \(scales.count) scales for input \(describe(xs))")
        }
        var outShape = xs
        for (a, s) in scales.enumerated() {
            guard s >= 1, s.isFinite else { throw fail(.invalidModel, "Upsample scale \(s) must be >= 1") }
            outShape[a] = try scaledLength(xs[a], s, rounded: false)
        }
        return try emit(ctx, x, linear: linear, scale: scales, outShape: outShape, coordinates: .asymmetric,
                        rounding: .simple, op: "Upsample")
    }

    /// The mode attribute: false for nearest (the default), true for linear.
    private static func interpolation(_ ctx: OpContext, _ op: String) throws(DRSNError) -> Bool {
        let mode = try ctx.node.string("mode") ?? "nearest"
        switch mode {
        case "nearest": return false
        case "linear": return true
        case "cubic": throw fail(.unsupported, "\(op) mode 'cubic' is not supported (nearest and linear are)")
        default: throw fail(.invalidModel, "\(op) mode '\(mode)' is not an ONNX mode")
        }
    }

    /// length * scale in float32 (as onnxruntime computes it), truncated, or rounded half away
    /// from zero (keep_aspect_ratio_policy), checked to stay a plausible dimension.
    private static func scaledLength(_ length: Int, _ scale: Float, rounded: Bool) throws(DRSNError) -> Int {
        let v = Float(length) * scale
        let r = rounded ? v.rounded(.toNearestOrAwayFromZero) : v.rounded(.towardZero)
        guard r.isFinite, r >= 0, r < Float(1 << 40) else {
            throw fail(.limitExceeded, "resizing a dimension of \(length) by \(scale) gives \(v) elements")
        }
        return Int(r)
    }

    /// Checks that only the two innermost dims change, builds the tables and either computes a
    /// constant input now (by the kernel a run uses) or emits a `ResizeStep`.
    private static func emit(_ ctx: OpContext, _ x: BoundValue, linear: Bool, scale: [Float], outShape: [Int],
                             coordinates: ResizeCoordinateMode, rounding: ResizeNearestMode,
                             op: String) throws(DRSNError) -> [BoundValue] {
        let xs = x.shape, rank = xs.count
        let spatial = rank >= 2 ? rank - 2 : 0
        // The output's size first: every table below is as long as an output dim.
        try ctx.checkShape(outShape, "the \(op) output")
        for d in 0..<spatial {
            let unchanged: Bool
            if linear {
                unchanged = scale[d] == 1
            } else if outShape[d] != xs[d] {
                unchanged = false
            } else {
                let map = ResizeTables.nearest(inLength: xs[d], outLength: outShape[d], scale: scale[d],
                                               coordinates: coordinates, rounding: rounding)
                unchanged = map == Array(0..<xs[d])
            }
            guard unchanged else {
                throw fail(.unsupported, "\(op) of dim \(d) (scale \(scale[d]), \(xs[d]) -> \(outShape[d])) is not supported: only the two innermost dims may be resized\(linear ? " in linear mode" : "")")
            }
        }
        let inH = rank >= 2 ? xs[rank - 2] : 1, outH = rank >= 2 ? outShape[rank - 2] : 1
        let params = ResizeParams(planes: xs[..<spatial].reduce(1, *), inHeight: inH, inWidth: xs[rank - 1],
                                  outHeight: outH, outWidth: outShape[rank - 1])
        let hScale = rank >= 2 ? scale[rank - 2] : 1, wScale = scale[rank - 1]
        var tables: ResizeTables
        if linear {
            let r = ResizeTables.linear(inLength: inH, outLength: outH, scale: hScale, coordinates: coordinates)
            let c = ResizeTables.linear(inLength: params.inWidth, outLength: params.outWidth, scale: wScale,
                                        coordinates: coordinates)
            tables = ResizeTables(linear: true, rowIndex: r.index, colIndex: c.index, rowWeight: r.weight, colWeight: c.weight)
        } else {
            tables = ResizeTables(
                linear: false,
                rowIndex: ResizeTables.nearest(inLength: inH, outLength: outH, scale: hScale, coordinates: coordinates,
                                               rounding: rounding),
                colIndex: ResizeTables.nearest(inLength: params.inWidth, outLength: params.outWidth, scale: wScale,
                                               coordinates: coordinates, rounding: rounding))
        }
        let step = ResizeStep(params: params, tables: tables)
        if let t = x.constant {
            try ctx.checkConstant(outShape)
            guard t.dtype.isFloatingPoint else { throw fail(.unsupported, "\(op) of a constant \(t.dtype) tensor is not supported") }
            let v = evaluateConstant(step, t.floatValues, count: try elementCount(outShape))
            return [.constant(try Tensor(floats: v, shape: outShape, dtype: t.dtype))]
        }
        try ctx.requireRuntimeType(x, 0)
        return [try ctx.emit(step, inputs: [x], outputShape: outShape, dtype: x.dtype)]
    }

    /// The step's kernel run over a constant input.
    private static func evaluateConstant(_ step: ResizeStep, _ input: [Float], count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        input.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { o in
                guard let ip = i.baseAddress, let op = o.baseAddress else { return }
                step.compute(input: ip, output: op, rows: 0..<step.params.outRows)
            }
        }
        return out
    }
}
