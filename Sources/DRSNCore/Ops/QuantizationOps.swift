import DRSNKernels

/// QuantizeLinear, DequantizeLinear (ONNX semantics of opsets 10 to 28: per tensor and per
/// axis, 8- and 16-bit integer codes) and QLinearConv. Quantized runtime tensors hold their
/// integer codes as Float (`QuantizedType`); constants hold them as integers.
enum QuantizationOps {
    static func quantizeLinear(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        if ctx.opset >= 23, let raw = try ctx.node.int("precision"), raw != 0, raw != Int64(DType.float32.rawValue) {
            throw fail(.unsupported, "QuantizeLinear with precision \(DType.onnxName(Int32(truncatingIfNeeded: raw))) is not supported (drsn computes x / scale in FLOAT)")
        }
        let q = try QuantizationParameters.read(ctx, scaleIndex: 1, zeroPointIndex: 2, shape: x.shape, codeType: nil,
                                                defaultType: .uint8)
        guard let (lo, hi) = QuantizedType.range(q.dtype) else { throw QuantizedType.unsupported("QuantizeLinear", q.dtype.rawValue) }
        let (outer, channels, inner) = q.planes(x.shape)
        if let t = x.constant {
            try ctx.checkConstant(t.shape)
            guard t.dtype.isFloatingPoint || t.dtype == .int32 else {
                throw fail(.unsupported, "QuantizeLinear input must be floating point or INT32, got \(t.dtype)")
            }
            var v = t.floatValues
            v.withUnsafeMutableBufferPointer { b in
                guard let p = b.baseAddress else { return }
                for plane in 0..<(outer * channels) {
                    let c = plane % channels
                    activeKernels.quantizeLinear(input: p + plane * inner, codes: p + plane * inner, values: nil, count: inner,
                                                 scale: q.scales[c], zeroPoint: q.zeroPoints[c], lo: lo, hi: hi)
                }
            }
            return [.constant(Tensor(ints: v.map { Int64($0) }, shape: t.shape, dtype: q.dtype))]
        }
        guard x.dtype == .float32 else { throw fail(.unsupported, "QuantizeLinear input must be FLOAT, got \(x.dtype)") }
        let step = QuantizeLinearStep(dequantize: false, outer: outer, channels: channels, inner: inner,
                                      scales: q.scales, zeroPoints: q.zeroPoints, lo: lo, hi: hi)
        return [try ctx.emit(step, inputs: [x], outputShape: x.shape, dtype: q.dtype)]
    }

    static func dequantizeLinear(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        if ctx.opset >= 23, let raw = try ctx.node.int("output_dtype"), raw != 0, raw != Int64(DType.float32.rawValue) {
            throw fail(.unsupported, "DequantizeLinear to \(DType.onnxName(Int32(truncatingIfNeeded: raw))) is not supported (FLOAT is)")
        }
        let q = try QuantizationParameters.read(ctx, scaleIndex: 1, zeroPointIndex: 2, shape: x.shape, codeType: x.dtype,
                                                defaultType: x.dtype)
        let (outer, channels, inner) = q.planes(x.shape)
        if let t = x.constant {
            try ctx.checkConstant(t.shape)
            let v = t.intValues
            var out = [Float](repeating: 0, count: v.count)
            for i in 0..<v.count {
                let c = (i / inner) % channels
                out[i] = Float(v[i] - Int64(q.zeroPoints[c])) * q.scales[c]
            }
            return [.constant(try Tensor(floats: out, shape: t.shape))]
        }
        guard QuantizedType.isCode(x.dtype) else {
            throw fail(.unsupported, "DequantizeLinear of a runtime \(x.dtype) tensor is not supported (runtime codes are UINT8, INT8, UINT16 or INT16)")
        }
        let step = QuantizeLinearStep(dequantize: true, outer: outer, channels: channels, inner: inner,
                                      scales: q.scales, zeroPoints: q.zeroPoints)
        return [try ctx.emit(step, inputs: [x], outputShape: x.shape)]
    }

    /// QLinearConv: x (runtime codes), x_scale, x_zero_point, w (constant), w_scale,
    /// w_zero_point (per tensor or per output channel), y_scale, y_zero_point, [B (int32)].
    static func qlinearConv(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        guard x.constant == nil, QuantizedType.isCode(x.dtype) else {
            throw fail(.unsupported, "QLinearConv input must be a runtime UINT8 or INT8 tensor, got \(x.constant == nil ? "" : "a constant ")\(x.dtype)")
        }
        let w = try ctx.constantInput(3, "QLinearConv weights")
        let (p, outShape) = try ConvOps.geometry(ctx, input: x.shape, weights: w.shape)
        let m = p.outChannels
        let xq = try QuantizationParameters.read(ctx, scaleIndex: 1, zeroPointIndex: 2, shape: x.shape, codeType: x.dtype,
                                                 defaultType: x.dtype, fixedAxis: 1)
        let wq = try QuantizationParameters.read(ctx, scaleIndex: 4, zeroPointIndex: 5, shape: w.shape, codeType: w.dtype,
                                                 defaultType: w.dtype, fixedAxis: 0)
        let yzp = try ctx.optionalConstantInput(7, "QLinearConv y_zero_point")
        let yq = try QuantizationParameters.read(ctx, scaleIndex: 6, zeroPointIndex: 7, shape: outShape, codeType: nil,
                                                 defaultType: yzp?.dtype ?? .uint8, fixedAxis: 1)
        for (what, t) in [("x", xq.dtype), ("w", wq.dtype), ("y", yq.dtype)] where t != .uint8 && t != .int8 {
            throw fail(.unsupported, "QLinearConv \(what) of type \(t) is not supported (UINT8 or INT8)")
        }
        guard xq.scales.count == 1, yq.scales.count == 1 else {
            throw fail(.invalidModel, "QLinearConv x and y scales must be scalars")
        }
        guard wq.scales.count == 1 || wq.scales.count == m else {
            throw fail(.shapeMismatch, "QLinearConv has \(wq.scales.count) weight scales for \(m) output channels")
        }
        let taps = p.kernelHeight * p.kernelWidth, pairs = (p.inChannels / p.groups + 1) / 2
        guard taps * pairs < 16_000 else {
            throw fail(.unsupported, "QLinearConv with \(p.inChannels / p.groups * taps) products per output exceeds the exact int32 accumulation drsn guarantees (32,000)")
        }
        var bias = [Int32](repeating: 0, count: m)
        if let b = try ctx.optionalConstantInput(8, "QLinearConv bias") {
            guard b.dtype == .int32, b.count == m else {
                throw fail(.shapeMismatch, "QLinearConv bias must be INT32 of shape [\(m)], got \(b.dtype) \(describe(b.shape))")
            }
            bias = b.intValues.map { Int32(truncatingIfNeeded: $0) }
        }
        let perChannel = wq.scales.count == m && m > 1
        var multiplier = [Float](repeating: 0, count: m)
        var adjusted = w.intValues.map { Int32(truncatingIfNeeded: $0) }
        let perOut = adjusted.count / max(m, 1)
        for c in 0..<m {
            let k = perChannel ? c : 0
            multiplier[c] = xq.scales[0] * wq.scales[k] / yq.scales[0]
            let zw = Int32(wq.zeroPoints[k])
            for i in (c * perOut)..<((c + 1) * perOut) { adjusted[i] -= zw }
        }
        var packed = [Int32](repeating: 0, count: activeKernels.qconvPackedWeightsCount(p))
        adjusted.withUnsafeBufferPointer { a in
            packed.withUnsafeMutableBufferPointer { o in
                if let ab = a.baseAddress, let ob = o.baseAddress { activeKernels.packQConvWeights(p, weights: ab, output: ob) }
            }
        }
        let (lo, hi) = yq.range
        let (xlo, xhi) = xq.range
        let step = QLinearConvStep(params: p, weights: packed, bias: bias, multiplier: multiplier,
                                   input: QuantizedOperand(zeroPoint: xq.zeroPoints[0], min: xlo, max: xhi),
                                   output: QuantizedOperand(zeroPoint: yq.zeroPoints[0], min: lo, max: hi),
                                   outputScale: yq.scales[0])
        return [try ctx.emit(step, inputs: [x], outputShape: outShape, dtype: yq.dtype)]
    }
}
