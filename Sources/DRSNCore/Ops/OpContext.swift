/// Everything an operator sees while it is bound: the node, the opset, its inputs and the
/// plan builder. An operator returns one bound value per node output it produces; when all
/// its inputs are constant it may compute constants instead of emitting steps.
struct OpContext {
    let node: Node
    let opset: Int
    /// One entry per node input; nil for an omitted optional input.
    let inputs: [BoundValue?]
    let builder: PlanBuilder

    var allConstant: Bool {
        inputs.allSatisfy { v in
            if let v { return v.constant != nil }
            return true
        }
    }

    /// Required input `i`.
    func input(_ i: Int) throws(DRSNError) -> BoundValue {
        guard i < inputs.count, let v = inputs[i] else {
            throw fail(.invalidModel, "missing required input \(i)")
        }
        return v
    }

    func optionalInput(_ i: Int) -> BoundValue? { i < inputs.count ? inputs[i] : nil }

    /// Input `i`, which must be constant (weights, shapes, axes).
    func constantInput(_ i: Int, _ what: String) throws(DRSNError) -> Tensor {
        let v = try input(i)
        guard let t = v.constant else {
            throw fail(.unsupported, "\(what) (input \(i)) must be a constant or computable from shapes at load time")
        }
        return t
    }

    func optionalConstantInput(_ i: Int, _ what: String) throws(DRSNError) -> Tensor? {
        guard let v = optionalInput(i) else { return nil }
        guard let t = v.constant else {
            throw fail(.unsupported, "\(what) (input \(i)) must be a constant or computable from shapes at load time")
        }
        return t
    }

    /// Runtime input `i` as float32/bool data; int64 runtime data is not supported.
    func requireRuntimeType(_ v: BoundValue, _ i: Int) throws(DRSNError) {
        guard v.dtype.isRuntimeSupported || v.constant != nil else {
            throw fail(.unsupported, "input \(i) has type \(v.dtype); runtime tensors must be FLOAT or BOOL")
        }
    }
}

typealias OperatorFunction = (OpContext) throws(DRSNError) -> [BoundValue]
