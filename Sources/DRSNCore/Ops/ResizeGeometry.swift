import DRSNKernels

/// How Resize maps an output coordinate back to the input (ONNX coordinate_transformation_mode).
enum ResizeCoordinateMode: String {
    case halfPixel = "half_pixel"
    case halfPixelSymmetric = "half_pixel_symmetric"
    case pytorchHalfPixel = "pytorch_half_pixel"
    case alignCorners = "align_corners"
    case asymmetric = "asymmetric"
    case tfHalfPixelForNN = "tf_half_pixel_for_nn"

    /// The input coordinate of output coordinate `x` on an axis of `inLength` -> `outLength`
    /// elements with scale `scale` (float32 arithmetic in onnxruntime's order).
    func original(_ x: Float, scale: Float, inLength: Float, outLength: Float) -> Float {
        switch self {
        case .halfPixel:
            return (x + 0.5) / scale - 0.5
        case .halfPixelSymmetric:
            let adjustment = outLength / (scale * inLength)
            let offset = inLength / 2 * (1 - adjustment)
            return Float(Double(offset) + (Double(x) + 0.5) / Double(scale) - 0.5)
        case .pytorchHalfPixel:
            return outLength > 1 ? (x + 0.5) / scale - 0.5 : 0
        case .alignCorners:
            return outLength == 1 ? 0 : x * (inLength - 1) / (outLength - 1)
        case .asymmetric:
            return x / scale
        case .tfHalfPixelForNN:
            return (x + 0.5) / scale
        }
    }
}

/// How nearest-mode Resize rounds an input coordinate (ONNX nearest_mode; `simple` is what
/// Resize-10 and Upsample do: ceil when downsampling, truncation otherwise).
enum ResizeNearestMode: String {
    case roundPreferFloor = "round_prefer_floor"
    case roundPreferCeil = "round_prefer_ceil"
    case floor
    case ceil
    case simple

    func index(_ x: Float, downsampling: Bool) -> Int {
        let r: Float
        switch self {
        case .roundPreferFloor:
            let t = x.rounded(.towardZero)
            r = x == t + 0.5 ? x.rounded(.down) : x.rounded(.toNearestOrAwayFromZero)
        case .roundPreferCeil: r = x.rounded(.toNearestOrAwayFromZero)
        case .floor: r = x.rounded(.down)
        case .ceil: r = x.rounded(.up)
        case .simple: r = downsampling ? x.rounded(.up) : x.rounded(.towardZero)
        }
        // Coordinates of checked shapes are far inside Int's range; NaN (a 0 scale never gets here) -> 0.
        guard r.isFinite else { return r > 0 ? Int.max / 2 : 0 }
        return Int(r)
    }
}

/// The per-axis source tables of a `ResizeStep` (see `resizeNearest` / `resizeLinear`):
/// nearest: one source index per output row / column; linear: two indices and two weights
/// per output row / column, first all the first ones, then all the second ones.
struct ResizeTables {
    var linear: Bool
    var rowIndex: [Int], colIndex: [Int]
    var rowWeight: [Float] = [], colWeight: [Float] = []

    /// Nearest source index of each of `outLength` output positions, clamped to the input; a
    /// scale of exactly 1 maps every position to itself (as onnxruntime does).
    static func nearest(inLength: Int, outLength: Int, scale: Float, coordinates: ResizeCoordinateMode,
                        rounding: ResizeNearestMode) -> [Int] {
        if scale == 1 { return (0..<outLength).map { min($0, max(inLength - 1, 0)) } }
        return (0..<outLength).map { x in
            let o = coordinates.original(Float(x), scale: scale, inLength: Float(inLength), outLength: Float(outLength))
            return min(max(rounding.index(o, downsampling: scale < 1), 0), max(inLength - 1, 0))
        }
    }

    /// The two source indices and weights of each output position for linear interpolation:
    /// the coordinate clamped to [0, inLength - 1], its floor and the next index (clamped), and
    /// the weights 1 - frac and frac (0.5 and 0.5 when both indices are the last one), as
    /// onnxruntime's bilinear setup computes them.
    static func linear(inLength: Int, outLength: Int, scale: Float,
                       coordinates: ResizeCoordinateMode) -> (index: [Int], weight: [Float]) {
        var index = [Int](repeating: 0, count: 2 * outLength)
        var weight = [Float](repeating: 0, count: 2 * outLength)
        let last = Float(max(inLength - 1, 0))
        for x in 0..<outLength {
            var o = scale == 1 ? Float(x)
                : coordinates.original(Float(x), scale: scale, inLength: Float(inLength), outLength: Float(outLength))
            o = max(0, min(o, last))
            if o.isNaN { o = 0 }  // never produced by a positive scale; kept inside the input regardless
            let i1 = min(Int(o), inLength - 1), i2 = min(i1 + 1, inLength - 1)
            var d1 = abs(o - Float(i1)), d2 = abs(o - Float(i2))
            if i1 == i2 { d1 = 0.5; d2 = 0.5 }
            index[x] = i1
            index[outLength + x] = i2
            weight[x] = d2  // weight of the first index
            weight[outLength + x] = d1
        }
        return (index, weight)
    }
}
