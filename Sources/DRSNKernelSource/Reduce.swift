// Reductions, global average pooling, softmax.

import DRSNKernelTypes

/// Sum of `n` contiguous floats with 4 SIMD16 accumulators.
@inline(__always) @usableFromInline
func sumContiguous(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var a0 = V16(), a1 = V16(), a2 = V16(), a3 = V16()
    var i = 0
    while i &+ 64 <= n {
        a0 += load16(p + i); a1 += load16(p + (i &+ 16))
        a2 += load16(p + (i &+ 32)); a3 += load16(p + (i &+ 48))
        i &+= 64
    }
    while i &+ 16 <= n { a0 += load16(p + i); i &+= 16 }
    var s = hsum((a0 + a1) + (a2 + a3))
    while i < n { s += p[i]; i &+= 1 }
    return s
}

/// Max of `n` contiguous floats (NaN propagates), -inf when n == 0.
@inline(__always) @usableFromInline
func maxContiguous(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    let ninf = V8(repeating: -.infinity)
    var a0 = ninf, a1 = ninf, a2 = ninf, a3 = ninf
    var i = 0
    while i &+ 32 <= n {
        a0 = maxNaN(a0, load8(p + i)); a1 = maxNaN(a1, load8(p + (i &+ 8)))
        a2 = maxNaN(a2, load8(p + (i &+ 16))); a3 = maxNaN(a3, load8(p + (i &+ 24)))
        i &+= 32
    }
    while i &+ 8 <= n { a0 = maxNaN(a0, load8(p + i)); i &+= 8 }
    let v = maxNaN(maxNaN(a0, a1), maxNaN(a2, a3))
    var m: Float = -.infinity
    for l in 0..<8 { m = maxNaNScalar(m, v[l]) }
    while i < n { m = maxNaNScalar(m, p[i]); i &+= 1 }
    return m
}

extension ISAKernels {
    /// Reduces the dims flagged in `axes` (one flag per dim of `shape`). `output` holds the
    /// kept dims in order. Empty reductions: sum 0, mean NaN, max -inf. max propagates NaN.
    public static func reduce(_ op: ReduceOp, input: UnsafePointer<Float>, shape: [Int], axes: [Bool],
                              output: UnsafeMutablePointer<Float>) {
        kernelPrecondition(isShape(shape) && axes.count == shape.count, "reduce: shape \(shape), axes \(axes)")
        let rank = shape.count
        var outCount = 1, redCount = 1
        for d in 0..<rank {
            if d < axes.count && axes[d] { redCount &*= shape[d] } else { outCount &*= shape[d] }
        }
        if outCount == 0 { return }
        let initial: Float = op == .max ? -.infinity : 0
        if redCount == 0 {
            fill(output, outCount, op == .mean ? .nan : initial)
            return
        }
        // Iteration space over the input; operands: input (dense), output (0 on reduced dims).
        let r = max(rank, 1)
        withUnsafeTemporaryAllocation(of: Int.self, capacity: r &* 4 &+ 2) { buf in
            let sh = buf.baseAddress!
            let st = sh + r
            let counters = st + 2 &* r
            if rank == 0 {
                sh[0] = 1; st[0] = 0; st[1] = 0
            } else {
                for d in 0..<rank { sh[d] = shape[d] }
                contiguousStrides(sh, rank, into: st)
                // Output strides: contiguous over kept dims, 0 on reduced dims.
                var acc = 1
                var d = rank &- 1
                while d >= 0 {
                    if d < axes.count && axes[d] { st[rank &+ d] = 0 } else { st[rank &+ d] = acc; acc &*= shape[d] }
                    d &-= 1
                }
            }
            let nr = collapseDims(rank: r, shape: sh, strides: st, operands: 2)
            let n = sh[nr &- 1]
            let innerReduced = st[2 &* nr &- 1] == 0  // innermost dim reduced (input stride is 1)

            if nr <= 2 && innerReduced {
                // (outer, reduced) fast path: global pooling layout.
                let outer = nr == 2 ? sh[0] : 1
                for o in 0..<outer {
                    let p = input + o &* n
                    switch op {
                    case .sum: output[o] = sumContiguous(p, n)
                    case .mean: output[o] = sumContiguous(p, n) / Float(n)
                    case .max: output[o] = maxContiguous(p, n)
                    }
                }
                return
            }

            fill(output, outCount, initial)
            walkOuter(rank: nr, shape: sh, strides: st, operands: 2, scratch: counters) { off in
                let src = input + off[0]
                let dst = output + off[1]
                if innerReduced {
                    switch op {
                    case .sum, .mean: dst[0] += sumContiguous(src, n)
                    case .max: dst[0] = maxNaNScalar(dst[0], maxContiguous(src, n))
                    }
                } else {
                    var i = 0
                    switch op {
                    case .sum, .mean:
                        while i &+ 8 <= n { store8(load8(dst + i) + load8(src + i), dst + i); i &+= 8 }
                        while i < n { dst[i] += src[i]; i &+= 1 }
                    case .max:
                        while i &+ 8 <= n { store8(maxNaN(load8(dst + i), load8(src + i)), dst + i); i &+= 8 }
                        while i < n { dst[i] = maxNaNScalar(dst[i], src[i]); i &+= 1 }
                    }
                }
            }
            if op == .mean {
                let inv = 1 / Float(redCount)
                for i in 0..<outCount { output[i] *= inv }
            }
        }
    }
}

extension ISAKernels {
    /// output[p] = mean(input[p*planeSize ..< (p+1)*planeSize]).
    public static func globalAveragePool(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                                         planes: Int, planeSize: Int) {
        kernelPrecondition(planes >= 0 && planeSize >= 0, "globalAveragePool: planes \(planes), planeSize \(planeSize)")
        if planes <= 0 { return }
        if planeSize == 0 { fill(output, planes, .nan); return }
        let inv = 1 / Float(planeSize)
        for p in 0..<planes {
            output[p] = sumContiguous(input + p &* planeSize, planeSize) * inv
        }
    }
}

extension ISAKernels {
    /// Softmax along the middle axis of [outer, axisSize, inner]; max-subtracted.
    public static func softmax(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                               outer: Int, axisSize: Int, inner: Int) {
        kernelPrecondition(outer >= 0 && axisSize >= 0 && inner >= 0, "softmax: outer \(outer), axis \(axisSize), inner \(inner)")
        if outer <= 0 || axisSize <= 0 || inner <= 0 { return }
        if inner == 1 {
            for o in 0..<outer {
                let src = input + o &* axisSize
                let dst = output + o &* axisSize
                let m = maxContiguous(src, axisSize)
                let vm = V8(repeating: m)
                var acc = V8()
                var i = 0
                while i &+ 8 <= axisSize {
                    let e = expNonPositive(load8(src + i) - vm)
                    store8(e, dst + i)
                    acc += e
                    i &+= 8
                }
                var s = hsum(acc)
                if i < axisSize {
                    let rem = axisSize &- i
                    var e = expNonPositive(loadPartial8(src + i, rem) - vm)
                    for l in rem..<8 { e[l] = 0 }
                    storePartial8(e, dst + i, rem)
                    s += hsum(e)
                }
                let inv = V8(repeating: 1 / s)
                i = 0
                while i &+ 8 <= axisSize { store8(load8(dst + i) * inv, dst + i); i &+= 8 }
                while i < axisSize { dst[i] *= inv[0]; i &+= 1 }
            }
            return
        }
        // Vectorised across `inner`, 8 columns at a time.
        for o in 0..<outer {
            let src = input + o &* axisSize &* inner
            let dst = output + o &* axisSize &* inner
            var j = 0
            while j < inner {
                let w = min(8, inner &- j)
                @inline(__always) func ld(_ p: UnsafePointer<Float>) -> V8 { w == 8 ? load8(p) : loadPartial8(p, w) }
                @inline(__always) func st(_ v: V8, _ p: UnsafeMutablePointer<Float>) {
                    if w == 8 { store8(v, p) } else { storePartial8(v, p, w) }
                }
                var m = V8(repeating: -.infinity)
                for a in 0..<axisSize { m = maxNaN(m, ld(src + (a &* inner &+ j))) }
                var s = V8()
                for a in 0..<axisSize {
                    let e = expNonPositive(ld(src + (a &* inner &+ j)) - m)
                    st(e, dst + (a &* inner &+ j))
                    s += e
                }
                let inv = V8(repeating: 1) / s
                for a in 0..<axisSize {
                    let p = dst + (a &* inner &+ j)
                    st(ld(UnsafePointer(p)) * inv, p)
                }
                j &+= 8
            }
        }
    }
}
