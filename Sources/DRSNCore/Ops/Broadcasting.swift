/// Multidirectional (numpy) broadcasting of two shapes.
func broadcastShape(_ a: [Int], _ b: [Int]) throws(DRSNError) -> [Int] {
    let rank = max(a.count, b.count)
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else {
            throw fail(.shapeMismatch, "shapes \(describe(a)) and \(describe(b)) cannot be broadcast together")
        }
    }
    return out
}

/// Element strides of `shape` read as if broadcast to `out` (0 for broadcast dimensions).
/// `shape` must broadcast to `out`.
func stridesForBroadcast(_ shape: [Int], to out: [Int]) -> [Int] {
    var strides = [Int](repeating: 0, count: out.count)
    var s = 1
    var i = shape.count - 1
    var o = out.count - 1
    while i >= 0 {
        strides[o] = shape[i] == 1 ? 0 : s
        s *= shape[i]
        i -= 1
        o -= 1
    }
    return strides
}

/// Flat source index for each element of `out` when reading a tensor of `shape` broadcast to it.
func broadcastSourceIndices(_ shape: [Int], to out: [Int]) -> [Int] {
    sourceIndices(strides: stridesForBroadcast(shape, to: out), out)
}

/// Flat source index of every element of `out` for explicit per-dimension source strides
/// (broadcast, transposed or sliced reads), starting at `base`.
func sourceIndices(strides: [Int], _ out: [Int], base: Int = 0) -> [Int] {
    let total = out.reduce(1, *)
    var result = [Int](repeating: 0, count: total)
    guard total > 0 else { return result }
    var index = [Int](repeating: 0, count: out.count)
    var offset = base
    for k in 0..<total {
        result[k] = offset
        var d = out.count - 1
        while d >= 0 {
            index[d] += 1
            offset += strides[d]
            if index[d] < out[d] { break }
            offset -= strides[d] * out[d]
            index[d] = 0
            d -= 1
        }
    }
    return result
}

/// Calls `body(k, i, j)` for every flat index k of `out`, with the flat indices i and j of the
/// elements of tensors of shapes `a` and `b` (each broadcast to `out`) that element k reads.
/// Walks the indices instead of materialising them (no memory proportional to `out`).
func forEachBroadcastPair(_ a: [Int], _ b: [Int], to out: [Int], _ body: (Int, Int, Int) -> Void) {
    let sa = stridesForBroadcast(a, to: out), sb = stridesForBroadcast(b, to: out)
    let total = out.reduce(1, *)
    guard total > 0 else { return }
    var index = [Int](repeating: 0, count: out.count)
    var i = 0, j = 0
    for k in 0..<total {
        body(k, i, j)
        var d = out.count - 1
        while d >= 0 {
            index[d] += 1
            i += sa[d]
            j += sb[d]
            if index[d] < out[d] { break }
            i -= sa[d] * out[d]
            j -= sb[d] * out[d]
            index[d] = 0
            d -= 1
        }
    }
}

/// Row-major strides of a dense shape.
func denseStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = s
        s *= shape[i]
    }
    return strides
}
