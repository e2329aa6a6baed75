// Data movement: transpose, concat, slice, pad, gather; per-channel affine, soft threshold.

import DRSNKernelTypes

/// Strided copy: dst[offsets] = src[offsets] over `shape`, arbitrary (signed) strides for
/// both. `strides` holds 2*rank entries: source strides then destination strides.
func stridedCopy(src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>, rank: Int,
                 shape: UnsafeMutablePointer<Int>, strides: UnsafeMutablePointer<Int>,
                 counters: UnsafeMutablePointer<Int>) {
    let nr = collapseDims(rank: rank, shape: shape, strides: strides, operands: 2)
    let n = shape[nr &- 1]
    let ss = strides[nr &- 1], ds = strides[2 &* nr &- 1]
    if nr >= 2 && ds == 1 && ss != 1 && strides[nr &- 2] == 1 && shape[nr &- 2] >= 8 && n >= 8 {
        // The two innermost dims are a 2-D transpose: dst[i][j] = src[j][i] with src row stride ss.
        let rows = shape[nr &- 2]
        let dRow = strides[2 &* nr &- 2]
        transposeOuter(src: src, dst: dst, nr: nr, shape: shape, strides: strides, counters: counters,
                       rows: rows, cols: n, srcColStride: ss, dstRowStride: dRow)
        return
    }
    walkOuter(rank: nr, shape: shape, strides: strides, operands: 2, scratch: counters) { off in
        let s = src + off[0]
        let d = dst + off[1]
        if ss == 1 && ds == 1 {
            copyFloats(s, d, n)
        } else {
            var i = 0
            while i < n { d[i &* ds] = s[i &* ss]; i &+= 1 }
        }
    }
}

/// Walks all dims except the last two and does a blocked 2-D transpose for each.
/// In the innermost pair: dst offset = i*dstRowStride + j, src offset = i*1 + j*srcColStride,
/// i < rows, j < cols.
func transposeOuter(src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>, nr: Int,
                    shape: UnsafePointer<Int>, strides: UnsafePointer<Int>, counters: UnsafeMutablePointer<Int>,
                    rows: Int, cols: Int, srcColStride: Int, dstRowStride: Int) {
    let outerRank = nr &- 2
    // Build a (outerRank + 1)-dim walk with a dummy innermost dim of size 1.
    withUnsafeTemporaryAllocation(of: Int.self, capacity: (outerRank &+ 1) &* 4 &+ 2) { buf in
        let sh = buf.baseAddress!
        let st = sh + (outerRank &+ 1)
        let cnt = st + 2 &* (outerRank &+ 1)
        let r = outerRank &+ 1
        for d in 0..<outerRank {
            sh[d] = shape[d]
            st[d] = strides[d]
            st[r &+ d] = strides[nr &+ d]
        }
        sh[outerRank] = 1; st[outerRank] = 0; st[r &+ outerRank] = 0
        _ = counters
        walkOuter(rank: r, shape: sh, strides: st, operands: 2, scratch: cnt) { off in
            let s = src + off[0]
            let d = dst + off[1]
            var i0 = 0
            while i0 < rows {
                let i1 = min(i0 &+ 8, rows)
                var j0 = 0
                while j0 < cols {
                    let j1 = min(j0 &+ 8, cols)
                    var i = i0
                    while i < i1 {
                        var j = j0
                        let drow = d + i &* dstRowStride
                        let scol = s + i
                        while j < j1 { drow[j] = scol[j &* srcColStride]; j &+= 1 }
                        i &+= 1
                    }
                    j0 = j1
                }
                i0 = i1
            }
        }
    }
}

extension ISAKernels {
    /// General-rank transpose: output dim i is input dim permutation[i].
    public static func transpose(input: UnsafePointer<Float>, shape: [Int], permutation: [Int],
                                 output: UnsafeMutablePointer<Float>) {
        kernelPrecondition(isShape(shape) && isPermutation(permutation, rank: shape.count),
                           "transpose: shape \(shape), permutation \(permutation)")
        let rank = shape.count
        var total = 1
        for s in shape { total &*= s }
        if total == 0 { return }
        if rank == 0 { output[0] = input[0]; return }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: rank &* 5 &+ 2) { buf in
            let inStr = buf.baseAddress!
            let sh = inStr + rank
            let st = sh + rank
            let cnt = st + 2 &* rank
            var acc = 1
            var d = rank &- 1
            while d >= 0 { inStr[d] = acc; acc &*= shape[d]; d &-= 1 }
            for i in 0..<rank {
                sh[i] = shape[permutation[i]]
                st[i] = inStr[permutation[i]]
            }
            contiguousStrides(sh, rank, into: st + rank)
            stridedCopy(src: input, dst: output, rank: rank, shape: sh, strides: st, counters: cnt)
        }
    }
}

extension ISAKernels {
    /// Concatenation along an axis: input i is [outer, axisSizes[i], inner].
    public static func concat(inputs: [UnsafePointer<Float>], axisSizes: [Int], outer: Int, inner: Int,
                              output: UnsafeMutablePointer<Float>) {
        kernelPrecondition(inputs.count == axisSizes.count && isShape(axisSizes) && outer >= 0 && inner >= 0,
                           "concat: \(inputs.count) inputs, axis sizes \(axisSizes), outer \(outer), inner \(inner)")
        var total = 0
        for a in axisSizes { total &+= a }
        let outRow = total &* inner
        for o in 0..<outer {
            var off = 0
            for i in 0..<inputs.count {
                let len = axisSizes[i] &* inner
                copyFloats(inputs[i] + o &* len, output + (o &* outRow &+ off), len)
                off &+= len
            }
        }
    }
}

extension ISAKernels {
    /// Strided slice with normalised in-range starts; steps may be negative.
    public static func slice(input: UnsafePointer<Float>, shape: [Int], starts: [Int], steps: [Int],
                             outShape: [Int], output: UnsafeMutablePointer<Float>) {
        kernelPrecondition(isInsideSlice(shape: shape, starts: starts, steps: steps, outShape: outShape),
                           "slice: shape \(shape), starts \(starts), steps \(steps), output shape \(outShape)")
        let rank = shape.count
        for s in outShape where s == 0 { return }
        if rank == 0 { output[0] = input[0]; return }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: rank &* 5 &+ 2) { buf in
            let inStr = buf.baseAddress!
            let sh = inStr + rank
            let st = sh + rank
            let cnt = st + 2 &* rank
            contiguousStrides(shape, rank, into: inStr)
            var base = 0
            for d in 0..<rank {
                base &+= starts[d] &* inStr[d]
                sh[d] = outShape[d]
                st[d] = steps[d] &* inStr[d]
            }
            contiguousStrides(sh, rank, into: st + rank)
            stridedCopy(src: input + base, dst: output, rank: rank, shape: sh, strides: st, counters: cnt)
        }
    }
}

extension ISAKernels {
    /// Constant padding; negative pads crop. outShape[d] = shape[d] + padsBegin[d] + padsEnd[d].
    public static func padConstant(input: UnsafePointer<Float>, shape: [Int], padsBegin: [Int], outShape: [Int],
                                   value: Float, output: UnsafeMutablePointer<Float>) {
        kernelPrecondition(isShape(shape) && isShape(outShape) && padsBegin.count == shape.count && outShape.count == shape.count,
                           "padConstant: shape \(shape), pads \(padsBegin), output shape \(outShape)")
        let rank = shape.count
        var total = 1
        for s in outShape { total &*= s }
        if total == 0 { return }
        if rank == 0 { output[0] = input[0]; return }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: rank &* 6 &+ 2) { buf in
            let inStr = buf.baseAddress!
            let outStr = inStr + rank
            let sh = outStr + rank
            let st = sh + rank
            let cnt = st + 2 &* rank
            contiguousStrides(shape, rank, into: inStr)
            contiguousStrides(outShape, rank, into: outStr)
            var srcOff = 0, dstOff = 0
            var empty = false
            var full = true
            for d in 0..<rank {
                let pb = padsBegin[d]
                let lo = max(0, -pb)
                let hi = min(shape[d], outShape[d] &- pb)
                if hi <= lo { empty = true; break }
                sh[d] = hi &- lo
                if sh[d] != outShape[d] { full = false }
                srcOff &+= lo &* inStr[d]
                dstOff &+= (lo &+ pb) &* outStr[d]
                st[d] = inStr[d]
                st[rank &+ d] = outStr[d]
            }
            if empty || !full { fill(output, total, value) }
            if empty { return }
            stridedCopy(src: input + srcOff, dst: output + dstOff, rank: rank, shape: sh, strides: st, counters: cnt)
        }
    }
}

extension ISAKernels {
    /// Gather along `axis` with normalised indices. Output: shape[..<axis] + [indices.count] + shape[axis+1...].
    public static func gather(input: UnsafePointer<Float>, shape: [Int], axis: Int, indices: [Int],
                              output: UnsafeMutablePointer<Float>) {
        kernelPrecondition(isShape(shape) && (0..<shape.count).contains(axis)
                           && indices.allSatisfy { (0..<shape[axis]).contains($0) },
                           "gather: shape \(shape), axis \(axis), indices outside the axis")
        var outer = 1, inner = 1
        for d in 0..<axis { outer &*= shape[d] }
        for d in (axis &+ 1)..<shape.count { inner &*= shape[d] }
        let axisSize = shape[axis]
        let cnt = indices.count
        indices.withUnsafeBufferPointer { idx in
            for o in 0..<outer {
                let src = input + o &* axisSize &* inner
                let dst = output + o &* cnt &* inner
                for j in 0..<cnt {
                    let s = src + idx[j] &* inner
                    let d = dst + j &* inner
                    if inner == 1 { d[0] = s[0] } else { copyFloats(s, d, inner) }
                }
            }
        }
    }
}

extension ISAKernels {
    /// Inference BatchNorm after folding: y[b, c, :] = x[b, c, :] * scale[c] + shift[c].
    public static func channelScaleShift(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                                         batch: Int, channels: Int, inner: Int,
                                         scale: UnsafePointer<Float>, shift: UnsafePointer<Float>) {
        kernelPrecondition(batch >= 0 && channels >= 0 && inner >= 0,
                           "channelScaleShift: batch \(batch), channels \(channels), inner \(inner)")
        for b in 0..<batch {
            for c in 0..<channels {
                let off = (b &* channels &+ c) &* inner
                let s = input + off, d = output + off
                let sc = scale[c], sh = shift[c]
                let vs = V8(repeating: sc), vh = V8(repeating: sh)
                var i = 0
                while i &+ 8 <= inner { store8(madd(vh, load8(s + i), vs), d + i); i &+= 8 }
                while i < inner { d[i] = s[i] * sc + sh; i &+= 1 }
            }
        }
    }
}

extension ISAKernels {
    /// Soft thresholding per plane: y = sign(x) * max(|x| - t[plane], 0).
    public static func softThreshold(input: UnsafePointer<Float>, threshold: UnsafePointer<Float>,
                                     output: UnsafeMutablePointer<Float>, planes: Int, planeSize: Int) {
        kernelPrecondition(planes >= 0 && planeSize >= 0, "softThreshold: planes \(planes), planeSize \(planeSize)")
        let signMask = SIMD8<UInt32>(repeating: 0x8000_0000)
        for pl in 0..<planes {
            let off = pl &* planeSize
            let s = input + off, d = output + off
            let t = threshold[pl]
            let vt = V8(repeating: t)
            let z = V8()
            var i = 0
            @inline(__always) func f(_ x: V8) -> V8 {
                var m = absV(x) - vt
                m.replace(with: z, where: m .< z)
                let sb = unsafeBitCast(x, to: SIMD8<UInt32>.self) & signMask
                return unsafeBitCast(unsafeBitCast(m, to: SIMD8<UInt32>.self) | sb, to: V8.self)
            }
            while i &+ 8 <= planeSize { store8(f(load8(s + i)), d + i); i &+= 8 }
            if i < planeSize {
                let m = planeSize &- i
                storePartial8(f(loadPartial8(s + i, m)), d + i, m)
            }
        }
    }
}
