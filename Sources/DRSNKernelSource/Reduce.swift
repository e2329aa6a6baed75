// Reductions, global average pooling, softmax.

import DRSNKernelTypes
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

/// Min of `n` contiguous floats (NaN propagates), +inf when n == 0.
@inline(__always) @usableFromInline
func minContiguous(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    let inf = V8(repeating: .infinity)
    var a0 = inf, a1 = inf
    var i = 0
    while i &+ 16 <= n { a0 = minNaN(a0, load8(p + i)); a1 = minNaN(a1, load8(p + (i &+ 8))); i &+= 16 }
    while i &+ 8 <= n { a0 = minNaN(a0, load8(p + i)); i &+= 8 }
    let v = minNaN(a0, a1)
    var m: Float = .infinity
    for l in 0..<8 { m = minNaNScalar(m, v[l]) }
    while i < n { m = minNaNScalar(m, p[i]); i &+= 1 }
    return m
}

/// Sum of |x| (`squares` false) or of x * x (`squares` true) over `n` contiguous floats.
@inline(__always) @usableFromInline
func sumMappedContiguous(_ p: UnsafePointer<Float>, _ n: Int, squares: Bool) -> Float {
    var a0 = V8(), a1 = V8()
    var i = 0
    if squares {
        while i &+ 16 <= n {
            let x0 = load8(p + i), x1 = load8(p + (i &+ 8))
            a0 = madd(a0, x0, x0); a1 = madd(a1, x1, x1)
            i &+= 16
        }
        while i &+ 8 <= n { let x = load8(p + i); a0 = madd(a0, x, x); i &+= 8 }
    } else {
        while i &+ 16 <= n { a0 += absV(load8(p + i)); a1 += absV(load8(p + (i &+ 8))); i &+= 16 }
        while i &+ 8 <= n { a0 += absV(load8(p + i)); i &+= 8 }
    }
    var s = hsum(a0 + a1)
    while i < n { let x = p[i]; s += squares ? x * x : (x < 0 ? -x : x); i &+= 1 }
    return s
}

/// Product of `n` contiguous floats, 1 when n == 0.
@inline(__always) @usableFromInline
func prodContiguous(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var a0 = V8(repeating: 1), a1 = V8(repeating: 1)
    var i = 0
    while i &+ 16 <= n { a0 *= load8(p + i); a1 *= load8(p + (i &+ 8)); i &+= 16 }
    while i &+ 8 <= n { a0 *= load8(p + i); i &+= 8 }
    let v = a0 * a1
    var r = (v[0] * v[1]) * (v[2] * v[3]) * ((v[4] * v[5]) * (v[6] * v[7]))
    while i < n { r *= p[i]; i &+= 1 }
    return r
}

/// What `op` makes of `n` contiguous floats before its final step (mean: the sum; l2: the sum
/// of squares). Not for logSumExp.
@inline(__always) @usableFromInline
func reduceContiguous(_ op: ReduceOp, _ p: UnsafePointer<Float>, _ n: Int) -> Float {
    switch op {
    case .sum, .mean: return sumContiguous(p, n)
    case .max: return maxContiguous(p, n)
    case .min: return minContiguous(p, n)
    case .prod: return prodContiguous(p, n)
    case .l1: return sumMappedContiguous(p, n, squares: false)
    case .l2, .sumSquare: return sumMappedContiguous(p, n, squares: true)
    case .logSumExp: return .nan
    }
}

/// Combines two partial results of `op` (before its final step).
@inline(__always) @usableFromInline
func combineReduced(_ op: ReduceOp, _ a: Float, _ b: Float) -> Float {
    switch op {
    case .max: return maxNaNScalar(a, b)
    case .min: return minNaNScalar(a, b)
    case .prod: return a * b
    default: return a + b
    }
}

/// dst[i] = combine(dst[i], map(src[i])) for i < n: one input row folded into the partial
/// results of `op` (not logSumExp).
@inline(__always) @usableFromInline
func accumulateRow(_ op: ReduceOp, _ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    switch op {
    case .sum, .mean:
        while i &+ 8 <= n { store8(load8(dst + i) + load8(src + i), dst + i); i &+= 8 }
        while i < n { dst[i] += src[i]; i &+= 1 }
    case .max:
        while i &+ 8 <= n { store8(maxNaN(load8(dst + i), load8(src + i)), dst + i); i &+= 8 }
        while i < n { dst[i] = maxNaNScalar(dst[i], src[i]); i &+= 1 }
    case .min:
        while i &+ 8 <= n { store8(minNaN(load8(dst + i), load8(src + i)), dst + i); i &+= 8 }
        while i < n { dst[i] = minNaNScalar(dst[i], src[i]); i &+= 1 }
    case .prod:
        while i &+ 8 <= n { store8(load8(dst + i) * load8(src + i), dst + i); i &+= 8 }
        while i < n { dst[i] *= src[i]; i &+= 1 }
    case .l1:
        while i &+ 8 <= n { store8(load8(dst + i) + absV(load8(src + i)), dst + i); i &+= 8 }
        while i < n { let x = src[i]; dst[i] += x < 0 ? -x : x; i &+= 1 }
    case .l2, .sumSquare:
        while i &+ 8 <= n { let x = load8(src + i); store8(madd(load8(dst + i), x, x), dst + i); i &+= 8 }
        while i < n { let x = src[i]; dst[i] += x * x; i &+= 1 }
    case .logSumExp:
        break
    }
}

extension ReduceOp {
    /// The partial result before any element (the result of an empty reduction, except mean:
    /// NaN, and logSumExp: -inf).
    @inline(__always) @usableFromInline
    var identity: Float {
        switch self {
        case .max, .logSumExp: return -.infinity
        case .min: return .infinity
        case .prod: return 1
        default: return 0
        }
    }
}

extension ISAKernels {
    /// Reduces the dims flagged in `axes` (one flag per dim of `shape`). `output` holds the
    /// kept dims in order. Empty reductions: sum, l1, l2, sumSquare 0; prod 1; mean NaN;
    /// max and logSumExp -inf; min +inf. max and min propagate NaN.
    public static func reduce(_ op: ReduceOp, input: UnsafePointer<Float>, shape: [Int], axes: [Bool],
                              output: UnsafeMutablePointer<Float>) {
        kernelPrecondition(isShape(shape) && axes.count == shape.count, "reduce: shape \(shape), axes \(axes)")
        let rank = shape.count
        var outCount = 1, redCount = 1
        for d in 0..<rank {
            if d < axes.count && axes[d] { redCount &*= shape[d] } else { outCount &*= shape[d] }
        }
        if outCount == 0 { return }
        if redCount == 0 {
            fill(output, outCount, op == .mean ? .nan : op.identity)
            return
        }
        // Iteration space over the input; operands: input (dense), output (0 on reduced dims).
        let r = max(rank, 1)
        withUnsafeTemporaryAllocation(of: Int.self, capacity: r &* 9 &+ 4) { buf in
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
            if op == .logSumExp {
                logSumExpByOutput(input: input, output: output, rank: r, shape: sh, strides: st, scratch: counters)
                return
            }
            let nr = collapseDims(rank: r, shape: sh, strides: st, operands: 2)
            let n = sh[nr &- 1]
            let innerReduced = st[2 &* nr &- 1] == 0  // innermost dim reduced (input stride is 1)

            if nr <= 2 && innerReduced {
                // (outer, reduced) fast path: global pooling layout.
                let outer = nr == 2 ? sh[0] : 1
                for o in 0..<outer { output[o] = reduceContiguous(op, input + o &* n, n) }
            } else {
                fill(output, outCount, op.identity)
                walkOuter(rank: nr, shape: sh, strides: st, operands: 2, scratch: counters) { off in
                    let src = input + off[0]
                    let dst = output + off[1]
                    if innerReduced {
                        dst[0] = combineReduced(op, dst[0], reduceContiguous(op, src, n))
                    } else {
                        accumulateRow(op, dst, src, n)
                    }
                }
            }
            if op == .mean {
                let inv = 1 / Float(redCount)
                for i in 0..<outCount { output[i] *= inv }
            } else if op == .l2 {
                for i in 0..<outCount { output[i] = output[i].squareRoot() }
            }
        }
    }
}

/// logSumExp, one output element at a time: its reduced elements are read twice, for their
/// max m and for sum(exp(x - m)); output = m + log(sum) (m itself when m is not finite).
/// `shape`/`strides` are the uncollapsed iteration space (input strides, then output strides
/// with 0 on reduced dims); `scratch` holds 6 * rank + 4 Ints.
@inline(__always)
func logSumExpByOutput(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, rank: Int,
                       shape: UnsafeMutablePointer<Int>, strides: UnsafeMutablePointer<Int>,
                       scratch: UnsafeMutablePointer<Int>) {
    // Kept dims: (shape, input stride, output stride); reduced dims: (shape, input stride).
    let kSh = scratch, kSt = kSh + rank, rSh = kSt + 2 &* rank, rSt = rSh + rank
    let kCnt = rSt + rank  // rank + 2
    var nk = 0, nrd = 0
    for d in 0..<rank {
        if strides[rank &+ d] == 0 && shape[d] != 1 {
            rSh[nrd] = shape[d]; rSt[nrd] = strides[d]; nrd &+= 1
        } else {
            kSh[nk] = shape[d]; kSt[nk] = strides[d]; nk &+= 1
        }
    }
    // Output strides of the kept dims follow their input strides' slots (operand-major).
    var outStride = 1
    var k = nk &- 1
    while k >= 0 { kSt[nk &+ k] = outStride; outStride &*= kSh[k]; k &-= 1 }
    if nk == 0 { kSh[0] = 1; kSt[0] = 0; kSt[1] = 0; nk = 1 }
    if nrd == 0 { rSh[0] = 1; rSt[0] = 0; nrd = 1 }
    // Outer kept dims are walked; the innermost kept dim is a loop here.
    let kn = kSh[nk &- 1], kIn = kSt[nk &- 1], kOut = kSt[2 &* nk &- 1]
    walkOuter(rank: nk, shape: kSh, strides: kSt, operands: 2, scratch: kCnt) { off in
        for j in 0..<kn {
            let base = input + (off[0] &+ j &* kIn)
            var m: Float = -.infinity
            forEachReduced(base, rank: nrd, shape: rSh, strides: rSt) { x in m = maxNaNScalar(m, x) }
            if !m.isFinite {
                output[off[1] &+ j &* kOut] = m
                continue
            }
            var s: Float = 0
            forEachReduced(base, rank: nrd, shape: rSh, strides: rSt) { x in s += expf(x - m) }
            output[off[1] &+ j &* kOut] = m + logf(s)
        }
    }
}

/// Calls `body` with each element of the `rank`-dim space `shape` (rank >= 1) read through
/// `strides` from `base`, in row-major order. The outer position is decomposed from its flat
/// index (no counters to keep); the innermost dim is a strided loop.
@inline(__always)
func forEachReduced(_ base: UnsafePointer<Float>, rank: Int, shape: UnsafePointer<Int>, strides: UnsafePointer<Int>,
                    _ body: (Float) -> Void) {
    let n = shape[rank &- 1], s = strides[rank &- 1]
    if rank == 1 {
        for i in 0..<n { body(base[i &* s]) }
        return
    }
    // Outer dims: flat index decomposed per outer element (no counters to keep).
    var outer = 1
    for d in 0..<(rank &- 1) { outer &*= shape[d] }
    for o in 0..<outer {
        var rem = o, off = 0
        var d = rank &- 2
        while d >= 0 { off &+= (rem % shape[d]) &* strides[d]; rem /= shape[d]; d &-= 1 }
        let p = base + off
        for i in 0..<n { body(p[i &* s]) }
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
