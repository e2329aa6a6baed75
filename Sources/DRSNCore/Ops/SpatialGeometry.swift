/// Output size and padding of one spatial axis of a convolution or pooling window.
struct AxisGeometry {
    var input: Int
    var kernel: Int
    var stride: Int
    var dilation: Int
    var padBegin: Int
    var padEnd: Int
    var output: Int
}

/// A window attribute with one value per axis (strides, dilations, pads, output_padding):
/// `count` values, each within Int, or `count` copies of `default` when the node has none.
func windowInts(_ node: Node, _ name: String, default def: Int, count: Int) throws(DRSNError) -> [Int] {
    guard let v = try node.ints(name) else { return [Int](repeating: def, count: count) }
    guard v.count == count else {
        throw fail(.invalidModel, "attribute '\(name)' has \(v.count) values, expected \(count)")
    }
    var out: [Int] = []
    for x in v { out.append(try checkedInt(x, name)) }
    return out
}

/// Rejects strides, dilations or kernel sizes below 1 and negative pads.
func checkWindow(strides: [Int], dilations: [Int], kernel: [Int], pads: [Int]) throws(DRSNError) {
    for s in strides where s < 1 { throw fail(.invalidModel, "strides must be >= 1, got \(strides)") }
    for d in dilations where d < 1 { throw fail(.invalidModel, "dilations must be >= 1, got \(dilations)") }
    for k in kernel where k < 1 { throw fail(.invalidModel, "kernel sizes must be >= 1, got \(kernel)") }
    for p in pads where p < 0 { throw fail(.unsupported, "negative pads \(pads) are not supported") }
}

/// Resolves pads/auto_pad/strides/dilations/ceil_mode for every spatial axis, with the
/// output-size rules onnxruntime uses.
func spatialGeometry(node: Node, input: [Int], kernel: [Int], ceilMode: Bool = false) throws(DRSNError) -> [AxisGeometry] {
    let n = input.count
    let strides = try windowInts(node, "strides", default: 1, count: n)
    let dilations = try windowInts(node, "dilations", default: 1, count: n)
    var pads = try windowInts(node, "pads", default: 0, count: 2 * n)
    try checkWindow(strides: strides, dilations: dilations, kernel: kernel, pads: pads)
    let autoPad = try node.string("auto_pad") ?? "NOTSET"
    var result: [AxisGeometry] = []
    for i in 0..<n {
        let eff = (kernel[i] - 1) * dilations[i] + 1
        var out: Int
        switch autoPad {
        case "NOTSET", "":
            let span = input[i] + pads[i] + pads[i + n] - eff
            guard span >= 0 else {
                throw fail(.shapeMismatch, "window of size \(eff) does not fit spatial size \(input[i]) with pads \(pads[i])+\(pads[i + n])")
            }
            if ceilMode {
                out = (span + strides[i] - 1) / strides[i] + 1
                if (out - 1) * strides[i] >= input[i] + pads[i] { out -= 1 }
            } else {
                out = span / strides[i] + 1
            }
        case "VALID":
            pads[i] = 0
            pads[i + n] = 0
            guard input[i] >= eff else {
                throw fail(.shapeMismatch, "window of size \(eff) does not fit spatial size \(input[i])")
            }
            out = (input[i] - eff) / strides[i] + 1
        case "SAME_UPPER", "SAME_LOWER":
            out = (input[i] + strides[i] - 1) / strides[i]
            let total = max(0, (out - 1) * strides[i] + eff - input[i])
            let small = total / 2
            pads[i] = autoPad == "SAME_UPPER" ? small : total - small
            pads[i + n] = total - pads[i]
        default:
            throw fail(.unsupported, "auto_pad '\(autoPad)' is not supported")
        }
        guard out >= 1 else { throw fail(.shapeMismatch, "output spatial size would be \(out)") }
        result.append(AxisGeometry(input: input[i], kernel: kernel[i], stride: strides[i], dilation: dilations[i],
                                   padBegin: pads[i], padEnd: pads[i + n], output: out))
    }
    return result
}
