// Normalization kernels: LRN (across channels), layer normalization (and its statistics),
// instance normalization.

import DRSNKernelTypes
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Mean and 1 / sqrt(variance + epsilon) of `n` > 0 contiguous floats, in two passes (the
/// variance is the mean of the squared deviations from the mean, so it is never negative).
@inline(__always) @usableFromInline
func meanAndInvStdDev(_ p: UnsafePointer<Float>, _ n: Int, epsilon: Float) -> (mean: Float, invStdDev: Float) {
    let mean = sumContiguous(p, n) / Float(n)
    let vm = V8(repeating: mean)
    var a0 = V8(), a1 = V8()
    var i = 0
    while i &+ 16 <= n {
        let d0 = load8(p + i) - vm, d1 = load8(p + (i &+ 8)) - vm
        a0 = madd(a0, d0, d0); a1 = madd(a1, d1, d1)
        i &+= 16
    }
    while i &+ 8 <= n { let d = load8(p + i) - vm; a0 = madd(a0, d, d); i &+= 8 }
    var s = hsum(a0 + a1)
    while i < n { let d = p[i] - mean; s += d * d; i &+= 1 }
    return (mean, 1 / (s / Float(n) + epsilon).squareRoot())
}

/// d^(-beta) lane-wise: exact forms for the common betas 0.5, 0.75 (AlexNet, GoogLeNet,
/// ZFNet) and 1, powf per lane otherwise.
@inline(__always) @usableFromInline
func powNegative(_ d: V8, _ beta: Float) -> V8 {
    let one = V8(repeating: 1)
    if beta == 0.75 {
        let r = sqrtV(d)
        return one / (r * sqrtV(r))
    }
    if beta == 0.5 { return one / sqrtV(d) }
    if beta == 1 { return one / d }
    var r = V8()
    for l in 0..<8 { r[l] = powf(d[l], -beta) }
    return r
}

extension ISAKernels {
    /// ONNX LRN over x [batch, channels, inner] for the planes (b * channels + c) in `planes`:
    /// y = x / (bias + alpha / size * sum(x[b, j]^2 for j in c - floor((size-1)/2) ...
    /// c + ceil((size-1)/2), clipped to the channels))^beta. Planes are independent (any split).
    public static func lrn(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, channels: Int, inner: Int,
                           planes: Range<Int>, size: Int, alpha: Float, beta: Float, bias: Float) {
        kernelPrecondition((channels >= 1 || planes.isEmpty) && inner >= 0 && size >= 1 && planes.lowerBound >= 0,
                           "lrn: channels \(channels), inner \(inner), size \(size), planes \(planes)")
        let before = (size &- 1) / 2, after = size &- 1 &- before
        let k = alpha / Float(size)
        let vk = V8(repeating: k), vb = V8(repeating: bias)
        for p in planes {
            let n = p / channels, c = p % channels
            let lo = max(0, c &- before), hi = min(channels &- 1, c &+ after)
            let image = input + n &* channels &* inner
            let src = image + c &* inner, dst = output + p &* inner
            var i = 0
            while i < inner {
                let w = min(8, inner &- i)
                var s = V8()
                var j = lo
                while j <= hi {
                    let q = image + (j &* inner &+ i)
                    let x = w == 8 ? load8(q) : loadPartial8(q, w)
                    s = madd(s, x, x)
                    j &+= 1
                }
                let x = w == 8 ? load8(src + i) : loadPartial8(src + i, w)
                var d = madd(vb, s, vk)
                if w < 8 { for l in w..<8 { d[l] = 1 } }  // unused lanes: keep powf finite
                let y = x * powNegative(d, beta)
                if w == 8 { store8(y, dst + i) } else { storePartial8(y, dst + i, w) }
                i &+= 8
            }
        }
    }
}

extension ISAKernels {
    /// Layer normalization of the rows in `rows` of x [*, cols]:
    /// y = (x - mean) / sqrt(variance + epsilon) * scale + bias, statistics per row, `scale`
    /// and `bias` (nil: 0) holding `cols` floats. Rows are independent (any split).
    public static func layerNorm(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, rows: Range<Int>,
                                 cols: Int, scale: UnsafePointer<Float>, bias: UnsafePointer<Float>?, epsilon: Float) {
        kernelPrecondition(rows.lowerBound >= 0 && cols >= 0, "layerNorm: rows \(rows), cols \(cols)")
        if cols == 0 { return }
        for r in rows {
            let src = input + r &* cols, dst = output + r &* cols
            let (mean, inv) = meanAndInvStdDev(src, cols, epsilon: epsilon)
            let vm = V8(repeating: mean), vi = V8(repeating: inv)
            var i = 0
            if let bias {
                while i &+ 8 <= cols {
                    store8(madd(load8(bias + i), (load8(src + i) - vm) * vi, load8(scale + i)), dst + i)
                    i &+= 8
                }
                while i < cols { dst[i] = (src[i] - mean) * inv * scale[i] + bias[i]; i &+= 1 }
            } else {
                while i &+ 8 <= cols { store8((load8(src + i) - vm) * vi * load8(scale + i), dst + i); i &+= 8 }
                while i < cols { dst[i] = (src[i] - mean) * inv * scale[i]; i &+= 1 }
            }
        }
    }

    /// The statistics of `layerNorm` for the rows in `rows`: mean[r] and
    /// invStdDev[r] = 1 / sqrt(variance + epsilon), each written when not nil. cols == 0: NaN.
    public static func layerNormStatistics(input: UnsafePointer<Float>, rows: Range<Int>, cols: Int, epsilon: Float,
                                           mean: UnsafeMutablePointer<Float>?, invStdDev: UnsafeMutablePointer<Float>?) {
        kernelPrecondition(rows.lowerBound >= 0 && cols >= 0, "layerNormStatistics: rows \(rows), cols \(cols)")
        for r in rows {
            let (m, inv) = cols == 0 ? (Float.nan, Float.nan) : meanAndInvStdDev(input + r &* cols, cols, epsilon: epsilon)
            mean?[r] = m
            invStdDev?[r] = inv
        }
    }

    /// Instance normalization of the planes (b * channels + c) in `planes` of
    /// x [batch, channels, planeSize]: y = (x - mean) / sqrt(variance + epsilon) * scale[c] + bias[c],
    /// statistics per plane. Planes are independent (any split).
    public static func instanceNorm(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, planes: Range<Int>,
                                    channels: Int, planeSize: Int, scale: UnsafePointer<Float>,
                                    bias: UnsafePointer<Float>, epsilon: Float) {
        kernelPrecondition(planes.lowerBound >= 0 && (channels >= 1 || planes.isEmpty) && planeSize >= 0,
                           "instanceNorm: planes \(planes), channels \(channels), planeSize \(planeSize)")
        if planeSize == 0 { return }
        for p in planes {
            let c = p % channels
            let src = input + p &* planeSize, dst = output + p &* planeSize
            let (mean, inv) = meanAndInvStdDev(src, planeSize, epsilon: epsilon)
            let a = inv * scale[c], b = bias[c]
            let vm = V8(repeating: mean), va = V8(repeating: a), vb = V8(repeating: b)
            var i = 0
            while i &+ 8 <= planeSize { store8(madd(vb, load8(src + i) - vm, va), dst + i); i &+= 8 }
            while i < planeSize { dst[i] = (src[i] - mean) * a + b; i &+= 1 }
        }
    }
}
