/// The integer types drsn quantizes to and from, with their ranges. Codes are held as
/// Float in runtime tensors (exact: every value fits in 24 bits except int32, which
/// DequantizeLinear accepts for constants such as a quantized bias).
enum QuantizedType {
    /// The range of `dtype` if drsn supports it as a quantized type (runtime codes).
    static func range(_ dtype: DType) -> (lo: Float, hi: Float)? {
        switch dtype {
        case .uint8: return (0, 255)
        case .int8: return (-128, 127)
        case .uint16: return (0, 65535)
        case .int16: return (-32768, 32767)
        default: return nil
        }
    }

    /// Whether a runtime value of `dtype` holds quantized codes.
    static func isCode(_ dtype: DType) -> Bool { range(dtype) != nil }

    static func unsupported(_ op: String, _ raw: Int32) -> DRSNError {
        fail(.unsupported, "\(op) with element type \(DType.onnxName(raw)) is not supported (drsn quantizes to UINT8, INT8, UINT16 and INT16)")
    }
}

/// Scale and zero point of a QuantizeLinear / DequantizeLinear node (or one operand of a
/// QLinear* node): per tensor (one value) or per axis (one per index of `axis`).
struct QuantizationParameters {
    var scales: [Float]
    var zeroPoints: [Float]
    /// The integer type of the codes (the zero point's type).
    var dtype: DType
    /// The axis of per-axis parameters (non-negative); nil per tensor.
    var axis: Int?

    var range: (lo: Float, hi: Float) { QuantizedType.range(dtype) ?? (-Float.infinity, .infinity) }

    /// Reads inputs `scaleIndex` and `zeroPointIndex` (optional) of `ctx`'s node for a
    /// tensor of `rank` dimensions whose size along each axis is `shape`. `codeType`: the
    /// codes' type when known from elsewhere (DequantizeLinear's input), else from the zero
    /// point or `defaultType`. `fixedAxis`: the axis of 1-D parameters when the operator
    /// fixes it (QLinearConv's weights: 0) instead of an `axis` attribute. Refused: runtime scales, blocked quantization (block_size,
    /// or a scale of rank > 1), parameters that do not fit the shape, unsupported types.
    static func read(_ ctx: OpContext, scaleIndex: Int, zeroPointIndex: Int, shape: [Int], codeType: DType?,
                     defaultType: DType, fixedAxis: Int? = nil) throws(DRSNError) -> QuantizationParameters {
        let op = ctx.node.opType
        if try ctx.node.int("block_size", default: 0) != 0 {
            throw fail(.unsupported, "\(op) with block_size (blocked quantization) is not supported; quantize per tensor or per channel (onnxruntime's quantize_static with per_channel=True)")
        }
        let scale = try ctx.constantInput(scaleIndex, "\(op) scale")
        guard scale.dtype.isFloatingPoint else {
            throw fail(.invalidModel, "\(op) scale must be floating point, got \(scale.dtype)")
        }
        let zp = try ctx.optionalConstantInput(zeroPointIndex, "\(op) zero point")
        var dtype = codeType ?? zp?.dtype ?? defaultType
        if codeType == nil, zp == nil, ctx.opset >= 21, let raw = try ctx.node.int("output_dtype"), raw != 0 {
            guard let t = DType(rawValue: Int32(truncatingIfNeeded: raw)) else { throw QuantizedType.unsupported(op, Int32(truncatingIfNeeded: raw)) }
            dtype = t
        }
        if let zp, zp.dtype != dtype {
            throw fail(.invalidModel, "\(op) zero point has type \(zp.dtype), expected \(dtype)")
        }
        guard QuantizedType.range(dtype) != nil || (dtype == .int32 && codeType == .int32) else {
            throw QuantizedType.unsupported(op, dtype.rawValue)
        }
        let scales = scale.floatValues
        var zeroPoints = zp.map { $0.intValues.map { Float($0) } } ?? [Float](repeating: 0, count: scales.count)
        if zeroPoints.count == 1 && scales.count > 1 { zeroPoints = [Float](repeating: zeroPoints[0], count: scales.count) }
        guard scale.shape.count <= 1, !scales.isEmpty else {
            throw fail(.unsupported, "\(op) scale of shape \(describe(scale.shape)) (blocked quantization) is not supported; use a scalar or 1-D scale")
        }
        guard zeroPoints.count == scales.count, zp.map({ $0.shape.count <= 1 }) ?? true else {
            throw fail(.invalidModel, "\(op) zero point has \(zeroPoints.count) values for \(scales.count) scales")
        }
        if let r = QuantizedType.range(dtype), zeroPoints.contains(where: { $0 < r.lo || $0 > r.hi }) {
            throw fail(.invalidModel, "\(op) zero point outside the range of \(dtype)")
        }
        var axis: Int? = nil
        if scale.shape.count == 1 && scales.count > 1 {
            var a = Int64(fixedAxis ?? 0)
            if fixedAxis == nil { a = try ctx.node.int("axis", default: 1) }
            let rank = shape.count
            guard a >= -Int64(rank), a < Int64(rank) else {
                throw fail(.invalidModel, "\(op) axis \(a) is out of range for rank \(rank)")
            }
            let ax = Int(a) < 0 ? Int(a) + rank : Int(a)
            if scales.count == shape[ax] { axis = ax }
            else if scales.count != 1 {
                throw fail(.shapeMismatch, "\(op) has \(scales.count) scales for axis \(ax) of size \(shape[ax]) (shape \(describe(shape)))")
            }
        } else if scales.count != 1 {
            throw fail(.shapeMismatch, "\(op) needs a scalar scale here, got \(scales.count) values")
        }
        return QuantizationParameters(scales: scales, zeroPoints: zeroPoints, dtype: dtype, axis: axis)
    }

    /// (outer, channels, inner) of a tensor of `shape` under these parameters: channels is
    /// 1 per tensor (inner = every element).
    func planes(_ shape: [Int]) -> (outer: Int, channels: Int, inner: Int) {
        guard let axis else { return (1, 1, shape.reduce(1, *)) }
        return (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }
}
