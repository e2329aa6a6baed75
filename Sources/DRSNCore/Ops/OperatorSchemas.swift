/// What ONNX defines for each supported operator over drsn's opset window
/// (`OperatorRegistry.minOpset...maxOpset`): the first opset that has the operator, the
/// opsets in which each attribute exists, and how many inputs and outputs a node may have.
/// Taken from the ONNX operator schemas (`onnx.defs.get_schema(op, max_inclusive_version=v)`,
/// onnx 1.23, opsets 7 to 28); `Tests/python/test_opsets.py` checks drsn against them.
///
/// `OperatorRegistry.function(for:opset:)` checks every node here before its operator
/// runs, so an operator function only ever sees attributes, inputs and outputs that its
/// opset defines (a Clip-11 node with a `min` attribute, a Shape-13 node with `start`, a
/// Sign node in an opset-8 model are invalid models, as onnxruntime rejects them too).
/// How an operator's meaning changes between versions (attributes that became inputs,
/// Softmax's coercion before 13, ...) stays with the operator function.
struct OperatorSchema {
    /// The first opset that defines the operator.
    var since: Int = OperatorRegistry.minOpset
    /// Each attribute and the opsets in which ONNX defines it.
    var attributes: [String: Range<Int>] = [:]
    /// The most inputs a node may have, from each opset on: ascending (opset, count);
    /// `Int.max` for variadic operators.
    var inputs: [(opset: Int, count: Int)] = [(OperatorRegistry.minOpset, 1)]
    /// The most outputs, likewise.
    var outputs: [(opset: Int, count: Int)] = [(OperatorRegistry.minOpset, 1)]

    /// Opsets from `v` on.
    static func from(_ v: Int) -> Range<Int> { v..<Int.max }
    /// Opsets before `v`.
    static func before(_ v: Int) -> Range<Int> { 0..<v }
    /// Every opset.
    static let always: Range<Int> = 0..<Int.max

    static func attrs(_ names: String...) -> [String: Range<Int>] {
        Dictionary(uniqueKeysWithValues: names.map { ($0, always) })
    }

    /// The count in force at `opset` in a step list.
    static func limit(_ steps: [(opset: Int, count: Int)], at opset: Int) -> Int {
        steps.last(where: { $0.opset <= opset })?.count ?? 0
    }

    /// Throws `.invalidModel` when `node` uses the operator, an attribute, or more inputs or
    /// outputs than ONNX defines at `opset`; the message names the operator, the opset, and
    /// the attribute or count. Omitted trailing inputs and outputs ("") do not count.
    func check(_ node: Node, opset: Int) throws(DRSNError) {
        let op = node.opType
        guard opset >= since else {
            throw fail(.invalidModel, "operator '\(op)' is not defined at opset \(opset) (ONNX defines it from opset \(since))")
        }
        for name in node.attributes.keys.sorted() {
            guard let range = attributes[name] else {
                throw fail(.invalidModel, "attribute '\(name)' is not defined for \(op) (opset \(opset))")
            }
            guard range.contains(opset) else {
                let defined = range.lowerBound > opset ? "from opset \(range.lowerBound)" : "up to opset \(range.upperBound - 1)"
                throw fail(.invalidModel, "attribute '\(name)' is not defined for \(op) at opset \(opset) (ONNX defines it \(defined))")
            }
        }
        let inputCount = (node.inputs.lastIndex(where: { !$0.isEmpty }) ?? -1) + 1
        let maxInputs = Self.limit(inputs, at: opset)
        guard inputCount <= maxInputs else {
            throw fail(.invalidModel, "\(op) takes at most \(maxInputs) input\(maxInputs == 1 ? "" : "s") at opset \(opset), got \(inputCount)")
        }
        let outputCount = (node.outputs.lastIndex(where: { !$0.isEmpty }) ?? -1) + 1
        let maxOutputs = Self.limit(outputs, at: opset)
        guard outputCount <= maxOutputs else {
            throw fail(.invalidModel, "\(op) has at most \(maxOutputs) output\(maxOutputs == 1 ? "" : "s") at opset \(opset), got \(outputCount)")
        }
    }

    /// The schemas of the operators in `OperatorRegistry.table`, by op type.
    static let table: [String: OperatorSchema] = {
        let pads = attrs("auto_pad", "kernel_shape", "pads", "strides")
        var recurrent = attrs("activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size")
        recurrent["layout"] = from(14)
        let unary = OperatorSchema()
        let binary = OperatorSchema(inputs: [(7, 2)])
        let variadic = OperatorSchema(inputs: [(7, Int.max)])
        func reduce(axesInputFrom v: Int) -> OperatorSchema {
            OperatorSchema(attributes: ["keepdims": always, "axes": before(v), "noop_with_empty_axes": from(v)],
                           inputs: [(7, 1), (v, 2)])
        }
        return [
            "Conv": OperatorSchema(attributes: pads.merging(attrs("dilations", "group")) { a, _ in a }, inputs: [(7, 3)]),
            "BatchNormalization": OperatorSchema(
                attributes: ["epsilon": always, "momentum": always, "spatial": before(9), "training_mode": from(14)],
                inputs: [(7, 5)], outputs: [(7, 5), (14, 3)]),
            "Relu": unary, "Abs": unary, "Neg": unary, "Sigmoid": unary, "Identity": unary,
            "Sign": OperatorSchema(since: 9),
            "LeakyRelu": OperatorSchema(attributes: attrs("alpha")),
            "Clip": OperatorSchema(attributes: ["min": before(11), "max": before(11)], inputs: [(7, 1), (11, 3)]),
            "Cast": OperatorSchema(attributes: ["to": always, "saturate": from(19), "round_mode": from(24)]),
            "Add": binary, "Sub": binary, "Mul": binary, "Div": binary,
            "Greater": binary, "Less": binary, "Equal": binary, "MatMul": binary,
            "GreaterOrEqual": OperatorSchema(since: 12, inputs: [(12, 2)]),
            "LessOrEqual": OperatorSchema(since: 12, inputs: [(12, 2)]),
            "Max": variadic, "Min": variadic,
            "Where": OperatorSchema(since: 9, inputs: [(9, 3)]),
            "GlobalAveragePool": unary,
            "AveragePool": OperatorSchema(attributes: pads.merging(
                ["count_include_pad": always, "ceil_mode": from(10), "dilations": from(19)]) { a, _ in a }),
            "MaxPool": OperatorSchema(attributes: pads.merging(
                ["storage_order": from(8), "ceil_mode": from(10), "dilations": from(10)]) { a, _ in a },
                outputs: [(7, 1), (8, 2)]),
            "ReduceMean": reduce(axesInputFrom: 18),
            "ReduceSum": reduce(axesInputFrom: 13),
            "ReduceMax": reduce(axesInputFrom: 18),
            "Gemm": OperatorSchema(attributes: attrs("alpha", "beta", "transA", "transB"), inputs: [(7, 3)]),
            "Softmax": OperatorSchema(attributes: attrs("axis")),
            "Flatten": OperatorSchema(attributes: attrs("axis")),
            "Reshape": OperatorSchema(attributes: ["allowzero": from(14)], inputs: [(7, 2)]),
            "Squeeze": OperatorSchema(attributes: ["axes": before(13)], inputs: [(7, 1), (13, 2)]),
            "Unsqueeze": OperatorSchema(attributes: ["axes": before(13)], inputs: [(7, 1), (13, 2)]),
            "Dropout": OperatorSchema(attributes: ["ratio": before(12), "seed": from(12)],
                                      inputs: [(7, 1), (12, 3)], outputs: [(7, 2)]),
            "Shape": OperatorSchema(attributes: ["start": from(15), "end": from(15)]),
            "ConstantOfShape": OperatorSchema(since: 9, attributes: attrs("value"), inputs: [(9, 1)]),
            "Constant": OperatorSchema(
                attributes: ["value": always, "sparse_value": from(11), "value_float": from(12),
                             "value_floats": from(12), "value_int": from(12), "value_ints": from(12),
                             "value_string": from(12), "value_strings": from(12)],
                inputs: [(7, 0)]),
            "Transpose": OperatorSchema(attributes: attrs("perm")),
            "Concat": OperatorSchema(attributes: attrs("axis"), inputs: [(7, Int.max)]),
            "Slice": OperatorSchema(attributes: ["starts": before(10), "ends": before(10), "axes": before(10)],
                                    inputs: [(7, 1), (10, 5)]),
            "Pad": OperatorSchema(attributes: ["mode": always, "pads": before(11), "value": before(11)],
                                  inputs: [(7, 1), (11, 3), (18, 4)]),
            "Gather": OperatorSchema(attributes: attrs("axis"), inputs: [(7, 2)]),
            "Expand": OperatorSchema(since: 8, inputs: [(8, 2)]),
            "LRN": OperatorSchema(attributes: attrs("alpha", "beta", "bias", "size")),
            "LayerNormalization": OperatorSchema(since: 17, attributes: attrs("axis", "epsilon", "stash_type"),
                                                 inputs: [(17, 3)], outputs: [(17, 3)]),
            "InstanceNormalization": OperatorSchema(attributes: attrs("epsilon"), inputs: [(7, 3)]),
            "Split": OperatorSchema(attributes: ["axis": always, "split": before(13), "num_outputs": from(18)],
                                    inputs: [(7, 1), (13, 2)], outputs: [(7, Int.max)]),
            "Tile": OperatorSchema(inputs: [(7, 2)]),
            "ReduceMin": reduce(axesInputFrom: 18), "ReduceProd": reduce(axesInputFrom: 18),
            "ReduceL1": reduce(axesInputFrom: 18), "ReduceL2": reduce(axesInputFrom: 18),
            "ReduceSumSquare": reduce(axesInputFrom: 18), "ReduceLogSumExp": reduce(axesInputFrom: 18),
            "Resize": OperatorSchema(since: 10, attributes: [
                "mode": always, "coordinate_transformation_mode": from(11), "cubic_coeff_a": from(11),
                "exclude_outside": from(11), "extrapolation_value": from(11), "nearest_mode": from(11),
                "antialias": from(18), "axes": from(18), "keep_aspect_ratio_policy": from(18)],
                inputs: [(10, 2), (11, 4)]),
            "Sum": variadic, "Mean": variadic,
            "Exp": unary, "Log": unary, "Sqrt": unary, "Reciprocal": unary, "Tanh": unary,
            "Softplus": unary, "Softsign": unary,
            "Erf": OperatorSchema(since: 9), "HardSwish": OperatorSchema(since: 14),
            "Elu": OperatorSchema(attributes: attrs("alpha")),
            "Selu": OperatorSchema(attributes: attrs("alpha", "gamma")),
            "HardSigmoid": OperatorSchema(attributes: attrs("alpha", "beta")),
            "Gelu": OperatorSchema(since: 20, attributes: attrs("approximate")),
            "Pow": binary, "PRelu": binary,
            "QuantizeLinear": OperatorSchema(since: 10, attributes: [
                "axis": from(13), "saturate": from(19), "block_size": from(21), "output_dtype": from(21),
                "precision": from(23)], inputs: [(10, 3)]),
            "DequantizeLinear": OperatorSchema(since: 10, attributes: [
                "axis": from(13), "block_size": from(21), "output_dtype": from(23)], inputs: [(10, 3)]),
            "QLinearConv": OperatorSchema(since: 10, attributes: pads.merging(attrs("dilations", "group")) { a, _ in a },
                                          inputs: [(10, 9)]),
            "ConvTranspose": OperatorSchema(attributes: pads.merging(
                attrs("dilations", "group", "output_padding", "output_shape")) { a, _ in a }, inputs: [(7, 3)]),
            "LSTM": OperatorSchema(attributes: recurrent.merging(["input_forget": always]) { a, _ in a },
                                   inputs: [(7, 8)], outputs: [(7, 3)]),
            "GRU": OperatorSchema(attributes: recurrent.merging(["linear_before_reset": always]) { a, _ in a },
                                  inputs: [(7, 6)], outputs: [(7, 2)]),
            "Upsample": OperatorSchema(attributes: ["mode": always, "scales": before(9)], inputs: [(7, 1), (9, 2)]),
        ]
    }()
}
