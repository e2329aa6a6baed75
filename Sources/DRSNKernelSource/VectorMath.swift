// Vector math for `unaryMath` and `binaryMath`: exp, log, tanh, erf and pow on 8 float32
// lanes, SIMD only (no libm calls, no allocation), the same results in every lane position
// (tails use the same code on a partial vector), so split runs match whole runs bit for bit.
//
// Polynomial coefficients were fitted for this file (weighted least squares on Chebyshev
// nodes, then rounded to float32) and checked against float64 references; the measured
// maximum errors (float32 inputs over the function's whole range, no FMA: the baseline
// variant; FMA variants are as good or better) are stated on each function and asserted by
// Tests/DRSNKernelsTests/UnaryMathTests.swift.
//
// The entry functions (expV, logV, log1pUnit, tanhV, erfV, geluV, expm1NonPositive, logisticV,
// sqrtV, powV) are kept out of line (@inline(never)): one call per 8 lanes costs little next
// to their polynomials, and Tests/hygiene.sh checks each of them by name in every variant.
// Their helpers are inlined into them.
//
// Special values: every function propagates NaN; clamps use `replacing(where: x .> c)`,
// which keeps NaN lanes unchanged, and NaN lanes may compute garbage exponent bits with
// wrapping integer arithmetic (never a trap) that the NaN operand then overrides.

@inline(__always) @usableFromInline
func bitsOf(_ x: V8) -> SIMD8<Int32> { unsafeBitCast(x, to: SIMD8<Int32>.self) }

@inline(__always) @usableFromInline
func floatsOf(_ b: SIMD8<Int32>) -> V8 { unsafeBitCast(b, to: V8.self) }

/// |x| with the sign of s (sign bits copied, NaN payloads kept).
@inline(__always) @usableFromInline
func copySign(_ x: V8, _ s: V8) -> V8 {
    let m = SIMD8<Int32>(repeating: Int32(bitPattern: 0x8000_0000))
    return floatsOf((bitsOf(x) & ~m) | (bitsOf(s) & m))
}

/// One step of Horner's rule, c + p * x: polynomials below start from their highest
/// coefficient and take one step per lower one (spelled out: no coefficient arrays).
@inline(__always) @usableFromInline
func hornerStep(_ p: V8, _ x: V8, _ c: Float) -> V8 { madd(V8(repeating: c), p, x) }

// MARK: - exp

/// exp(x) over the whole float range: Cephes range reduction (n = round(x / ln 2), ln 2 in
/// two parts) and its degree-6 polynomial, scaled by 2^n in two halves so that results
/// between 2^-149 and 2^-126 come out subnormal (as onnxruntime's) instead of 0. Max error
/// 1.25 ulp (normal results); overflow gives +inf (x > 88.72284), x < -103.97 gives 0.
@inline(never) @usableFromInline
func expV(_ xIn: V8) -> V8 {
    let hiC = V8(repeating: 88.8), loC = V8(repeating: -104)
    var x = xIn.replacing(with: hiC, where: xIn .> hiC)
    x.replace(with: loC, where: x .< loC)
    let (y, nBits) = expReduced(x)  // Common.swift: the reduction expNonPositive uses
    // n in [-150, 129]: 2^n as 2^(n >> 1) * 2^(n - (n >> 1)), both normal.
    let n1 = nBits &>> 1, n2 = nBits &- n1
    let bias = SIMD8<Int32>(repeating: 127), shift = SIMD8<Int32>(repeating: 23)
    return y * floatsOf((n1 &+ bias) &<< shift) * floatsOf((n2 &+ bias) &<< shift)
}

// MARK: - log

/// log(x) for every float: Cephes-style reduction x = 2^e * m with m in [sqrt(1/2), sqrt(2)),
/// log(m) = f - f^2/2 + f^3 P(f) (f = m - 1, P of degree 8 fitted here), e * ln 2 added in two
/// parts. Subnormal inputs are scaled by 2^23 first. Max error 0.74 ulp. log(±0) = -inf,
/// log(x < 0) = NaN, log(+inf) = +inf.
@inline(never) @usableFromInline
func logV(_ x: V8) -> V8 {
    let tiny = x .< V8(repeating: .leastNormalMagnitude)
    let xs = x.replacing(with: x * V8(repeating: 8_388_608), where: tiny)
    let bits = bitsOf(xs)
    var e = (bits &>> SIMD8<Int32>(repeating: 23)) &- SIMD8<Int32>(repeating: 127)
    e.replace(with: e &- SIMD8<Int32>(repeating: 23), where: tiny)
    var m = floatsOf((bits & SIMD8<Int32>(repeating: 0x007f_ffff)) | SIMD8<Int32>(repeating: 0x3f80_0000))
    let big = m .> V8(repeating: 1.414_213_56)
    m.replace(with: m * V8(repeating: 0.5), where: big)
    e.replace(with: e &+ SIMD8<Int32>(repeating: 1), where: big)
    // e as a float: exact for |e| < 2^22 (magic-number conversion, no cvt instruction needed).
    let magic = SIMD8<Int32>(repeating: 0x4B40_0000)  // bits of 1.5 * 2^23
    let ef = floatsOf(e &+ magic) - V8(repeating: 12_582_912.0)
    let f = m - V8(repeating: 1)
    let z = f * f
    var p = V8(repeating: 0.06675271689891815)
    p = hornerStep(p, f, -0.11646434664726257)
    p = hornerStep(p, f, 0.1190471202135086)
    p = hornerStep(p, f, -0.12411268800497055)
    p = hornerStep(p, f, 0.14217890799045563)
    p = hornerStep(p, f, -0.16667643189430237)
    p = hornerStep(p, f, 0.20002204179763794)
    p = hornerStep(p, f, -0.25000014901161194)
    p = hornerStep(p, f, 0.3333331048488617)
    var y = f * (z * p)
    y = madd(y, ef, V8(repeating: -2.121_944_4e-4))
    y = madd(y, z, V8(repeating: -0.5))
    var r = f + y
    r = madd(r, ef, V8(repeating: 0.693_359_375))
    r.replace(with: .nan, where: x .< V8())
    r.replace(with: -.infinity, where: x .== V8())
    r.replace(with: .infinity, where: x .== V8(repeating: .infinity))
    r.replace(with: x, where: x .!= x)
    return r
}

/// log(1 + u) for u in [0, 1] (softplus), without cancellation for small u: with w = 1 + u
/// rounded, log(w) * u / (w - 1) (Goldberg's correction), and u itself when w == 1.
@inline(never) @usableFromInline
func log1pUnit(_ u: V8) -> V8 {
    let w = u + V8(repeating: 1)
    let d = w - V8(repeating: 1)
    let r = logV(w) * (u / d)
    return r.replacing(with: u, where: d .== V8())
}

// MARK: - tanh, erf

/// tanh(x): x + x^3 P(x^2) (degree 4, fitted) for |x| < 0.625, else
/// sign(x) * (1 - 2 / (exp(2|x|) + 1)). Max error 1.23 ulp.
@inline(never) @usableFromInline
func tanhV(_ x: V8) -> V8 {
    let ax = absV(x)
    let z = x * x
    var p = V8(repeating: -0.0057189627550542355)
    p = hornerStep(p, z, 0.020653124898672104)
    p = hornerStep(p, z, -0.05374465882778168)
    p = hornerStep(p, z, 0.13331513106822968)
    p = hornerStep(p, z, -0.3333328664302826)
    let small = copySign(madd(x, x * z, p), x)  // tanh(-0) = -0 (-0 + +0 would be +0)
    var a2 = ax + ax
    a2.replace(with: V8(repeating: 88), where: a2 .> V8(repeating: 88))
    let e = expV(a2)
    let big = copySign(V8(repeating: 1) - V8(repeating: 2) / (e + V8(repeating: 1)), x)
    return big.replacing(with: small, where: ax .< V8(repeating: 0.625))
}

/// Lower end of the erfc branch of `erfV`/`geluV`.
@usableFromInline let erfSplit: Float = 0.921875

/// erf(x) for |x| < `erfSplit`: x + x P(x^2) (degree 6, fitted). Max error 1.06 ulp.
@inline(__always) @usableFromInline
func erfSmall(_ x: V8) -> V8 {
    let z = x * x
    var p = V8(repeating: 8.410464943153784e-05)
    p = hornerStep(p, z, -0.0008153626113198698)
    p = hornerStep(p, z, 0.005202159285545349)
    p = hornerStep(p, z, -0.0268599484115839)
    p = hornerStep(p, z, 0.11283708363771439)
    p = hornerStep(p, z, -0.37612634897232056)
    p = hornerStep(p, z, 0.12837916612625122)
    return madd(x, x, p)
}

/// h(t) = log(erfc(t)) + t^2 for t in [`erfSplit`, 4.5] (t is clamped to 4.5 above): a
/// degree-9 polynomial in t - erfSplit, fitted; absolute error 4e-7.
@inline(__always) @usableFromInline
func erfcLogHead(_ t: V8) -> V8 {
    var tc = t.replacing(with: V8(repeating: 4.5), where: t .> V8(repeating: 4.5))
    tc = tc - V8(repeating: erfSplit)
    var h = V8(repeating: -9.570364056799008e-08)
    h = hornerStep(h, tc, 2.943522986242897e-06)
    h = hornerStep(h, tc, -4.1373165004188195e-05)
    h = hornerStep(h, tc, 0.00036090397043153644)
    h = hornerStep(h, tc, -0.0022476366721093655)
    h = hornerStep(h, tc, 0.010949209332466125)
    h = hornerStep(h, tc, -0.044874705374240875)
    h = hornerStep(h, tc, 0.16702382266521454)
    h = hornerStep(h, tc, -0.6642637848854065)
    return hornerStep(h, tc, -0.7987083792686462)
}

/// h(t) = log(erfc(t)) + t^2 for t in [4.5, 10.5] (t is clamped to that range): a
/// degree-7 polynomial in t - 4.5, fitted; absolute error 7e-7. Beyond 10.5 erfc is below
/// 1e-49, so x / 2 * erfc underflows to zero for every float x.
@inline(__always) @usableFromInline
func erfcLogTail(_ t: V8) -> V8 {
    var tc = t.replacing(with: V8(repeating: 10.5), where: t .> V8(repeating: 10.5))
    tc.replace(with: V8(repeating: 4.5), where: tc .< V8(repeating: 4.5))
    tc = tc - V8(repeating: 4.5)
    var h = V8(repeating: -8.403657858480074e-08)
    h = hornerStep(h, tc, 2.569291609688662e-06)
    h = hornerStep(h, tc, -3.6817109503317624e-05)
    h = hornerStep(h, tc, 0.000350832735421136)
    h = hornerStep(h, tc, -0.0027601211331784725)
    h = hornerStep(h, tc, 0.02159244753420353)
    h = hornerStep(h, tc, -0.21238932013511658)
    return hornerStep(h, tc, -2.099768877029419)
}

/// erfc(t) for t >= `erfSplit` (and +inf) as exp(h(t) - t^2) with h = `erfcLogHead`, which
/// holds h(4.5) beyond 4.5 (erfc below 3e-10 there: enough for erf = 1 - erfc). Relative
/// error 2.2e-6 without FMA (the rounding of t^2), at most 1.05 ulp of 1 - erfc.
@inline(__always) @usableFromInline
func erfcLarge(_ t: V8) -> V8 {
    expV(madd(erfcLogHead(t), -t, t))
}

/// erf(x): `erfSmall` below `erfSplit`, else sign(x) * (1 - erfc(|x|)). Max error 1.02 ulp.
@inline(never) @usableFromInline
func erfV(_ x: V8) -> V8 {
    let ax = absV(x)
    let big = copySign(V8(repeating: 1) - erfcLarge(ax), x)
    return big.replacing(with: erfSmall(x), where: ax .< V8(repeating: erfSplit))
}

/// log(erfc(t)) + t^2 for t >= `erfSplit`: `erfcLogHead` below 4.5, `erfcLogTail` above
/// (gelu's negative tail, down to the smallest subnormal results).
@inline(__always) @usableFromInline
func erfcLogWide(_ t: V8) -> V8 {
    erfcLogTail(t).replacing(with: erfcLogHead(t), where: t .< V8(repeating: 4.5))
}

/// x / 2 * (1 + erf(x / sqrt 2)); for t = x / sqrt 2 <= -erfSplit as x / 2 * erfc(|t|) with
/// erfc(|t|) = exp(h(|t|) - x^2 / 2) (`erfcLogWide`), which keeps the relative accuracy in
/// the negative tail where 1 + erf would cancel, down to subnormal results. x^2 / 2 is
/// x * (x / 2), one fused multiply-add with h on FMA variants; the relative error of the
/// tail is 4.3e-6 there and 8e-6 on the baseline variant (the rounding of x^2 near x = -14).
/// Above x = -1.3 the error is 3.2 ulp (1 + erf cancels a little just above -1.3).
@inline(never) @usableFromInline
func geluV(_ x: V8) -> V8 {
    let t = x * V8(repeating: 0.707_106_77)
    let at = absV(t)
    let ec = expV(madd(erfcLogWide(at), x, V8(repeating: -0.5) * x))
    var s = ec.replacing(with: V8(repeating: 2) - ec, where: t .> V8())
    s.replace(with: V8(repeating: 1) + erfSmall(t), where: at .< V8(repeating: erfSplit))
    return V8(repeating: 0.5) * x * s
}

/// exp(x) - 1 for x <= 0 (elu, selu): x + x^2 P(x) (degree 6, fitted) for x > -0.5, where
/// exp(x) - 1 would cancel; exp(x) - 1 below. Max error 2.5 ulp (at -0.5, exp(x) - 1).
@inline(never) @usableFromInline
func expm1NonPositive(_ x: V8) -> V8 {
    var p = V8(repeating: 2.4737331841606647e-05)
    p = hornerStep(p, x, 0.00019973977759946138)
    p = hornerStep(p, x, 0.0013889556284993887)
    p = hornerStep(p, x, 0.00833314098417759)
    p = hornerStep(p, x, 0.041666656732559204)
    p = hornerStep(p, x, 0.1666666716337204)
    p = hornerStep(p, x, 0.5)
    let small = madd(x, x * x, p)
    let big = expV(x) - V8(repeating: 1)
    return big.replacing(with: small, where: x .> V8(repeating: -0.5))
}

/// Logistic function 1 / (1 + exp(-v)), stable for every v (e = exp(-|v|) never
/// overflows): v >= 0 -> 1 / (1 + e), v < 0 -> e / (1 + e). Keeps subnormal results.
@inline(never) @usableFromInline
func logisticV(_ v: V8) -> V8 {
    let e = expV(V8() - absV(v))
    let r = V8(repeating: 1) / (V8(repeating: 1) + e)
    return r.replacing(with: e * r, where: v .< V8())
}

// MARK: - pow (in double precision)

@usableFromInline typealias D8 = SIMD8<Double>
@usableFromInline typealias L8 = SIMD8<Int64>

/// 1.5 * 2^52: adding it to a double of magnitude < 2^51 rounds it to an integer held in the
/// low bits.
@usableFromInline let doubleMagic: Double = 6_755_399_441_055_744.0

/// log2(a) for finite a > 0 of float range (so a is a normal double): a = 2^e m with m in
/// [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s), s = (m - 1) / (m + 1) (|s| < 0.1716, series to
/// s^15: truncation below 4e-14 relative).
@inline(__always) @usableFromInline
func log2Positive(_ a: D8) -> D8 {
    let bits = unsafeBitCast(a, to: L8.self)
    var e = (bits &>> L8(repeating: 52)) &- L8(repeating: 1023)
    var m = unsafeBitCast((bits & L8(repeating: 0x000f_ffff_ffff_ffff)) | L8(repeating: 0x3ff0_0000_0000_0000), to: D8.self)
    let big = m .> D8(repeating: 1.414_213_562_373_095_1)
    m.replace(with: m * D8(repeating: 0.5), where: big)
    e.replace(with: e &+ L8(repeating: 1), where: big)
    let ed = unsafeBitCast(e &+ unsafeBitCast(D8(repeating: doubleMagic), to: L8.self), to: D8.self)
        - D8(repeating: doubleMagic)
    let s = (m - D8(repeating: 1)) / (m + D8(repeating: 1))
    let s2 = s * s
    var p = D8(repeating: 2.0 / 15)
    p = p * s2 + D8(repeating: 2.0 / 13)
    p = p * s2 + D8(repeating: 2.0 / 11)
    p = p * s2 + D8(repeating: 2.0 / 9)
    p = p * s2 + D8(repeating: 2.0 / 7)
    p = p * s2 + D8(repeating: 2.0 / 5)
    p = p * s2 + D8(repeating: 2.0 / 3)
    p = p * s2 + D8(repeating: 2)
    return ed + (s * p) * D8(repeating: 1.442_695_040_888_963_4)
}

/// 2^t in double: t clamped to [-320, 320] (beyond float range either way; NaN kept),
/// n = round(t), 2^(t - n) by the degree-11 Taylor polynomial of exp on |z| <= ln(2) / 2
/// (truncation below 1e-14), times 2^n built from its bits.
@inline(__always) @usableFromInline
func exp2Double(_ tIn: D8) -> D8 {
    var t = tIn.replacing(with: D8(repeating: 320), where: tIn .> D8(repeating: 320))
    t.replace(with: D8(repeating: -320), where: t .< D8(repeating: -320))
    let magic = D8(repeating: doubleMagic)
    let tr = t + magic
    let n = tr - magic
    let z = (t - n) * D8(repeating: 0.693_147_180_559_945_3)
    var p = D8(repeating: 1.0 / 39_916_800)
    p = p * z + D8(repeating: 1.0 / 3_628_800)
    p = p * z + D8(repeating: 1.0 / 362_880)
    p = p * z + D8(repeating: 1.0 / 40_320)
    p = p * z + D8(repeating: 1.0 / 5_040)
    p = p * z + D8(repeating: 1.0 / 720)
    p = p * z + D8(repeating: 1.0 / 120)
    p = p * z + D8(repeating: 1.0 / 24)
    p = p * z + D8(repeating: 1.0 / 6)
    p = p * z + D8(repeating: 0.5)
    p = p * z + D8(repeating: 1)
    p = p * z + D8(repeating: 1)
    let nBits = unsafeBitCast(tr, to: L8.self) &- unsafeBitCast(magic, to: L8.self)
    return p * unsafeBitCast((nBits &+ L8(repeating: 1023)) &<< L8(repeating: 52), to: D8.self)
}

/// Float lanes widened to double (exact), as two halves: the whole-vector conversion is a
/// generic stdlib specialisation the linker would share across the ISA variants.
@inline(__always) @usableFromInline
func widen(_ x: V8) -> D8 { D8(lowHalf: SIMD4<Double>(x.lowHalf), highHalf: SIMD4<Double>(x.highHalf)) }

/// Double lanes rounded to float (to nearest; overflow to ±inf, underflow to subnormals or
/// ±0), as two halves (see `widen`).
@inline(__always) @usableFromInline
func narrow(_ d: D8) -> V8 { V8(lowHalf: SIMD4<Float>(d.lowHalf), highHalf: SIMD4<Float>(d.highHalf)) }

/// sqrt(x), correctly rounded (as IEEE sqrt): `squareRoot()` on SIMD types is a libm call per
/// lane, so this is Newton's method in double precision: an rsqrt estimate from the bits,
/// four rsqrt iterations (relative error below 1e-20 before rounding), s = d r and one
/// correction s + (d - s^2) r / 2 (error about 1 double ulp, far below the 2^-50 relative
/// distance that separates the square root of a float from a float rounding boundary);
/// Tests/DRSNKernelsTests/UnaryMathTests.swift compares it with IEEE sqrt on every float of
/// [1, 4) (all mantissas of both exponent parities). sqrt(±0) = ±0, sqrt(x < 0) = NaN,
/// sqrt(+inf) = +inf.
@inline(never) @usableFromInline
func sqrtV(_ x: V8) -> V8 {
    let d = widen(x)
    var r = unsafeBitCast(L8(repeating: 0x5fe6_eb50_c7b5_37a9) &- (unsafeBitCast(d, to: L8.self) &>> L8(repeating: 1)),
                          to: D8.self)
    let half = D8(repeating: 0.5), threeHalves = D8(repeating: 1.5)
    let hd = half * d
    r = r * (threeHalves - hd * r * r)
    r = r * (threeHalves - hd * r * r)
    r = r * (threeHalves - hd * r * r)
    r = r * (threeHalves - hd * r * r)
    var s = d * r
    s = s + half * (d - s * s) * r
    var y = narrow(s)
    y.replace(with: .nan, where: x .< V8())
    y.replace(with: x, where: (x .== V8()) .| (x .== V8(repeating: .infinity)) .| (x .!= x))
    return y
}

/// x^y elementwise with C `powf` semantics, computed as 2^(y log2|x|) in double precision
/// (error about 1e-12 relative before the final rounding to float, so results are correctly
/// rounded except within 1e-12 of a rounding boundary), then: the sign of x for a negative
/// x and an odd integer y, NaN for a finite negative x and a non-integer y, 1 for y = ±0,
/// x = 1 or |x| = 1 with y = ±inf (even when the other operand is NaN). Zero and infinite
/// operands follow from log2(0) = -inf and log2(inf) = inf (pow(-0, -3) = -inf,
/// pow(-inf, 0.5) = +inf, ...).
@inline(never) @usableFromInline
func powV(_ x: V8, _ y: V8) -> V8 {
    let xd = widen(x), yd = widen(y)
    let signMask = L8(repeating: Int64.min)
    let ax = unsafeBitCast(unsafeBitCast(xd, to: L8.self) & ~signMask, to: D8.self)
    let ay = unsafeBitCast(unsafeBitCast(yd, to: L8.self) & ~signMask, to: D8.self)
    var l = log2Positive(ax)
    l.replace(with: -.infinity, where: ax .== D8())
    l.replace(with: .infinity, where: ax .== D8(repeating: .infinity))
    l.replace(with: ax, where: ax .!= ax)
    var r = exp2Double(yd * l)
    // Integer and odd exponents: every float >= 2^24 is an even integer; below it,
    // ay + 2^52 rounds ay to an integer whose parity is the lowest bit.
    let two52 = D8(repeating: 4_503_599_627_370_496.0)
    let shifted = ay + two52
    let huge = ay .>= D8(repeating: 16_777_216)
    let whole = (shifted - two52) .== ay
    let yInt = huge .| whole
    let yOdd = (.!huge) .& whole .& ((unsafeBitCast(shifted, to: L8.self) & L8(repeating: 1)) .== L8(repeating: 1))
    let xSign = (unsafeBitCast(xd, to: L8.self) & signMask) .!= L8()
    r.replace(with: D8() - r, where: xSign .& yOdd)
    r.replace(with: .nan, where: (xd .< D8()) .& (xd .> D8(repeating: -.infinity)) .& (.!yInt))
    r.replace(with: 1, where: (yd .== D8()) .| (xd .== D8(repeating: 1))
                               .| ((ax .== D8(repeating: 1)) .& (ay .== D8(repeating: .infinity))))
    return narrow(r)
}
