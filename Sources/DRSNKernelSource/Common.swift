// DRSNKernels: pure float32 kernels on raw pointers with explicit shapes.
//
// Conventions for the whole module:
//  * every tensor is dense row-major unless explicit strides are passed;
//  * sizes are Int element counts; callers validate shapes (kernels only `assert`);
//  * kernels never allocate on the heap per element. A few entry points taking small
//    shape arrays use `withUnsafeTemporaryAllocation` for their loop counters (stack);
//  * ISA variants: this folder is compiled as three modules on x86_64 (Package.swift;
//    the target folders are symlinks to this one): DRSNKernelsAVX512 (`-march=x86-64-v4`,
//    `-D DRSN_ISA_AVX512`), DRSNKernelsAVX2 (`-march=x86-64-v3`, `-D DRSN_ISA_AVX2`) and
//    DRSNKernelsBaseline (plain x86-64, no flag); elsewhere only DRSNKernelsBaseline
//    (native ISA). The module DRSNKernels picks one at first use from CPUID.
//    Write multiply-adds with `madd`, never `addingProduct`: without an FMA-capable
//    `-march`, `addingProduct` lowers to one `fmaf` call per lane (~200x slower).
//    Keep the variants to raw pointers and SIMD types: generic stdlib code specialised
//    here is emitted as weak symbols that the linker may share across variants
//    (Tests/hygiene.sh checks the hot kernels).
//  * the modules are compiled with `-Ounchecked -enforce-exclusivity=unchecked`.
//  * no global mutable state: every entry point is safe to call concurrently on disjoint
//    outputs (each thread with its own scratch).
//
// Aliasing: `unary`, `channelScaleShift`, `softThreshold` and `softmax` may run in place
// (output == input). `binary`/`select` may write over an input that is read with the
// output's own dense strides. Everything else (sgemm's C vs A/B, conv, pooling, reduce,
// transpose, concat, slice, pad, gather) needs non-overlapping input and output.
//
// Scratch: `conv2D` takes `convScratchElements(p)` floats (any pointer when that is 0);
// `sgemm(..., scratch:)` takes `sgemmScratchElements(m:n:k:)`. Alignment is handled inside.

@usableFromInline typealias V4 = SIMD4<Float>
@usableFromInline typealias V8 = SIMD8<Float>
@usableFromInline typealias V16 = SIMD16<Float>

// MARK: - ISA variant

#if DRSN_ISA_AVX512
/// Name of the ISA this variant is compiled for.
public let kernelVariantName = "avx512"
/// Register-width vector of the register tiles (one zmm / ymm / xmm register).
@usableFromInline typealias VG = SIMD16<Float>
#elseif DRSN_ISA_AVX2
public let kernelVariantName = "avx2"
@usableFromInline typealias VG = SIMD8<Float>
#else
public let kernelVariantName = "baseline"
@usableFromInline typealias VG = SIMD4<Float>
#endif

#if DRSN_ISA_AVX512 || DRSN_ISA_AVX2 || arch(arm64)
/// Fused acc + a * b (the build has hardware FMA).
@inline(__always) @usableFromInline func madd(_ acc: V4, _ a: V4, _ b: V4) -> V4 { acc.addingProduct(a, b) }
@inline(__always) @usableFromInline func madd(_ acc: V8, _ a: V8, _ b: V8) -> V8 { acc.addingProduct(a, b) }
@inline(__always) @usableFromInline func madd(_ acc: V16, _ a: V16, _ b: V16) -> V16 { acc.addingProduct(a, b) }
/// `madd` on one float: the bits of one lane of the vector `madd`.
@inline(__always) @usableFromInline func maddScalar(_ acc: Float, _ a: Float, _ b: Float) -> Float { acc.addingProduct(a, b) }
#else
/// acc + a * b as a multiply and an add: without hardware FMA, `addingProduct` would call `fmaf` per lane.
@inline(__always) @usableFromInline func madd(_ acc: V4, _ a: V4, _ b: V4) -> V4 { acc + a * b }
@inline(__always) @usableFromInline func madd(_ acc: V8, _ a: V8, _ b: V8) -> V8 { acc + a * b }
@inline(__always) @usableFromInline func madd(_ acc: V16, _ a: V16, _ b: V16) -> V16 { acc + a * b }
@inline(__always) @usableFromInline func maddScalar(_ acc: Float, _ a: Float, _ b: Float) -> Float { acc + a * b }
#endif

/// Horizontal sums. Not the stdlib `sum()`: its SIMD16 specialisation is emitted as a weak
/// symbol in every variant and the linker keeps only one of them (AVX-512 code reached from
/// the baseline path, or the reverse).
@inline(__always) @usableFromInline
func hsum(_ v: V4) -> Float { (v[0] + v[2]) + (v[1] + v[3]) }

@inline(__always) @usableFromInline
func hsum(_ v: V8) -> Float { hsum(v.lowHalf + v.highHalf) }

@inline(__always) @usableFromInline
func hsum(_ v: V16) -> Float { hsum(v.lowHalf + v.highHalf) }

@inline(__always) @usableFromInline
func loadG(_ p: UnsafePointer<Float>) -> VG {
    UnsafeRawPointer(p).loadUnaligned(as: VG.self)
}

@inline(__always) @usableFromInline
func storeG(_ v: VG, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: VG.self)
}

@inline(__always) @usableFromInline
func load8(_ p: UnsafePointer<Float>) -> V8 {
    UnsafeRawPointer(p).loadUnaligned(as: V8.self)
}

@inline(__always) @usableFromInline
func load16(_ p: UnsafePointer<Float>) -> V16 {
    UnsafeRawPointer(p).loadUnaligned(as: V16.self)
}

@inline(__always) @usableFromInline
func store8(_ v: V8, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V8.self)
}

@inline(__always) @usableFromInline
func store16(_ v: V16, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V16.self)
}

/// Loads `count` (< 8) floats into the low lanes of a vector, zero elsewhere.
@inline(__always) @usableFromInline
func loadPartial8(_ p: UnsafePointer<Float>, _ count: Int) -> V8 {
    var v = V8()
    var i = 0
    while i < count { v[i] = p[i]; i &+= 1 }
    return v
}

@inline(__always) @usableFromInline
func storePartial8(_ v: V8, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    var i = 0
    while i < count { p[i] = v[i]; i &+= 1 }
}

@inline(__always) @usableFromInline
func absV(_ x: V8) -> V8 {
    unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & SIMD8<UInt32>(repeating: 0x7fff_ffff), to: V8.self)
}

/// max that propagates NaN from either side.
@inline(__always) @usableFromInline
func maxNaN(_ a: V8, _ b: V8) -> V8 {
    var r = a.replacing(with: b, where: b .> a)
    r.replace(with: b, where: b .!= b)
    return r
}

/// min that propagates NaN from either side.
@inline(__always) @usableFromInline
func minNaN(_ a: V8, _ b: V8) -> V8 {
    var r = a.replacing(with: b, where: b .< a)
    r.replace(with: b, where: b .!= b)
    return r
}

@inline(__always) @usableFromInline
func maxNaNScalar(_ a: Float, _ b: Float) -> Float {
    if b.isNaN { return b }
    return b > a ? b : a
}

@inline(__always) @usableFromInline
func minNaNScalar(_ a: Float, _ b: Float) -> Float {
    if b.isNaN { return b }
    return b < a ? b : a
}

/// Floor division for a positive divisor.
@inline(__always) @usableFromInline
func floorDiv(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && a < 0) ? q &- 1 : q
}

/// Ceiling division for a positive divisor.
@inline(__always) @usableFromInline
func ceilDiv(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && a > 0) ? q &+ 1 : q
}

/// Fills `count` floats with `value`.
@inline(__always) @usableFromInline
func fill(_ p: UnsafeMutablePointer<Float>, _ count: Int, _ value: Float) {
    let v = V8(repeating: value)
    var i = 0
    while i &+ 8 <= count { store8(v, p + i); i &+= 8 }
    while i < count { p[i] = value; i &+= 1 }
}

/// Copies `count` floats (regions may not overlap unless identical).
@inline(__always) @usableFromInline
func copyFloats(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    if count <= 0 || UnsafePointer(dst) == src { return }
    dst.update(from: src, count: count)
}

// MARK: - Strided N-operand walker

/// Iterates over the outer dimensions (all but the last) of a collapsed iteration space.
/// `strides` holds `operands * rank` entries, operand-major. For each outer index the body
/// receives the element offsets of every operand (the innermost run is the body's job).
@inline(__always) @usableFromInline
func walkOuter(rank: Int, shape: UnsafePointer<Int>, strides: UnsafePointer<Int>, operands: Int,
               scratch: UnsafeMutablePointer<Int> /* rank + operands */,
               _ body: (UnsafePointer<Int>) -> Void) {
    let counters = scratch
    let offsets = scratch + rank
    for k in 0..<operands { offsets[k] = 0 }
    if rank <= 1 { body(UnsafePointer(offsets)); return }
    for d in 0..<rank { counters[d] = 0 }
    while true {
        body(UnsafePointer(offsets))
        var d = rank &- 2
        while true {
            counters[d] &+= 1
            if counters[d] < shape[d] {
                for k in 0..<operands { offsets[k] &+= strides[k &* rank &+ d] }
                break
            }
            for k in 0..<operands { offsets[k] &-= strides[k &* rank &+ d] &* (shape[d] &- 1) }
            counters[d] = 0
            if d == 0 { return }
            d &-= 1
        }
    }
}

/// Removes size-1 dimensions and merges adjacent dimensions whose strides are compatible
/// for every operand. Works in place; returns the new rank (>= 1; a scalar becomes [1]).
@usableFromInline
func collapseDims(rank: Int, shape: UnsafeMutablePointer<Int>, strides: UnsafeMutablePointer<Int>,
                  operands: Int) -> Int {
    // Drop size-1 dims.
    var r = 0
    for d in 0..<rank where shape[d] != 1 {
        shape[r] = shape[d]
        for k in 0..<operands { strides[k &* rank &+ r] = strides[k &* rank &+ d] }
        r &+= 1
    }
    if r == 0 {
        shape[0] = 1
        for k in 0..<operands { strides[k &* rank] = 0 }
        r = 1
    } else {
        // Merge from the inside out. Merged dims are written downward from index r-1;
        // the write position never overtakes the read position d.
        var out = r &- 1
        var accShape = shape[r &- 1]
        var m = 0
        var d = r &- 2
        while d >= 0 {
            var ok = true
            for k in 0..<operands where strides[k &* rank &+ d] != strides[k &* rank &+ out] &* accShape {
                ok = false; break
            }
            if ok {
                accShape &*= shape[d]
            } else {
                shape[out] = accShape
                out &-= 1
                m &+= 1
                accShape = shape[d]
                for k in 0..<operands { strides[k &* rank &+ out] = strides[k &* rank &+ d] }
            }
            d &-= 1
        }
        shape[out] = accShape
        m &+= 1
        if out > 0 {
            for i in 0..<m {
                shape[i] = shape[out &+ i]
                for k in 0..<operands { strides[k &* rank &+ i] = strides[k &* rank &+ out &+ i] }
            }
        }
        r = m
    }
    // Re-pack the strides to operand-major with the new rank.
    if r != rank {
        for k in 0..<operands {
            for i in 0..<r { strides[k &* r &+ i] = strides[k &* rank &+ i] }
        }
    }
    return r
}

/// Contiguous strides of a shape.
@inline(__always) @usableFromInline
func contiguousStrides(_ shape: UnsafePointer<Int>, _ rank: Int, into s: UnsafeMutablePointer<Int>) {
    var acc = 1
    var d = rank &- 1
    while d >= 0 { s[d] = acc; acc &*= shape[d]; d &-= 1 }
}

@inline(__always) @usableFromInline
func product(_ a: [Int]) -> Int {
    var p = 1
    for x in a { p &*= x }
    return p
}

// MARK: - Vector exp

/// The Cephes exp reduction shared by `expNonPositive` and VectorMath's `expV`, for an x the
/// caller has clamped: n = round(x / ln 2), r = x - n * ln 2 (ln 2 in two parts) and the
/// degree-6 polynomial y = e^r, so that exp(x) = y * 2^n; n comes back as an Int32 per lane.
/// The callers differ only in their clamps and in how they scale by 2^n.
@inline(__always) @usableFromInline
func expReduced(_ x: V8) -> (y: V8, n: SIMD8<Int32>) {
    let magic = V8(repeating: 12_582_912.0)  // 1.5 * 2^23: adding it rounds to an integer
    let fx = x * V8(repeating: 1.442_695_04)
    let tr = fx + magic
    let n = tr - magic
    var r = madd(x, n, V8(repeating: -0.693_359_375))
    r = madd(r, n, V8(repeating: 2.121_944_4e-4))
    var y = V8(repeating: 1.987_569_15e-4)
    y = madd(V8(repeating: 1.398_199_95e-3), y, r)
    y = madd(V8(repeating: 8.333_451_9e-3), y, r)
    y = madd(V8(repeating: 4.166_579_59e-2), y, r)
    y = madd(V8(repeating: 1.666_666_55e-1), y, r)
    y = madd(V8(repeating: 5.000_000_12e-1), y, r)
    y = madd(r + V8(repeating: 1), y, r * r)
    let nBits = unsafeBitCast(tr, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
    return (y, nBits)
}

/// exp(x) for x <= 0 (Cephes-style range reduction + degree-6 polynomial, ~1 ulp-ish).
/// Results below exp(-87.3) flush to 0; NaN propagates. Inputs > 88 are clamped (callers
/// only pass x <= 0).
@_transparent @usableFromInline
func expNonPositive(_ xIn: V8) -> V8 {
    let hiC = V8(repeating: 88.0), loC = V8(repeating: -87.3)
    var x = xIn.replacing(with: hiC, where: xIn .> hiC)
    x.replace(with: loC, where: x .< loC)
    let (y, nBits) = expReduced(x)
    let pow2 = unsafeBitCast((nBits &+ SIMD8<Int32>(repeating: 127)) &<< SIMD8<Int32>(repeating: 23), to: V8.self)
    var res = y * pow2
    res.replace(with: V8(), where: xIn .< loC)
    return res
}
