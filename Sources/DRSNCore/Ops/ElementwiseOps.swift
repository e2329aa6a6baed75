import Glibc
import DRSNKernels

/// Relu, Abs, Sign, Neg, Sigmoid, Clip, Cast, the binary arithmetic and comparison
/// operators with broadcasting, variadic Max/Min, and Where.
enum ElementwiseOps {
    static func unaryFunction(_ op: UnaryOp) -> (Float) -> Float {
        switch op {
        case .relu: return { $0.isNaN ? $0 : ($0 > 0 ? $0 : 0) }
        case .abs: return { Swift.abs($0) }
        case .sign: return { $0.isNaN ? $0 : ($0 > 0 ? 1 : ($0 < 0 ? -1 : 0)) }
        case .neg: return { -$0 }
        case .sigmoid: return { x in x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x)) }
        case .clip(let lo, let hi): return { x in x.isNaN ? x : Swift.min(Swift.max(x, lo), hi) }
        case .copy: return { $0 }
        }
    }

    static func unary(_ op: UnaryOp) -> OperatorFunction {
        return { (ctx: OpContext) throws(DRSNError) -> [BoundValue] in
            let x = try ctx.input(0)
            return [try applyUnary(op, x, ctx)]
        }
    }

    static func applyUnary(_ op: UnaryOp, _ x: BoundValue, _ ctx: OpContext) throws(DRSNError) -> BoundValue {
        if let t = x.constant {
            try ctx.checkConstant(t.shape)
            if case .ints(let v) = t.storage {
                let f = unaryFunction(op)
                return .constant(Tensor(ints: v.map { Tensor.int64(f(Float($0))) }, shape: t.shape, dtype: t.dtype))
            }
            let f = unaryFunction(op)
            return .constant(try Tensor(floats: t.floatValues.map(f), shape: t.shape, dtype: t.dtype))
        }
        try ctx.requireRuntimeType(x, 0)
        let n = try elementCount(x.shape)
        return try ctx.emit(UnaryStep(op: op, count: n), inputs: [x], outputShape: x.shape)
    }

    /// Clip: bounds from the attributes min/max before opset 11, from the optional scalar
    /// inputs 1 and 2 from 11 on. Constant bounds clip in one unary step; when a bound is
    /// computed at run time, one `RuntimeClipStep` computes y = min(max(x, lo), hi) as in
    /// ONNX (hi wins when lo > hi; NaN stays NaN).
    static func clip(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        var lo = -Float.infinity
        var hi = Float.infinity
        if ctx.opset < 11 {
            lo = try ctx.node.float("min", default: -Float.greatestFiniteMagnitude)
            hi = try ctx.node.float("max", default: Float.greatestFiniteMagnitude)
        } else {
            if RuntimeParameters.anyRuntime(ctx, 1, 2) { return [try RuntimeParameters.clip(ctx)] }
            if let t = try ctx.optionalConstantInput(1, "Clip min") {
                guard let v = t.scalarFloat else { throw fail(.invalidModel, "Clip min must be a scalar") }
                lo = v
            }
            if let t = try ctx.optionalConstantInput(2, "Clip max") {
                guard let v = t.scalarFloat else { throw fail(.invalidModel, "Clip max must be a scalar") }
                hi = v
            }
        }
        return [try applyUnary(.clip(min: lo, max: hi), try ctx.input(0), ctx)]
    }

    static func cast(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        guard let toRaw = try ctx.node.int("to") else { throw fail(.invalidModel, "Cast needs the 'to' attribute") }
        let raw = Int32(truncatingIfNeeded: toRaw)
        guard let to = DType(rawValue: raw), to != .string, to != .undefined else {
            throw fail(.unsupported, "Cast to \(DType.onnxName(raw)) is not supported")
        }
        if let t = x.constant {
            try ctx.checkConstant(t.shape)
            if to.isFloatingPoint {
                return [.constant(try Tensor(floats: t.floatValues.map { roundedTo(to, $0) }, shape: t.shape, dtype: to))]
            }
            if to == .bool {
                let values: [Int64]
                switch t.storage {
                case .ints(let v): values = v.map { $0 != 0 ? 1 : 0 }
                case .floats: values = t.floatValues.map { $0 != 0 ? 1 : 0 }
                }
                return [.constant(Tensor(ints: values, shape: t.shape, dtype: .bool))]
            }
            return [.constant(Tensor(ints: t.intValues.map { wrapped(to, $0) }, shape: t.shape, dtype: to))]
        }
        guard case .runtime(var r) = x else { return [] }
        switch (r.dtype, to) {
        case (.float32, .float32), (.bool, .bool):
            return [x]
        case (.bool, .float32):
            r.dtype = .float32
            return [.runtime(r)]
        case (.float32, .bool):
            let one = try Tensor(floats: [1], shape: [])
            let zero = try Tensor(floats: [0], shape: [])
            let shape = r.shape
            let s = denseStrides(shape)
            let z = [Int](repeating: 0, count: shape.count)
            return [try ctx.emit(SelectStep(cStrides: s, xStrides: z, yStrides: z, outShape: shape),
                                          inputs: [x, .constant(one), .constant(zero)], outputShape: shape, dtype: .bool)]
        default:
            throw fail(.unsupported, "Cast of a runtime \(r.dtype) tensor to \(to) is not supported (runtime tensors are FLOAT or BOOL)")
        }
    }

    /// `v` rounded to the precision of floating-point type `type` (stored as Float):
    /// FLOAT16 and BFLOAT16 round to nearest even, FLOAT and DOUBLE keep `v`.
    static func roundedTo(_ type: DType, _ v: Float) -> Float {
        switch type {
        case .float16:
            return Float(Float16(v))
        case .bfloat16:
            guard v.isFinite else { return v }
            let bits = v.bitPattern
            let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
            return Float(bitPattern: rounded & 0xFFFF_0000)
        default:
            return v
        }
    }

    /// `v` converted to integer type `type` as a C cast does: the low bits of its two's
    /// complement, read back as that type (INT32 of 2^32 + 1 is 1, UINT8 of -1 is 255).
    /// INT64 and UINT64 (stored as Int64) keep `v`.
    static func wrapped(_ type: DType, _ v: Int64) -> Int64 {
        switch type {
        case .int8: return Int64(Int8(truncatingIfNeeded: v))
        case .uint8: return Int64(UInt8(truncatingIfNeeded: v))
        case .int16: return Int64(Int16(truncatingIfNeeded: v))
        case .uint16: return Int64(UInt16(truncatingIfNeeded: v))
        case .int32: return Int64(Int32(truncatingIfNeeded: v))
        case .uint32: return Int64(UInt32(truncatingIfNeeded: v))
        default: return v
        }
    }

    static func isComparison(_ op: BinaryOp) -> Bool {
        switch op {
        case .greater, .less, .greaterOrEqual, .lessOrEqual, .equal: return true
        default: return false
        }
    }

    static func floatFunction(_ op: BinaryOp) -> (Float, Float) -> Float {
        switch op {
        case .add: return { $0 + $1 }
        case .sub: return { $0 - $1 }
        case .mul: return { $0 * $1 }
        case .div: return { $0 / $1 }
        case .max: return { a, b in (a.isNaN || b.isNaN) ? Float.nan : Swift.max(a, b) }
        case .min: return { a, b in (a.isNaN || b.isNaN) ? Float.nan : Swift.min(a, b) }
        case .greater: return { $0 > $1 ? 1 : 0 }
        case .less: return { $0 < $1 ? 1 : 0 }
        case .greaterOrEqual: return { $0 >= $1 ? 1 : 0 }
        case .lessOrEqual: return { $0 <= $1 ? 1 : 0 }
        case .equal: return { $0 == $1 ? 1 : 0 }
        }
    }

    static func intFunction(_ op: BinaryOp) -> (Int64, Int64) -> Int64 {
        switch op {
        case .add: return { $0 &+ $1 }
        case .sub: return { $0 &- $1 }
        case .mul: return { $0 &* $1 }
        case .div: return { a, b in b == 0 || (a == Int64.min && b == -1) ? 0 : a / b }
        case .max: return { Swift.max($0, $1) }
        case .min: return { Swift.min($0, $1) }
        case .greater: return { $0 > $1 ? 1 : 0 }
        case .less: return { $0 < $1 ? 1 : 0 }
        case .greaterOrEqual: return { $0 >= $1 ? 1 : 0 }
        case .lessOrEqual: return { $0 <= $1 ? 1 : 0 }
        case .equal: return { $0 == $1 ? 1 : 0 }
        }
    }

    static func binary(_ op: BinaryOp) -> OperatorFunction {
        return { (ctx: OpContext) throws(DRSNError) -> [BoundValue] in
            [try applyBinary(op, try ctx.input(0), try ctx.input(1), ctx)]
        }
    }

    /// Max/Min with one or more inputs.
    static func variadic(_ op: BinaryOp) -> OperatorFunction {
        return { (ctx: OpContext) throws(DRSNError) -> [BoundValue] in
            var acc = try ctx.input(0)
            var i = 1
            while i < ctx.inputs.count {
                acc = try applyBinary(op, acc, try ctx.input(i), ctx)
                i += 1
            }
            if ctx.inputs.count == 1, case .runtime(let r) = acc {
                return [.runtime(try ctx.copy(r))]
            }
            return [acc]
        }
    }

    static func applyBinary(_ op: BinaryOp, _ a: BoundValue, _ b: BoundValue, _ ctx: OpContext) throws(DRSNError) -> BoundValue {
        let outShape = try broadcastShape(a.shape, b.shape)
        let comparison = isComparison(op)
        if let ta = a.constant, let tb = b.constant {
            try ctx.checkConstant(outShape)
            // Results are written straight into their final storage, and source indices are
            // walked, not materialised: a [2^13,1] + [1,2^14] constant costs its output only.
            let total = try elementCount(outShape)
            if case .ints(let va) = ta.storage, case .ints(let vb) = tb.storage {
                let f = intFunction(op)
                var out = [Int64](repeating: 0, count: total)
                forEachBroadcastPair(ta.shape, tb.shape, to: outShape) { k, i, j in out[k] = f(va[i], vb[j]) }
                return .constant(Tensor(ints: out, shape: outShape, dtype: comparison ? .bool : ta.dtype))
            }
            let va = ta.floatValues, vb = tb.floatValues
            let f = floatFunction(op)
            if comparison {
                var out = [Int64](repeating: 0, count: total)
                forEachBroadcastPair(ta.shape, tb.shape, to: outShape) { k, i, j in out[k] = f(va[i], vb[j]) != 0 ? 1 : 0 }
                return .constant(Tensor(ints: out, shape: outShape, dtype: .bool))
            }
            guard let buffer = AlignedBuffer(count: total) else {
                throw fail(.outOfMemory, "cannot allocate \(total) floats for a constant")
            }
            let out = buffer.pointer
            forEachBroadcastPair(ta.shape, tb.shape, to: outShape) { k, i, j in out[k] = f(va[i], vb[j]) }
            let dtype = ta.dtype.isFloatingPoint ? ta.dtype : tb.dtype
            return .constant(Tensor(buffer: buffer, shape: outShape, dtype: dtype))
        }
        try ctx.requireRuntimeType(a, 0)
        try ctx.requireRuntimeType(b, 1)
        let kind = BinaryStep(op: op, aStrides: stridesForBroadcast(a.shape, to: outShape),
                                   bStrides: stridesForBroadcast(b.shape, to: outShape), outShape: outShape)
        return try ctx.emit(kind, inputs: [a, b], outputShape: outShape, dtype: comparison ? .bool : .float32)
    }

    static func whereOp(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let c = try ctx.input(0), x = try ctx.input(1), y = try ctx.input(2)
        let outShape = try broadcastShape(try broadcastShape(c.shape, x.shape), y.shape)
        if let tc = c.constant, let tx = x.constant, let ty = y.constant {
            try ctx.checkConstant(outShape)
            let ic = broadcastSourceIndices(tc.shape, to: outShape)
            let ix = broadcastSourceIndices(tx.shape, to: outShape)
            let iy = broadcastSourceIndices(ty.shape, to: outShape)
            let vc = tc.intValues.map { $0 != 0 }
            if case .ints(let vx) = tx.storage, case .ints(let vy) = ty.storage {
                var out = [Int64](repeating: 0, count: ic.count)
                for k in 0..<ic.count { out[k] = vc[ic[k]] ? vx[ix[k]] : vy[iy[k]] }
                return [.constant(Tensor(ints: out, shape: outShape, dtype: tx.dtype))]
            }
            let vx = tx.floatValues, vy = ty.floatValues
            var out = [Float](repeating: 0, count: ic.count)
            for k in 0..<ic.count { out[k] = vc[ic[k]] ? vx[ix[k]] : vy[iy[k]] }
            return [.constant(try Tensor(floats: out, shape: outShape, dtype: tx.dtype))]
        }
        for (i, v) in [c, x, y].enumerated() { try ctx.requireRuntimeType(v, i) }
        let kind = SelectStep(cStrides: stridesForBroadcast(c.shape, to: outShape),
                                   xStrides: stridesForBroadcast(x.shape, to: outShape),
                                   yStrides: stridesForBroadcast(y.shape, to: outShape), outShape: outShape)
        let dtype: DType = x.dtype == .bool && y.dtype == .bool ? .bool : .float32
        return [try ctx.emit(kind, inputs: [c, x, y], outputShape: outShape, dtype: dtype)]
    }
}
