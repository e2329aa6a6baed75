import DRSNKernels

/// The operators drsn executes, by ONNX op_type (default domain), and the opsets it accepts.
/// What each operator's versions define (attributes, input and output counts) is in
/// `OperatorSchema.table`, checked before the operator runs.
enum OperatorRegistry {
    static let minOpset = 7
    static let maxOpset = 28

    nonisolated(unsafe) static let table: [String: OperatorFunction] = [
        "Conv": ConvOps.conv,
        "BatchNormalization": ConvOps.batchNorm,
        "Relu": ElementwiseOps.unary(.relu),
        "Abs": ElementwiseOps.unary(.abs),
        "Sign": ElementwiseOps.unary(.sign),
        "Neg": ElementwiseOps.unary(.neg),
        "Sigmoid": ElementwiseOps.unary(.sigmoid),
        "LeakyRelu": ActivationOps.leakyRelu,
        "Clip": ElementwiseOps.clip,
        "Cast": ElementwiseOps.cast,
        "Add": ElementwiseOps.binary(.add),
        "Sub": ElementwiseOps.binary(.sub),
        "Mul": ElementwiseOps.binary(.mul),
        "Div": ElementwiseOps.binary(.div),
        "Max": ElementwiseOps.variadic(.max),
        "Min": ElementwiseOps.variadic(.min),
        "Greater": ElementwiseOps.binary(.greater),
        "Less": ElementwiseOps.binary(.less),
        "GreaterOrEqual": ElementwiseOps.binary(.greaterOrEqual),
        "LessOrEqual": ElementwiseOps.binary(.lessOrEqual),
        "Equal": ElementwiseOps.binary(.equal),
        "Where": ElementwiseOps.whereOp,
        "GlobalAveragePool": PoolOps.globalAveragePool,
        "AveragePool": PoolOps.pool(max: false),
        "MaxPool": PoolOps.pool(max: true),
        "ReduceMean": ReduceOps.reduce(.mean),
        "ReduceSum": ReduceOps.reduce(.sum),
        "ReduceMax": ReduceOps.reduce(.max),
        "Gemm": MatrixOps.gemm,
        "MatMul": MatrixOps.matMul,
        "Softmax": MatrixOps.softmax,
        "Flatten": ShapeOps.flatten,
        "Reshape": ShapeOps.reshape,
        "Squeeze": ShapeOps.squeeze,
        "Unsqueeze": ShapeOps.unsqueeze,
        "Identity": ShapeOps.identity,
        "Dropout": ShapeOps.dropout,
        "Shape": ShapeOps.shape,
        "ConstantOfShape": ShapeOps.constantOfShape,
        "Constant": ShapeOps.constant,
        "Transpose": DataMovementOps.transpose,
        "Concat": DataMovementOps.concat,
        "Slice": DataMovementOps.slice,
        "Pad": DataMovementOps.pad,
        "Gather": DataMovementOps.gather,
        "Expand": DataMovementOps.expand,
        "LRN": NormalizationOps.lrn,
        "LayerNormalization": NormalizationOps.layerNormalization,
        "InstanceNormalization": NormalizationOps.instanceNormalization,
        "Split": SplitTileOps.split,
        "Tile": SplitTileOps.tile,
        "ReduceMin": ReduceOps.reduce(.min),
        "ReduceProd": ReduceOps.reduce(.prod),
        "ReduceL1": ReduceOps.reduce(.l1),
        "ReduceL2": ReduceOps.reduce(.l2),
        "ReduceSumSquare": ReduceOps.reduce(.sumSquare),
        "ReduceLogSumExp": ReduceOps.reduce(.logSumExp),
        "Resize": ResizeOps.resize,
        "Upsample": ResizeOps.upsample,
        "ConvTranspose": ConvTransposeOps.convTranspose,
        "LSTM": RecurrentOps.lstm,
        "GRU": RecurrentOps.gru,
        "Sum": SumMeanOps.sum,
        "Mean": SumMeanOps.mean,
        "Exp": MathOps.unary(.exp),
        "Log": MathOps.unary(.log),
        "Sqrt": MathOps.unary(.sqrt),
        "Reciprocal": MathOps.unary(.reciprocal),
        "Tanh": MathOps.unary(.tanh),
        "Erf": MathOps.unary(.erf),
        "Softplus": MathOps.unary(.softplus),
        "Softsign": MathOps.unary(.softsign),
        "HardSwish": MathOps.unary(.hardSwish),
        "Elu": MathOps.elu,
        "Selu": MathOps.selu,
        "HardSigmoid": MathOps.hardSigmoid,
        "Gelu": MathOps.gelu,
        "Pow": MathOps.pow,
        "PRelu": MathOps.prelu,
        "QuantizeLinear": QuantizationOps.quantizeLinear,
        "DequantizeLinear": QuantizationOps.dequantizeLinear,
        "QLinearConv": QuantizationOps.qlinearConv,
    ]

    static var supportedOperators: [String] { table.keys.sorted() }

    /// The implementation of `node`, or an error naming the op, node and opset: unsupported
    /// for an operator drsn lacks, invalid model for a node its opset does not define
    /// (`OperatorSchema.check`).
    static func function(for node: Node, opset: Int) throws(DRSNError) -> OperatorFunction {
        guard node.domain.isEmpty || node.domain == "ai.onnx" else {
            throw fail(.unsupported, "unsupported operator '\(node.domain).\(node.opType)' (node '\(node.name)', domain '\(node.domain)'); drsn supports the default ONNX domain only")
        }
        guard let f = table[node.opType] else {
            throw fail(.unsupported, "unsupported operator '\(node.opType)' (node '\(node.name)', opset \(opset)); supported: \(supportedOperators.joined(separator: ", "))")
        }
        if let schema = OperatorSchema.table[node.opType] {
            do throws(DRSNError) {
                try schema.check(node, opset: opset)
            } catch {
                throw error.inNode(node, opset: opset)
            }
        }
        return f
    }

    /// Evaluates `node` by its operator on bound `inputs`: runtime steps go to `sink`, and
    /// the constants it computes count against `budget`. Errors name the node. Binding and
    /// constant folding both evaluate nodes through here.
    static func evaluate(_ node: Node, opset: Int, inputs: [BoundValue?], budget: ConstantBudget,
                         sink: StepSink) throws(DRSNError) -> [BoundValue] {
        let f = try function(for: node, opset: opset)
        do throws(DRSNError) {
            let outs = try f(OpContext(node: node, opset: opset, inputs: inputs, budget: budget, sink: sink))
            try budget.countComputedConstants(outs, inputs: inputs)
            for (k, name) in node.outputs.enumerated() where !name.isEmpty && k >= outs.count {
                throw fail(.unsupported, "output \(k) ('\(name)') is not supported")
            }
            return outs
        } catch {
            throw error.inNode(node, opset: opset)
        }
    }
}
