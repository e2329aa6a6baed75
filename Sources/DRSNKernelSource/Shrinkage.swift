// Kernels of the fused residual shrinkage unit (DRSN):
//  * `absMean`: the per-plane mean of |x| that the threshold sub-network starts from;
//  * `shrink`: soft thresholding y = sign(x) * max(|x| - tau, 0) with one threshold per
//    plane, plus the residual add, in one pass; optionally counts the zeroed features.

import DRSNKernelTypes

extension ISAKernels {
    /// out[p] = mean(|x[p, 0..<planeSize]|) for every plane p. planeSize == 0 gives NaN.
    public static func absMean(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, planes: Int, planeSize: Int) {
        kernelPrecondition(planes >= 0 && planeSize >= 0, "absMean: planes \(planes), planeSize \(planeSize)")
        if planes <= 0 { return }
        let inv = planeSize > 0 ? 1 / Float(planeSize) : Float.nan
        let mask = SIMD16<UInt32>(repeating: 0x7fff_ffff)
        for p in 0..<planes {
            let s = input + p &* planeSize
            var a0 = V16(), a1 = V16(), a2 = V16(), a3 = V16()
            var i = 0
            @inline(__always) func abs16(_ v: V16) -> V16 {
                unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt32>.self) & mask, to: V16.self)
            }
            while i &+ 64 <= planeSize {
                a0 += abs16(load16(s + i))
                a1 += abs16(load16(s + (i &+ 16)))
                a2 += abs16(load16(s + (i &+ 32)))
                a3 += abs16(load16(s + (i &+ 48)))
                i &+= 64
            }
            while i &+ 16 <= planeSize {
                a0 += abs16(load16(s + i))
                i &+= 16
            }
            var total = hsum((a0 + a1) + (a2 + a3))
            while i < planeSize {
                total += Swift.abs(s[i])
                i &+= 1
            }
            output[p] = total * inv
        }
    }
}

extension ISAKernels {
    /// For every plane p (contiguous runs of `planeSize` elements):
    ///   y = sign(x) * max(|x| - tau[tauOffsets[p]], 0) (+ residual), NaN in x stays NaN and
    ///   x == 0 gives 0 even when tau < 0 (sign(0) = 0).
    /// `residual`, when given, has the layout of `input`. `zeroCounts`, when given, receives per
    /// plane the number of features with |x| <= tau (set to zero by the thresholding).
    /// Output may alias input or residual.
    public static func shrink(input: UnsafePointer<Float>, tau: UnsafePointer<Float>, tauOffsets: UnsafePointer<Int>,
                              residual: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                              planes: Range<Int>, planeSize: Int, zeroCounts: UnsafeMutablePointer<Float>?) {
        kernelPrecondition(planes.lowerBound >= 0 && planeSize >= 0, "shrink: planes \(planes), planeSize \(planeSize)")
        let signMask = SIMD16<UInt32>(repeating: 0x8000_0000)
        let absMask = SIMD16<UInt32>(repeating: 0x7fff_ffff)
        for p in planes {
            let off = p &* planeSize
            let s = input + off, d = output + off
            let t = tau[tauOffsets[p]]
            let vt = V16(repeating: t)
            if let zeroCounts {
                // Counted first (output may alias input); introspection only, not on the hot path.
                var n = 0
                for k in 0..<planeSize where Swift.abs(s[k]) <= t { n &+= 1 }
                zeroCounts[p] = Float(n)
            }
            @inline(__always) func f(_ x: V16) -> V16 {
                let bits = unsafeBitCast(x, to: SIMD16<UInt32>.self)
                let a = unsafeBitCast(bits & absMask, to: V16.self)
                var m = a - vt
                m.replace(with: V16(), where: (m .< V16()) .| (x .== V16()))
                return unsafeBitCast(unsafeBitCast(m, to: SIMD16<UInt32>.self) | (bits & signMask), to: V16.self)
            }
            var i = 0
            if let r = residual.map({ $0 + off }) {
                while i &+ 16 <= planeSize {
                    let x = load16(s + i)
                    store16(f(x) + load16(r + i), d + i)
                    i &+= 16
                }
                while i < planeSize {
                    let x = s[i]
                    let m = Swift.max(Swift.abs(x) - t, 0)
                    d[i] = (x.isNaN ? x : (x < 0 ? -m : (x > 0 ? m : 0))) + r[i]
                    i &+= 1
                }
            } else {
                while i &+ 16 <= planeSize {
                    store16(f(load16(s + i)), d + i)
                    i &+= 16
                }
                while i < planeSize {
                    let x = s[i]
                    let m = Swift.max(Swift.abs(x) - t, 0)
                    d[i] = x.isNaN ? x : (x < 0 ? -m : (x > 0 ? m : 0))
                    i &+= 1
                }
            }
        }
    }
}

extension ISAKernels {
    /// y = max(x * scale[c] + shift[c], 0) over [batch, channels, inner]: the pre-activation
    /// BatchNorm -> ReLU of a residual unit in one pass. NaN stays NaN. Output may alias input.
    public static func channelScaleShiftRelu(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                                             batch: Int, channels: Int, inner: Int,
                                             scale: UnsafePointer<Float>, shift: UnsafePointer<Float>) {
        kernelPrecondition(batch >= 0 && channels >= 0 && inner >= 0,
                           "channelScaleShiftRelu: batch \(batch), channels \(channels), inner \(inner)")
        let W = VG.scalarCount
        for b in 0..<batch {
            for c in 0..<channels {
                let off = (b &* channels &+ c) &* inner
                let s = input + off, d = output + off
                let k = scale[c], t = shift[c]
                let vk = VG(repeating: k), vt = VG(repeating: t)
                var i = 0
                while i &+ W <= inner {
                    var y = madd(vt, loadG(s + i), vk)
                    y.replace(with: VG(), where: y .< VG())
                    UnsafeMutableRawPointer(d + i).storeBytes(of: y, as: VG.self)
                    i &+= W
                }
                while i < inner {
                    let y = s[i] * k + t
                    d[i] = y < 0 ? 0 : y
                    i &+= 1
                }
            }
        }
    }
}
