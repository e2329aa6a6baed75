// Resize kernels (ONNX Resize / Upsample, nearest and linear) over the two innermost dims.
// Coordinate transformation and rounding happen when the plan is built: the kernels read
// per-axis tables of source indices (and, for linear, weights).

import DRSNKernelTypes

extension ISAKernels {
    /// Nearest-neighbour resize of output rows `rows` (row r: plane r / outHeight, y = r % outHeight):
    /// output[plane, y, x] = input[plane, rowIndex[y], colIndex[x]]. rowIndex has outHeight
    /// entries in 0..<inHeight, colIndex outWidth entries in 0..<inWidth.
    public static func resizeNearest(_ p: ResizeParams, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                                     rows: Range<Int>, rowIndex: UnsafePointer<Int>, colIndex: UnsafePointer<Int>) {
        kernelPrecondition(p.isConsistent && rows.lowerBound >= 0 && rows.upperBound <= p.outRows,
                           "resizeNearest: \(p), rows \(rows)")
        let inPlane = p.inHeight &* p.inWidth, ow = p.outWidth
        var previousSource = -1
        for r in rows {
            let plane = r / p.outHeight, y = r % p.outHeight
            let source = plane &* inPlane &+ rowIndex[y] &* p.inWidth
            let dst = output + r &* ow
            if source == previousSource {
                copyFloats(UnsafePointer(dst - ow), dst, ow)  // same source row as the row above (this call wrote it)
                continue
            }
            previousSource = source
            let src = input + source
            var x = 0
            while x &+ 4 <= ow {
                dst[x] = src[colIndex[x]]; dst[x &+ 1] = src[colIndex[x &+ 1]]
                dst[x &+ 2] = src[colIndex[x &+ 2]]; dst[x &+ 3] = src[colIndex[x &+ 3]]
                x &+= 4
            }
            while x < ow { dst[x] = src[colIndex[x]]; x &+= 1 }
        }
    }

    /// Linear (bilinear) resize of output rows `rows`: output[plane, y, x] =
    /// rowWeight[y] * (colWeight[x] * X[y1, x1] + colWeight[ow + x] * X[y1, x2])
    /// + rowWeight[oh + y] * (colWeight[x] * X[y2, x1] + colWeight[ow + x] * X[y2, x2]),
    /// with y1 = rowIndex[y], y2 = rowIndex[oh + y], x1 = colIndex[x], x2 = colIndex[ow + x]
    /// (tables of 2 * outHeight and 2 * outWidth entries: first sources and weights, then second).
    /// A row whose second weight is 0 reads only its first source row.
    public static func resizeLinear(_ p: ResizeParams, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                                    rows: Range<Int>, rowIndex: UnsafePointer<Int>, rowWeight: UnsafePointer<Float>,
                                    colIndex: UnsafePointer<Int>, colWeight: UnsafePointer<Float>) {
        kernelPrecondition(p.isConsistent && rows.lowerBound >= 0 && rows.upperBound <= p.outRows,
                           "resizeLinear: \(p), rows \(rows)")
        let inPlane = p.inHeight &* p.inWidth, ow = p.outWidth, oh = p.outHeight
        let x2s = colIndex + ow, w2s = colWeight + ow
        for r in rows {
            let plane = r / oh, y = r % oh
            let base = input + plane &* inPlane
            let top = base + rowIndex[y] &* p.inWidth, bottom = base + rowIndex[oh &+ y] &* p.inWidth
            let wTop = rowWeight[y], wBottom = rowWeight[oh &+ y]
            let dst = output + r &* ow
            let vTop = V8(repeating: wTop), vBottom = V8(repeating: wBottom)
            var x = 0
            if wBottom == 0 {
                while x &+ 8 <= ow {
                    var a = V8(), b = V8()
                    for l in 0..<8 { a[l] = top[colIndex[x &+ l]]; b[l] = top[x2s[x &+ l]] }
                    let h = madd(load8(colWeight + x) * a, load8(w2s + x), b)
                    store8(h * vTop, dst + x)
                    x &+= 8
                }
                while x < ow {
                    dst[x] = wTop * (colWeight[x] * top[colIndex[x]] + w2s[x] * top[x2s[x]])
                    x &+= 1
                }
                continue
            }
            while x &+ 8 <= ow {
                var a = V8(), b = V8(), c = V8(), d = V8()
                for l in 0..<8 {
                    let x1 = colIndex[x &+ l], x2 = x2s[x &+ l]
                    a[l] = top[x1]; b[l] = top[x2]; c[l] = bottom[x1]; d[l] = bottom[x2]
                }
                let w1 = load8(colWeight + x), w2 = load8(w2s + x)
                let hTop = madd(w1 * a, w2, b), hBottom = madd(w1 * c, w2, d)
                store8(madd(hTop * vTop, hBottom, vBottom), dst + x)
                x &+= 8
            }
            while x < ow {
                let x1 = colIndex[x], x2 = x2s[x]
                let hTop = colWeight[x] * top[x1] + w2s[x] * top[x2]
                let hBottom = colWeight[x] * bottom[x1] + w2s[x] * bottom[x2]
                dst[x] = wTop * hTop + wBottom * hBottom
                x &+= 1
            }
        }
    }
}
