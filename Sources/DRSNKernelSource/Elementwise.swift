// MARK: - Unary

import DRSNKernelTypes

/// One vector-wide unary function; generic specialisation inlines it into `mapUnary`.
@usableFromInline
protocol UnaryKernel {
    func callAsFunction(_ x: V8) -> V8
}

@usableFromInline struct ReluK: UnaryKernel {
    @inline(__always) @usableFromInline func callAsFunction(_ x: V8) -> V8 { x.replacing(with: V8(), where: x .< V8()) }
}
@usableFromInline struct AbsK: UnaryKernel {
    @inline(__always) @usableFromInline func callAsFunction(_ x: V8) -> V8 { absV(x) }
}
@usableFromInline struct NegK: UnaryKernel {
    // Not `-x`: SIMD negation is 0 - x, which maps +0 to +0. x * -1 flips the sign exactly.
    @inline(__always) @usableFromInline func callAsFunction(_ x: V8) -> V8 { x * V8(repeating: -1) }
}
@usableFromInline struct SignK: UnaryKernel {
    @inline(__always) @usableFromInline func callAsFunction(_ x: V8) -> V8 {
        var r = x.replacing(with: V8(repeating: 1), where: x .> V8())
        r.replace(with: V8(repeating: -1), where: x .< V8())
        return r
    }
}
@usableFromInline struct ClipK: UnaryKernel {
    // Scalars, not vectors: a struct of two SIMD8 would get value witnesses
    // (__swift_memcpy64_16) that the linker shares across the ISA variants.
    let lo: Float, hi: Float
    @inline(__always) @usableFromInline func callAsFunction(_ x: V8) -> V8 {
        let vlo = V8(repeating: lo), vhi = V8(repeating: hi)
        var r = x.replacing(with: vlo, where: x .< vlo)
        r.replace(with: vhi, where: r .> vhi)
        return r
    }
}

@usableFromInline struct SigmoidK: UnaryKernel {
    /// Stable: e = exp(-|x|) never overflows; x >= 0 -> 1/(1+e), x < 0 -> e/(1+e).
    @_transparent @usableFromInline func callAsFunction(_ x: V8) -> V8 {
        let e = expNonPositive(-absV(x))
        let r = V8(repeating: 1) / (V8(repeating: 1) + e)
        return r.replacing(with: e * r, where: x .< V8())
    }
}

@inline(__always)
func mapUnary<K: UnaryKernel>(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, _ count: Int,
                              _ f: K) {
    var i = 0
    while i &+ 16 <= count {
        let a = f(load8(input + i))
        let b = f(load8(input + (i &+ 8)))
        store8(a, output + i)
        store8(b, output + (i &+ 8))
        i &+= 16
    }
    while i &+ 8 <= count {
        store8(f(load8(input + i)), output + i)
        i &+= 8
    }
    if i < count {
        storePartial8(f(loadPartial8(input + i, count &- i)), output + i, count &- i)
    }
}

extension ISAKernels {
    public static func unary(_ op: UnaryOp, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int) {
        kernelPrecondition(count >= 0, "unary: count \(count) < 0")
        if count <= 0 { return }
        switch op {
        case .copy: copyFloats(input, output, count)
        case .relu: mapUnary(input, output, count, ReluK())
        case .abs: mapUnary(input, output, count, AbsK())
        case .neg: mapUnary(input, output, count, NegK())
        case .sign: mapUnary(input, output, count, SignK())
        case .clip(let lo, let hi): mapUnary(input, output, count, ClipK(lo: lo, hi: hi))
        case .sigmoid: mapUnary(input, output, count, SigmoidK())
        }
    }
}

// MARK: - Broadcasting helpers


/// Prepares a collapsed iteration space for `operands` operands, of which the last is the
/// dense output; calls body(rank, shape, strides, counterScratch).
@inline(__always)
func withCollapsed(outShape: [Int], _ s0: [Int], _ s1: [Int], _ s2: [Int]?,
                   _ body: (Int, UnsafePointer<Int>, UnsafePointer<Int>, UnsafeMutablePointer<Int>) -> Void) {
    let rank = outShape.count
    let ops = s2 == nil ? 3 : 4
    let r = max(rank, 1)
    withUnsafeTemporaryAllocation(of: Int.self, capacity: r &* (ops &+ 2) &+ ops) { buf in
        let shape = buf.baseAddress!
        let strides = shape + r
        let counters = strides + r &* ops
        if rank == 0 {
            shape[0] = 1
            for k in 0..<ops { strides[k] = 0 }
        } else {
            for d in 0..<rank { shape[d] = outShape[d] }
            for d in 0..<rank { strides[d] = s0[d] }
            for d in 0..<rank { strides[rank &+ d] = s1[d] }
            if let s2 { for d in 0..<rank { strides[2 &* rank &+ d] = s2[d] } }
            contiguousStrides(shape, rank, into: strides + (ops &- 1) &* rank)
        }
        let nr = collapseDims(rank: r, shape: shape, strides: strides, operands: ops)
        body(nr, UnsafePointer(shape), UnsafePointer(strides), counters)
    }
}

// MARK: - Binary

@inline(__always)
func binaryInner(_ n: Int, _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int,
                 _ o: UnsafeMutablePointer<Float>, _ f: (V8, V8) -> V8) {
    var i = 0
    if sa == 1 && sb == 1 {
        while i &+ 8 <= n { store8(f(load8(a + i), load8(b + i)), o + i); i &+= 8 }
        if i < n {
            let m = n &- i
            storePartial8(f(loadPartial8(a + i, m), loadPartial8(b + i, m)), o + i, m)
        }
    } else if sa == 1 && sb == 0 {
        let vb = V8(repeating: b[0])
        while i &+ 8 <= n { store8(f(load8(a + i), vb), o + i); i &+= 8 }
        if i < n {
            let m = n &- i
            storePartial8(f(loadPartial8(a + i, m), vb), o + i, m)
        }
    } else if sa == 0 && sb == 1 {
        let va = V8(repeating: a[0])
        while i &+ 8 <= n { store8(f(va, load8(b + i)), o + i); i &+= 8 }
        if i < n {
            let m = n &- i
            storePartial8(f(va, loadPartial8(b + i, m)), o + i, m)
        }
    } else {
        // General strides: gather 8 at a time.
        var pa = a, pb = b
        while i &+ 8 <= n {
            var va = V8(), vb = V8()
            for l in 0..<8 { va[l] = pa[l &* sa]; vb[l] = pb[l &* sb] }
            store8(f(va, vb), o + i)
            pa += 8 &* sa; pb += 8 &* sb
            i &+= 8
        }
        if i < n {
            let m = n &- i
            var va = V8(), vb = V8()
            for l in 0..<m { va[l] = pa[l &* sa]; vb[l] = pb[l &* sb] }
            storePartial8(f(va, vb), o + i, m)
        }
    }
}

@inline(__always)
func binaryRun(a: UnsafePointer<Float>, b: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
               rank: Int, shape: UnsafePointer<Int>, strides: UnsafePointer<Int>,
               counters: UnsafeMutablePointer<Int>, _ f: (V8, V8) -> V8) {
    let n = shape[rank &- 1]
    let sa = strides[rank &- 1]
    let sb = strides[2 &* rank &- 1]
    walkOuter(rank: rank, shape: shape, strides: strides, operands: 3, scratch: counters) { off in
        binaryInner(n, a + off[0], sa, b + off[1], sb, output + off[2], f)
    }
}

@inline(__always)
func cmpResult(_ m: SIMDMask<SIMD8<Int32>>) -> V8 {
    V8().replacing(with: V8(repeating: 1), where: m)
}

extension ISAKernels {
    /// Broadcast binary op. `aStrides`/`bStrides` have `outShape.count` entries (0 for
    /// broadcast dims, see `broadcastStrides`). Comparisons write 1.0 / 0.0. max/min
    /// propagate NaN from either side (ONNX Max/Min).
    public static func binary(_ op: BinaryOp, a: UnsafePointer<Float>, aStrides: [Int], b: UnsafePointer<Float>,
                              bStrides: [Int], output: UnsafeMutablePointer<Float>, outShape: [Int]) {
        kernelPrecondition(isShape(outShape) && aStrides.count == outShape.count && bStrides.count == outShape.count,
                           "binary: output shape \(outShape), strides \(aStrides) and \(bStrides) do not agree")
        for d in outShape where d == 0 { return }
        withCollapsed(outShape: outShape, aStrides, bStrides, nil) { rank, shape, strides, counters in
            switch op {
            case .add: binaryRun(a: a, b: b, output: output, rank: rank, shape: shape, strides: strides, counters: counters) { $0 + $1 }
            case .sub: binaryRun(a: a, b: b, output: output, rank: rank, shape: shape, strides: strides, counters: counters) { $0 - $1 }
            case .mul: binaryRun(a: a, b: b, output: output, rank: rank, shape: shape, strides: strides, counters: counters) { $0 * $1 }
            case .div: binaryRun(a: a, b: b, output: output, rank: rank, shape: shape, strides: strides, counters: counters) { $0 / $1 }
            case .max: binaryRun(a: a, b: b, output: output, rank: rank, shape: shape, strides: strides, counters: counters) { maxNaN($0, $1) }
            case .min: binaryRun(a: a, b: b, output: output, rank: rank, shape: shape, strides: strides, counters: counters) { minNaN($0, $1) }
            case .greater: binaryRun(a: a, b: b, output: output, rank: rank, shape: shape, strides: strides, counters: counters) { cmpResult($0 .> $1) }
            case .less: binaryRun(a: a, b: b, output: output, rank: rank, shape: shape, strides: strides, counters: counters) { cmpResult($0 .< $1) }
            case .greaterOrEqual: binaryRun(a: a, b: b, output: output, rank: rank, shape: shape, strides: strides, counters: counters) { cmpResult($0 .>= $1) }
            case .lessOrEqual: binaryRun(a: a, b: b, output: output, rank: rank, shape: shape, strides: strides, counters: counters) { cmpResult($0 .<= $1) }
            case .equal: binaryRun(a: a, b: b, output: output, rank: rank, shape: shape, strides: strides, counters: counters) { cmpResult($0 .== $1) }
            }
        }
    }
}

extension ISAKernels {
    /// ONNX Where: output = condition != 0 ? x : y, all three broadcast to `outShape`.
    public static func select(condition: UnsafePointer<Float>, conditionStrides: [Int], x: UnsafePointer<Float>,
                              xStrides: [Int], y: UnsafePointer<Float>, yStrides: [Int],
                              output: UnsafeMutablePointer<Float>, outShape: [Int]) {
        kernelPrecondition(isShape(outShape) && conditionStrides.count == outShape.count && xStrides.count == outShape.count
                           && yStrides.count == outShape.count,
                           "select: output shape \(outShape), strides \(conditionStrides), \(xStrides) and \(yStrides) do not agree")
        for d in outShape where d == 0 { return }
        withCollapsed(outShape: outShape, conditionStrides, xStrides, yStrides) { rank, shape, strides, counters in
            let n = shape[rank &- 1]
            let sc = strides[rank &- 1], sx = strides[2 &* rank &- 1], sy = strides[3 &* rank &- 1]
            walkOuter(rank: rank, shape: shape, strides: strides, operands: 4, scratch: counters) { off in
                let c = condition + off[0], xp = x + off[1], yp = y + off[2], o = output + off[3]
                var i = 0
                if sc == 1 && sx == 1 && sy == 1 {
                    let z = V8()
                    while i &+ 8 <= n {
                        store8(load8(yp + i).replacing(with: load8(xp + i), where: load8(c + i) .!= z), o + i)
                        i &+= 8
                    }
                }
                while i < n {
                    o[i] = c[i &* sc] != 0 ? xp[i &* sx] : yp[i &* sy]
                    i &+= 1
                }
            }
        }
    }
}
