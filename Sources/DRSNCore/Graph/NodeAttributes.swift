/// Typed attribute access with errors that name the attribute and the kind found.
extension Node {
    func int(_ name: String) throws(DRSNError) -> Int64? {
        guard let a = attributes[name] else { return nil }
        if case .int(let v) = a { return v }
        throw fail(.invalidModel, "attribute '\(name)' must be an int")
    }

    func int(_ name: String, default value: Int64) throws(DRSNError) -> Int64 {
        try int(name) ?? value
    }

    func float(_ name: String) throws(DRSNError) -> Float? {
        guard let a = attributes[name] else { return nil }
        switch a {
        case .float(let v): return v
        case .int(let v): return Float(v)
        default: throw fail(.invalidModel, "attribute '\(name)' must be a float")
        }
    }

    func float(_ name: String, default value: Float) throws(DRSNError) -> Float {
        try float(name) ?? value
    }

    func ints(_ name: String) throws(DRSNError) -> [Int64]? {
        guard let a = attributes[name] else { return nil }
        switch a {
        case .ints(let v): return v
        case .int(let v): return [v]
        default: throw fail(.invalidModel, "attribute '\(name)' must be a list of ints")
        }
    }

    func floats(_ name: String) throws(DRSNError) -> [Float]? {
        guard let a = attributes[name] else { return nil }
        switch a {
        case .floats(let v): return v
        case .float(let v): return [v]
        default: throw fail(.invalidModel, "attribute '\(name)' must be a list of floats")
        }
    }

    func string(_ name: String) throws(DRSNError) -> String? {
        guard let a = attributes[name] else { return nil }
        if case .string(let v) = a { return v }
        throw fail(.invalidModel, "attribute '\(name)' must be a string")
    }

    func tensor(_ name: String) throws(DRSNError) -> Tensor? {
        guard let a = attributes[name] else { return nil }
        if case .tensor(let v) = a { return v }
        throw fail(.invalidModel, "attribute '\(name)' must be a tensor")
    }

    /// Input name `i`, or nil when absent or omitted ("").
    func input(_ i: Int) -> String? {
        i < inputs.count && !inputs[i].isEmpty ? inputs[i] : nil
    }
}

/// Converts an Int64 from the model to Int, rejecting values that do not fit the range
/// a dimension or index can have.
@inline(__always)
func checkedInt(_ v: Int64, _ what: @autoclosure () -> String) throws(DRSNError) -> Int {
    guard v > -(1 << 48), v < (1 << 48) else { throw fail(.invalidModel, "\(what()) value \(v) is out of range") }
    return Int(v)
}

/// Product of dimensions with overflow detection. The product of the nonzero dimensions
/// must not exceed 2^40 either, so that no product of some of the dimensions of a checked
/// shape can overflow, even when a zero dimension makes the tensor empty.
func elementCount(_ shape: [Int]) throws(DRSNError) -> Int {
    let e = try extent(shape)
    return shape.contains(0) ? 0 : e
}

/// Product of the nonzero dimensions (the element count when no dimension is 0): bounds
/// every loop over some of the dimensions, which run even when another one is 0.
func extent(_ shape: [Int]) throws(DRSNError) -> Int {
    var nonzero = 1
    for d in shape {
        guard d >= 0 else { throw fail(.shapeMismatch, "negative dimension in shape \(describe(shape))") }
        if d == 0 { continue }
        let (p, o) = nonzero.multipliedReportingOverflow(by: d)
        guard !o, p <= (1 << 40) else { throw fail(.limitExceeded, "shape \(describe(shape)) has too many elements") }
        nonzero = p
    }
    return nonzero
}

/// Normalises an axis in [-rank, rank) to [0, rank).
func normalizeAxis(_ axis: Int64, rank: Int, _ what: String = "axis") throws(DRSNError) -> Int {
    let r = Int64(rank)
    guard axis >= -r, axis < r else { throw fail(.invalidModel, "\(what) \(axis) is out of range for rank \(rank)") }
    return Int(axis < 0 ? axis + r : axis)
}
