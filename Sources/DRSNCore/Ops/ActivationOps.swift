import DRSNKernels

/// Activations with their own kernel: LeakyRelu.
enum ActivationOps {
    /// LeakyRelu (opset 6+: attribute alpha, default 0.01). A constant input is evaluated
    /// now, by the same kernel a run uses.
    static func leakyRelu(_ ctx: OpContext) throws(DRSNError) -> [BoundValue] {
        let x = try ctx.input(0)
        let alpha = try ctx.node.float("alpha", default: 0.01)
        return [try ctx.applyElementwise(x, kernel: { p, n in activeKernels.leakyRelu(input: p, output: p, count: n, alpha: alpha) },
                                         step: { LeakyReluStep(count: $0, alpha: alpha) })]
    }
}
