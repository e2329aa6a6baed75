// Single-precision GEMM: C = alpha * op(A) * op(B) + beta * C (row-major).
//
// GotoBLAS structure: B is packed in KC x NC panels of NR-column strips, A in MC x KC
// blocks of MR-row strips; a register tile of FMA accumulators does the work. Registers
// are `VG` (SIMD16 = zmm in the AVX-512 variant, SIMD8 = ymm in AVX2, SIMD4 = xmm in the
// baseline). A tile row is 4 zmm registers in AVX-512 (NR = 64: 32 registers leave room
// for 24 accumulators), 2 registers elsewhere (NR = 16 / 8, 16 registers).
// Two tiles, chosen per call from m: 6 x NR (24 / 12 accumulators) and, for small m where
// 6-row strips would compute many padded rows (m = 4, 8, 16, 20, 28, ... typical of small
// DRSN layers), 4 x NR (16 / 8 accumulators).
// AVX-512 measured (1 core, loaded machine): 6x64 vs 6x32 tiles +3% on 256x1024x256,
// +25-35% on small-m shapes (8x4096x72: 48 -> 61-66 GFLOPS, 16x4096x144: 67 -> 81-84).
// Edges are zero-padded in the packed buffers so the micro-kernel always runs full.

import DRSNKernelTypes

@usableFromInline let gemmKC = 256
@usableFromInline let gemmMC = 120   // multiple of 12 (both MR)
@usableFromInline let gemmNC = 512   // multiple of NR; KC x NC panel of B = 512 KB

@inline(__always)
func roundUp(_ x: Int, _ m: Int) -> Int { (x &+ m &- 1) / m &* m }

/// Number of floats of scratch `sgemm(..., scratch:)` needs (packing buffers + one tile,
/// plus slack for 64-byte alignment).
public func sgemmScratchElements(m: Int, n: Int, k: Int) -> Int {
    if m <= 0 || n <= 0 || k <= 0 { return 0 }
    let kc = min(k, gemmKC)
    let mc = min(roundUp(m, 12), gemmMC)
    let nc = min(roundUp(n, gemmNR), gemmNC)
    return kc &* mc &+ kc &* nc &+ 6 &* gemmNR &+ 16 &* 3
}

/// C = alpha * op(A) * op(B) + beta * C. op(A) is m x k, op(B) is k x n, C is m x n.
/// `beta == 0` overwrites C (NaN in C is ignored). Packing memory comes from
/// `withUnsafeTemporaryAllocation` (heap for large shapes); use the `scratch:` overload to
/// supply it yourself.
public func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    let need = sgemmScratchElements(m: m, n: n, k: k)
    if need == 0 || alpha == 0 {
        scaleC(m: m, n: n, beta: beta, c: c, ldc: ldc)
        return
    }
    if gemvFastPath(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                    b: b, ldb: ldb, beta: beta, c: c, ldc: ldc) { return }
    withUnsafeTemporaryAllocation(byteCount: need &* 4, alignment: 64) { raw in
        let s = raw.baseAddress!.bindMemory(to: Float.self, capacity: need)
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
              b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, scratch: s)
    }
}

/// Same as `sgemm` with caller-provided scratch of `sgemmScratchElements(m:n:k:)` floats.
public func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                  scratch: UnsafeMutablePointer<Float>) {
    if m <= 0 || n <= 0 { return }
    if k <= 0 || alpha == 0 {
        scaleC(m: m, n: n, beta: beta, c: c, ldc: ldc)
        return
    }
    if gemvFastPath(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                    b: b, ldb: ldb, beta: beta, c: c, ldc: ldc) { return }
    if transB {
        gemmPackedB(transA: transA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, beta: beta,
                    c: c, ldc: ldc, scratch: scratch) { pc, kc, jc, nc, dst in
            packBTrans(gemmNR, b + (jc &* ldb &+ pc), ldb, kc: kc, nc: nc, into: dst)
        }
    } else {
        gemmPackedB(transA: transA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, beta: beta,
                    c: c, ldc: ldc, scratch: scratch) { pc, kc, jc, nc, dst in
            packBNormal(gemmNR, b + (pc &* ldb &+ jc), ldb, kc: kc, nc: nc, into: dst)
        }
    }
}

/// Packs rows pc ..< pc+kc and columns jc ..< jc+nc of op(B) into gemmNR-wide strips
/// (strip s at dst + s*kc*gemmNR, row p of a strip at + p*gemmNR), zero-padding the last strip.
@usableFromInline
typealias BPacker = (_ pc: Int, _ kc: Int, _ jc: Int, _ nc: Int, _ dst: UnsafeMutablePointer<Float>) -> Void

/// Column width of the packed B strips (both micro-kernels): 4 zmm / 2 ymm / 2 xmm registers.
#if DRSN_ISA_AVX512
@usableFromInline let gemmNR = 64
#elseif DRSN_ISA_AVX2
@usableFromInline let gemmNR = 16
#else
@usableFromInline let gemmNR = 8
#endif

/// GEMM whose B operand is produced by `packB` (plain matrices, or implicit im2col in conv).
/// k > 0, m > 0, n > 0; scratch as for `sgemm(..., scratch:)`.
@inline(__always)
func gemmPackedB(transA: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                 beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, scratch: UnsafeMutablePointer<Float>,
                 packB: BPacker) {
    if useTile4xNR(m) {
        gemmDriver(mr: 4, transA: transA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                   beta: beta, c: c, ldc: ldc, scratch: scratch, packB: packB, kernel: microKernel4xNR)
    } else {
        gemmDriver(mr: 6, transA: transA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                   beta: beta, c: c, ldc: ldc, scratch: scratch, packB: packB, kernel: microKernel6xNR)
    }
}

/// The 4xNR tile (8 accumulators) runs somewhat slower than 6xNR (12 accumulators), so it
/// is used only where 6-row strips would waste many padded rows (m = 4, 8, 16, 20, ...).
@inline(__always)
func useTile4xNR(_ m: Int) -> Bool {
    let pad6 = roundUp(m, 6) &- m, pad4 = roundUp(m, 4) &- m
    return pad4 < pad6 && m < 48
}

@usableFromInline
typealias MicroKernel = (Int, UnsafePointer<Float>, UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>,
                         Int, Int, Int, Float, Float, UnsafeMutablePointer<Float>) -> Void

@inline(__always)
func gemmDriver(mr MR: Int, transA: Bool, m: Int, n: Int, k: Int, alpha: Float,
                a: UnsafePointer<Float>, lda: Int,
                beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                scratch: UnsafeMutablePointer<Float>, packB packBPanel: BPacker, kernel: MicroKernel) {
    let NR = gemmNR
    // Align the scratch to 64 bytes.
    let addr = Int(bitPattern: scratch)
    let aligned = UnsafeMutablePointer<Float>(bitPattern: (addr &+ 63) & ~63)!
    let kcMax = min(k, gemmKC)
    let mcMax = min(roundUp(m, MR), gemmMC)
    let packA = aligned
    let packB = aligned + roundUp(kcMax &* mcMax, 16)
    let ncMax = min(roundUp(n, NR), gemmNC)
    let tile = packB + roundUp(kcMax &* ncMax, 16)
    // (Reading B in place instead of packing it was tried for small m: with power-of-two
    // row strides the B strip thrashes L1 sets, so B is always packed.)

    var jc = 0
    while jc < n {
        let nc = min(gemmNC, n &- jc)
        var pc = 0
        while pc < k {
            let kc = min(gemmKC, k &- pc)
            let betaEff: Float = pc == 0 ? beta : 1
            packBPanel(pc, kc, jc, nc, packB)
            var ic = 0
            while ic < m {
                let mc = min(gemmMC, m &- ic)
                if transA {
                    packATrans(MR, a + (pc &* lda &+ ic), lda, mc: mc, kc: kc, into: packA)
                } else {
                    packANormal(MR, a + (ic &* lda &+ pc), lda, mc: mc, kc: kc, into: packA)
                }
                var jr = 0
                while jr < nc {
                    let nr = min(NR, nc &- jr)
                    let pb = UnsafePointer(packB + jr &* kc)
                    let sb = NR
                    var ir = 0
                    while ir < mc {
                        let mr = min(MR, mc &- ir)
                        let cp = c + ((ic &+ ir) &* ldc &+ jc &+ jr)
                        kernel(kc, UnsafePointer(packA + ir &* kc), pb, sb, cp, ldc, mr, nr, alpha, betaEff, tile)
                        ir &+= MR
                    }
                    jr &+= NR
                }
                ic &+= gemmMC
            }
            pc &+= gemmKC
        }
        jc &+= gemmNC
    }
}

@inline(__always)
func scaleC(m: Int, n: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m <= 0 || n <= 0 || beta == 1 { return }
    for i in 0..<m {
        let row = c + i &* ldc
        if beta == 0 {
            fill(row, n, 0)
        } else {
            for j in 0..<n { row[j] *= beta }
        }
    }
}

// MARK: matrix-vector fast paths (m == 1 or n == 1)

/// Dot product of two contiguous vectors, 4 SIMD8 FMA accumulators.
@inline(__always) @usableFromInline
func dotContiguous(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
    var a0 = V8(), a1 = V8(), a2 = V8(), a3 = V8()
    var i = 0
    while i &+ 32 <= n {
        a0 = madd(a0, load8(x + i), load8(y + i))
        a1 = madd(a1, load8(x + (i &+ 8)), load8(y + (i &+ 8)))
        a2 = madd(a2, load8(x + (i &+ 16)), load8(y + (i &+ 16)))
        a3 = madd(a3, load8(x + (i &+ 24)), load8(y + (i &+ 24)))
        i &+= 32
    }
    while i &+ 8 <= n { a0 = madd(a0, load8(x + i), load8(y + i)); i &+= 8 }
    var s = hsum((a0 + a1) + (a2 + a3))
    while i < n { s += x[i] * y[i]; i &+= 1 }
    return s
}

@inline(__always)
func finish(_ d: Float, _ c: UnsafeMutablePointer<Float>, alpha: Float, beta: Float) {
    c[0] = beta == 0 ? alpha * d : alpha * d + beta * c[0]
}

/// Handles the matrix-vector shapes for which packing would waste work. Returns false if
/// the shape is not one of them.
func gemvFastPath(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) -> Bool {
    if m == 1 && transB && (!transA || lda == 1) {
        // c[j] = dot(a, B row j)
        for j in 0..<n { finish(dotContiguous(a, b + j &* ldb, k), c + j, alpha: alpha, beta: beta) }
        return true
    }
    if n == 1 && !transA && (transB || ldb == 1) {
        // c[i] = dot(A row i, b)
        for i in 0..<m { finish(dotContiguous(a + i &* lda, b, k), c + i &* ldc, alpha: alpha, beta: beta) }
        return true
    }
    if m == 1 && !transB {
        // c += sum_p alpha * a_p * B[p, :], four rows of B per pass.
        scaleC(m: 1, n: n, beta: beta, c: c, ldc: ldc)
        let sa = transA ? lda : 1
        var p = 0
        while p < k {
            let rows = min(4, k &- p)
            let w0 = alpha * a[p &* sa]
            let w1: Float = rows > 1 ? alpha * a[(p &+ 1) &* sa] : 0
            let w2: Float = rows > 2 ? alpha * a[(p &+ 2) &* sa] : 0
            let w3: Float = rows > 3 ? alpha * a[(p &+ 3) &* sa] : 0
            let b0 = b + p &* ldb
            let b1 = rows > 1 ? b0 + ldb : b0
            let b2 = rows > 2 ? b1 + ldb : b0
            let b3 = rows > 3 ? b2 + ldb : b0
            let v0 = V8(repeating: w0), v1 = V8(repeating: w1), v2 = V8(repeating: w2), v3 = V8(repeating: w3)
            var j = 0
            while j &+ 8 <= n {
                var acc = load8(c + j)
                acc = madd(acc, load8(b0 + j), v0)
                acc = madd(acc, load8(b1 + j), v1)
                acc = madd(acc, load8(b2 + j), v2)
                acc = madd(acc, load8(b3 + j), v3)
                store8(acc, c + j)
                j &+= 8
            }
            while j < n {
                c[j] += w0 * b0[j] + w1 * b1[j] + w2 * b2[j] + w3 * b3[j]
                j &+= 1
            }
            p &+= 4
        }
        return true
    }
    return false
}

// MARK: packing

/// A (m x k, row-major, lda) -> strips of MR rows: for each p, MR consecutive values.
@inline(__always)
func packANormal(_ MR: Int, _ a: UnsafePointer<Float>, _ lda: Int, mc: Int, kc: Int, into dst: UnsafeMutablePointer<Float>) {
    var i0 = 0
    var d = dst
    while i0 < mc {
        let rows = min(MR, mc &- i0)
        let base = a + i0 &* lda
        if rows == MR {
            for p in 0..<kc {
                for r in 0..<MR { d[r] = base[r &* lda &+ p] }
                d += MR
            }
        } else {
            for p in 0..<kc {
                for r in 0..<MR { d[r] = r < rows ? base[r &* lda &+ p] : 0 }
                d += MR
            }
        }
        i0 &+= MR
    }
}

/// A stored transposed (k x m, lda): element (i, p) = a[p * lda + i].
@inline(__always)
func packATrans(_ MR: Int, _ a: UnsafePointer<Float>, _ lda: Int, mc: Int, kc: Int, into dst: UnsafeMutablePointer<Float>) {
    var i0 = 0
    var d = dst
    while i0 < mc {
        let rows = min(MR, mc &- i0)
        for p in 0..<kc {
            let src = a + (p &* lda &+ i0)
            for r in 0..<MR { d[r] = r < rows ? src[r] : 0 }
            d += MR
        }
        i0 &+= MR
    }
}

/// B (k x n, row-major, ldb) -> strips of NR columns: for each p, NR consecutive values.
@inline(__always)
func packBNormal(_ NR: Int, _ b: UnsafePointer<Float>, _ ldb: Int, kc: Int, nc: Int, into dst: UnsafeMutablePointer<Float>) {
    var j0 = 0
    var d = dst
    while j0 < nc {
        let cols = min(NR, nc &- j0)
        var src = b + j0
        if cols == NR {
            for _ in 0..<kc {
                var v = 0
                while v < NR { store8(load8(src + v), d + v); v &+= 8 }
                src += ldb
                d += NR
            }
        } else {
            for _ in 0..<kc {
                for j in 0..<NR { d[j] = j < cols ? src[j] : 0 }
                src += ldb
                d += NR
            }
        }
        j0 &+= NR
    }
}

/// B stored transposed (n x k, ldb): element (p, j) = b[j * ldb + p].
@inline(__always)
func packBTrans(_ NR: Int, _ b: UnsafePointer<Float>, _ ldb: Int, kc: Int, nc: Int, into dst: UnsafeMutablePointer<Float>) {
    var j0 = 0
    var d = dst
    while j0 < nc {
        let cols = min(NR, nc &- j0)
        for j in 0..<NR {
            if j < cols {
                let src = b + (j0 &+ j) &* ldb
                for p in 0..<kc { d[p &* NR &+ j] = src[p] }
            } else {
                for p in 0..<kc { d[p &* NR &+ j] = 0 }
            }
        }
        d += NR &* kc
        j0 &+= NR
    }
}

// MARK: micro-kernels

@inline(__always)
func storeVec(_ v: VG, _ c: UnsafeMutablePointer<Float>, alpha: Float, beta: Float) {
    let va = VG(repeating: alpha)
    if beta == 0 {
        storeG(v * va, c)
    } else if beta == 1 {
        storeG(madd(loadG(c), v, va), c)
    } else {
        storeG(madd(loadG(c) * VG(repeating: beta), v, va), c)
    }
}

/// Writes the valid mr x nr part of a spilled tile (row stride `tileLd`) to C.
@inline(__always)
func storeEdge(_ tile: UnsafeMutablePointer<Float>, tileLd: Int, _ c: UnsafeMutablePointer<Float>, ldc: Int,
               mr: Int, nr: Int, alpha: Float, beta: Float) {
    for i in 0..<mr {
        let t = tile + i &* tileLd
        let row = c + i &* ldc
        if beta == 0 {
            for j in 0..<nr { row[j] = alpha * t[j] }
        } else {
            for j in 0..<nr { row[j] = alpha * t[j] + beta * row[j] }
        }
    }
}

#if DRSN_ISA_AVX512
/// 6 x 64 tile (24 zmm accumulators, 4 per row). Writes rows < mr, cols < nr.
/// Never inlined: one call per tile, and a stable symbol for Tests/hygiene.sh to inspect.
@inline(never)
func microKernel6xNR(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ sb: Int,
                     _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ mr: Int, _ nr: Int,
                     _ alpha: Float, _ beta: Float, _ tile: UnsafeMutablePointer<Float>) {
    let W = VG.scalarCount
    var c00 = VG(), c01 = VG(), c02 = VG(), c03 = VG()
    var c10 = VG(), c11 = VG(), c12 = VG(), c13 = VG()
    var c20 = VG(), c21 = VG(), c22 = VG(), c23 = VG()
    var c30 = VG(), c31 = VG(), c32 = VG(), c33 = VG()
    var c40 = VG(), c41 = VG(), c42 = VG(), c43 = VG()
    var c50 = VG(), c51 = VG(), c52 = VG(), c53 = VG()
    var pa = a
    var pb = b
    var p = 0
    while p < kc {
        let b0 = loadG(pb)
        let b1 = loadG(pb + 1 &* W)
        let b2 = loadG(pb + 2 &* W)
        let b3 = loadG(pb + 3 &* W)
        let a0 = VG(repeating: pa[0])
        c00 = madd(c00, a0, b0); c01 = madd(c01, a0, b1); c02 = madd(c02, a0, b2); c03 = madd(c03, a0, b3)
        let a1 = VG(repeating: pa[1])
        c10 = madd(c10, a1, b0); c11 = madd(c11, a1, b1); c12 = madd(c12, a1, b2); c13 = madd(c13, a1, b3)
        let a2 = VG(repeating: pa[2])
        c20 = madd(c20, a2, b0); c21 = madd(c21, a2, b1); c22 = madd(c22, a2, b2); c23 = madd(c23, a2, b3)
        let a3 = VG(repeating: pa[3])
        c30 = madd(c30, a3, b0); c31 = madd(c31, a3, b1); c32 = madd(c32, a3, b2); c33 = madd(c33, a3, b3)
        let a4 = VG(repeating: pa[4])
        c40 = madd(c40, a4, b0); c41 = madd(c41, a4, b1); c42 = madd(c42, a4, b2); c43 = madd(c43, a4, b3)
        let a5 = VG(repeating: pa[5])
        c50 = madd(c50, a5, b0); c51 = madd(c51, a5, b1); c52 = madd(c52, a5, b2); c53 = madd(c53, a5, b3)
        pa += 6
        pb += sb
        p &+= 1
    }
    if mr == 6 && nr == gemmNR {
        let r0 = c
        storeVec(c00, r0, alpha: alpha, beta: beta); storeVec(c01, r0 + 1 &* W, alpha: alpha, beta: beta); storeVec(c02, r0 + 2 &* W, alpha: alpha, beta: beta); storeVec(c03, r0 + 3 &* W, alpha: alpha, beta: beta)
        let r1 = c + 1 &* ldc
        storeVec(c10, r1, alpha: alpha, beta: beta); storeVec(c11, r1 + 1 &* W, alpha: alpha, beta: beta); storeVec(c12, r1 + 2 &* W, alpha: alpha, beta: beta); storeVec(c13, r1 + 3 &* W, alpha: alpha, beta: beta)
        let r2 = c + 2 &* ldc
        storeVec(c20, r2, alpha: alpha, beta: beta); storeVec(c21, r2 + 1 &* W, alpha: alpha, beta: beta); storeVec(c22, r2 + 2 &* W, alpha: alpha, beta: beta); storeVec(c23, r2 + 3 &* W, alpha: alpha, beta: beta)
        let r3 = c + 3 &* ldc
        storeVec(c30, r3, alpha: alpha, beta: beta); storeVec(c31, r3 + 1 &* W, alpha: alpha, beta: beta); storeVec(c32, r3 + 2 &* W, alpha: alpha, beta: beta); storeVec(c33, r3 + 3 &* W, alpha: alpha, beta: beta)
        let r4 = c + 4 &* ldc
        storeVec(c40, r4, alpha: alpha, beta: beta); storeVec(c41, r4 + 1 &* W, alpha: alpha, beta: beta); storeVec(c42, r4 + 2 &* W, alpha: alpha, beta: beta); storeVec(c43, r4 + 3 &* W, alpha: alpha, beta: beta)
        let r5 = c + 5 &* ldc
        storeVec(c50, r5, alpha: alpha, beta: beta); storeVec(c51, r5 + 1 &* W, alpha: alpha, beta: beta); storeVec(c52, r5 + 2 &* W, alpha: alpha, beta: beta); storeVec(c53, r5 + 3 &* W, alpha: alpha, beta: beta)
        return
    }
    let L = gemmNR
    storeG(c00, tile + (0 &* L &+ 0 &* W)); storeG(c01, tile + (0 &* L &+ 1 &* W)); storeG(c02, tile + (0 &* L &+ 2 &* W)); storeG(c03, tile + (0 &* L &+ 3 &* W))
    storeG(c10, tile + (1 &* L &+ 0 &* W)); storeG(c11, tile + (1 &* L &+ 1 &* W)); storeG(c12, tile + (1 &* L &+ 2 &* W)); storeG(c13, tile + (1 &* L &+ 3 &* W))
    storeG(c20, tile + (2 &* L &+ 0 &* W)); storeG(c21, tile + (2 &* L &+ 1 &* W)); storeG(c22, tile + (2 &* L &+ 2 &* W)); storeG(c23, tile + (2 &* L &+ 3 &* W))
    storeG(c30, tile + (3 &* L &+ 0 &* W)); storeG(c31, tile + (3 &* L &+ 1 &* W)); storeG(c32, tile + (3 &* L &+ 2 &* W)); storeG(c33, tile + (3 &* L &+ 3 &* W))
    storeG(c40, tile + (4 &* L &+ 0 &* W)); storeG(c41, tile + (4 &* L &+ 1 &* W)); storeG(c42, tile + (4 &* L &+ 2 &* W)); storeG(c43, tile + (4 &* L &+ 3 &* W))
    storeG(c50, tile + (5 &* L &+ 0 &* W)); storeG(c51, tile + (5 &* L &+ 1 &* W)); storeG(c52, tile + (5 &* L &+ 2 &* W)); storeG(c53, tile + (5 &* L &+ 3 &* W))
    storeEdge(tile, tileLd: L, c, ldc: ldc, mr: mr, nr: nr, alpha: alpha, beta: beta)
}

/// 4 x 64 tile (16 zmm accumulators) for small m. Writes rows < mr, cols < nr.
@inline(never)
func microKernel4xNR(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ sb: Int,
                     _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ mr: Int, _ nr: Int,
                     _ alpha: Float, _ beta: Float, _ tile: UnsafeMutablePointer<Float>) {
    let W = VG.scalarCount
    var c00 = VG(), c01 = VG(), c02 = VG(), c03 = VG()
    var c10 = VG(), c11 = VG(), c12 = VG(), c13 = VG()
    var c20 = VG(), c21 = VG(), c22 = VG(), c23 = VG()
    var c30 = VG(), c31 = VG(), c32 = VG(), c33 = VG()
    var pa = a
    var pb = b
    var p = 0
    while p < kc {
        let b0 = loadG(pb)
        let b1 = loadG(pb + 1 &* W)
        let b2 = loadG(pb + 2 &* W)
        let b3 = loadG(pb + 3 &* W)
        let a0 = VG(repeating: pa[0])
        c00 = madd(c00, a0, b0); c01 = madd(c01, a0, b1); c02 = madd(c02, a0, b2); c03 = madd(c03, a0, b3)
        let a1 = VG(repeating: pa[1])
        c10 = madd(c10, a1, b0); c11 = madd(c11, a1, b1); c12 = madd(c12, a1, b2); c13 = madd(c13, a1, b3)
        let a2 = VG(repeating: pa[2])
        c20 = madd(c20, a2, b0); c21 = madd(c21, a2, b1); c22 = madd(c22, a2, b2); c23 = madd(c23, a2, b3)
        let a3 = VG(repeating: pa[3])
        c30 = madd(c30, a3, b0); c31 = madd(c31, a3, b1); c32 = madd(c32, a3, b2); c33 = madd(c33, a3, b3)
        pa += 4
        pb += sb
        p &+= 1
    }
    if mr == 4 && nr == gemmNR {
        let r0 = c
        storeVec(c00, r0, alpha: alpha, beta: beta); storeVec(c01, r0 + 1 &* W, alpha: alpha, beta: beta); storeVec(c02, r0 + 2 &* W, alpha: alpha, beta: beta); storeVec(c03, r0 + 3 &* W, alpha: alpha, beta: beta)
        let r1 = c + 1 &* ldc
        storeVec(c10, r1, alpha: alpha, beta: beta); storeVec(c11, r1 + 1 &* W, alpha: alpha, beta: beta); storeVec(c12, r1 + 2 &* W, alpha: alpha, beta: beta); storeVec(c13, r1 + 3 &* W, alpha: alpha, beta: beta)
        let r2 = c + 2 &* ldc
        storeVec(c20, r2, alpha: alpha, beta: beta); storeVec(c21, r2 + 1 &* W, alpha: alpha, beta: beta); storeVec(c22, r2 + 2 &* W, alpha: alpha, beta: beta); storeVec(c23, r2 + 3 &* W, alpha: alpha, beta: beta)
        let r3 = c + 3 &* ldc
        storeVec(c30, r3, alpha: alpha, beta: beta); storeVec(c31, r3 + 1 &* W, alpha: alpha, beta: beta); storeVec(c32, r3 + 2 &* W, alpha: alpha, beta: beta); storeVec(c33, r3 + 3 &* W, alpha: alpha, beta: beta)
        return
    }
    let L = gemmNR
    storeG(c00, tile + (0 &* L &+ 0 &* W)); storeG(c01, tile + (0 &* L &+ 1 &* W)); storeG(c02, tile + (0 &* L &+ 2 &* W)); storeG(c03, tile + (0 &* L &+ 3 &* W))
    storeG(c10, tile + (1 &* L &+ 0 &* W)); storeG(c11, tile + (1 &* L &+ 1 &* W)); storeG(c12, tile + (1 &* L &+ 2 &* W)); storeG(c13, tile + (1 &* L &+ 3 &* W))
    storeG(c20, tile + (2 &* L &+ 0 &* W)); storeG(c21, tile + (2 &* L &+ 1 &* W)); storeG(c22, tile + (2 &* L &+ 2 &* W)); storeG(c23, tile + (2 &* L &+ 3 &* W))
    storeG(c30, tile + (3 &* L &+ 0 &* W)); storeG(c31, tile + (3 &* L &+ 1 &* W)); storeG(c32, tile + (3 &* L &+ 2 &* W)); storeG(c33, tile + (3 &* L &+ 3 &* W))
    storeEdge(tile, tileLd: L, c, ldc: ldc, mr: mr, nr: nr, alpha: alpha, beta: beta)
}
#else
/// 6 x NR tile over packed A (6 per k) and packed B (NR per k). Writes rows < mr, cols < nr.
/// Never inlined: one call per tile, and a stable symbol for Tests/hygiene.sh to inspect.
@inline(never)
func microKernel6xNR(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ sb: Int,
                     _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ mr: Int, _ nr: Int,
                     _ alpha: Float, _ beta: Float, _ tile: UnsafeMutablePointer<Float>) {
    let W = VG.scalarCount
    var c00 = VG(), c01 = VG(), c10 = VG(), c11 = VG(), c20 = VG(), c21 = VG()
    var c30 = VG(), c31 = VG(), c40 = VG(), c41 = VG(), c50 = VG(), c51 = VG()
    var pa = a
    var pb = b
    var p = 0
    while p < kc {
        let b0 = loadG(pb)
        let b1 = loadG(pb + W)
        var av = VG(repeating: pa[0])
        c00 = madd(c00, av, b0); c01 = madd(c01, av, b1)
        av = VG(repeating: pa[1])
        c10 = madd(c10, av, b0); c11 = madd(c11, av, b1)
        av = VG(repeating: pa[2])
        c20 = madd(c20, av, b0); c21 = madd(c21, av, b1)
        av = VG(repeating: pa[3])
        c30 = madd(c30, av, b0); c31 = madd(c31, av, b1)
        av = VG(repeating: pa[4])
        c40 = madd(c40, av, b0); c41 = madd(c41, av, b1)
        av = VG(repeating: pa[5])
        c50 = madd(c50, av, b0); c51 = madd(c51, av, b1)
        pa += 6
        pb += sb
        p &+= 1
    }
    if mr == 6 && nr == gemmNR {
        storeVec(c00, c, alpha: alpha, beta: beta); storeVec(c01, c + W, alpha: alpha, beta: beta)
        var r = c + ldc
        storeVec(c10, r, alpha: alpha, beta: beta); storeVec(c11, r + W, alpha: alpha, beta: beta)
        r += ldc
        storeVec(c20, r, alpha: alpha, beta: beta); storeVec(c21, r + W, alpha: alpha, beta: beta)
        r += ldc
        storeVec(c30, r, alpha: alpha, beta: beta); storeVec(c31, r + W, alpha: alpha, beta: beta)
        r += ldc
        storeVec(c40, r, alpha: alpha, beta: beta); storeVec(c41, r + W, alpha: alpha, beta: beta)
        r += ldc
        storeVec(c50, r, alpha: alpha, beta: beta); storeVec(c51, r + W, alpha: alpha, beta: beta)
        return
    }
    let L = gemmNR
    storeG(c00, tile); storeG(c01, tile + W)
    storeG(c10, tile + L); storeG(c11, tile + (L &+ W))
    storeG(c20, tile + 2 &* L); storeG(c21, tile + (2 &* L &+ W))
    storeG(c30, tile + 3 &* L); storeG(c31, tile + (3 &* L &+ W))
    storeG(c40, tile + 4 &* L); storeG(c41, tile + (4 &* L &+ W))
    storeG(c50, tile + 5 &* L); storeG(c51, tile + (5 &* L &+ W))
    storeEdge(tile, tileLd: L, c, ldc: ldc, mr: mr, nr: nr, alpha: alpha, beta: beta)
}

/// 4 x NR tile over packed A (4 per k) and packed B (NR per k): 8 accumulators (in AVX2 a
/// 4x24 tile needs all 16 ymm registers and spills). Writes rows < mr, cols < nr.
@inline(never)
func microKernel4xNR(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ sb: Int,
                     _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ mr: Int, _ nr: Int,
                     _ alpha: Float, _ beta: Float, _ tile: UnsafeMutablePointer<Float>) {
    let W = VG.scalarCount
    var c00 = VG(), c01 = VG(), c10 = VG(), c11 = VG()
    var c20 = VG(), c21 = VG(), c30 = VG(), c31 = VG()
    var pa = a
    var pb = b
    var p = 0
    while p < kc {
        let b0 = loadG(pb)
        let b1 = loadG(pb + W)
        var av = VG(repeating: pa[0])
        c00 = madd(c00, av, b0); c01 = madd(c01, av, b1)
        av = VG(repeating: pa[1])
        c10 = madd(c10, av, b0); c11 = madd(c11, av, b1)
        av = VG(repeating: pa[2])
        c20 = madd(c20, av, b0); c21 = madd(c21, av, b1)
        av = VG(repeating: pa[3])
        c30 = madd(c30, av, b0); c31 = madd(c31, av, b1)
        pa += 4
        pb += sb
        p &+= 1
    }
    if mr == 4 && nr == gemmNR {
        storeVec(c00, c, alpha: alpha, beta: beta); storeVec(c01, c + W, alpha: alpha, beta: beta)
        var r = c + ldc
        storeVec(c10, r, alpha: alpha, beta: beta); storeVec(c11, r + W, alpha: alpha, beta: beta)
        r += ldc
        storeVec(c20, r, alpha: alpha, beta: beta); storeVec(c21, r + W, alpha: alpha, beta: beta)
        r += ldc
        storeVec(c30, r, alpha: alpha, beta: beta); storeVec(c31, r + W, alpha: alpha, beta: beta)
        return
    }
    let L = gemmNR
    storeG(c00, tile); storeG(c01, tile + W)
    storeG(c10, tile + L); storeG(c11, tile + (L &+ W))
    storeG(c20, tile + 2 &* L); storeG(c21, tile + (2 &* L &+ W))
    storeG(c30, tile + 3 &* L); storeG(c31, tile + (3 &* L &+ W))
    storeEdge(tile, tileLd: L, c, ldc: ldc, mr: mr, nr: nr, alpha: alpha, beta: beta)
}
#endif
