/// Work a convolution call does besides the convolution itself. The prologue and packed
/// weights are honoured by the direct and Winograd kernels only (`convSupportsFusion(p)` in
/// DRSNKernels), the means by every path. All pointers are borrowed for the duration of
/// the call.
public struct ConvFusion: @unchecked Sendable {
    /// Prologue: input channel c is read as max(x * preScale[c] + preShift[c], 0) (the
    /// pre-activation BatchNorm -> ReLU of a residual unit); zero padding stays 0, NaN stays
    /// NaN. Both set or both nil; `inChannels` floats each.
    public var preScale: UnsafePointer<Float>?
    public var preShift: UnsafePointer<Float>?
    /// Weights already in the kernel's packed order (`packConvWeights`, same ISA variant);
    /// nil: the call packs them into its scratch.
    public var packedWeights: UnsafePointer<Float>?
    /// absMean[b * outChannels + m] = mean |y[b, m, :, :]| for every computed image b and
    /// output channel m (after bias and activation), taken per image while it is in cache.
    public var absMean: UnsafeMutablePointer<Float>?

    public init(preScale: UnsafePointer<Float>? = nil, preShift: UnsafePointer<Float>? = nil,
                packedWeights: UnsafePointer<Float>? = nil, absMean: UnsafeMutablePointer<Float>? = nil) {
        self.preScale = preScale
        self.preShift = preShift
        self.packedWeights = packedWeights
        self.absMean = absMean
    }

    /// Whether the input goes through the scale-shift-ReLU prologue.
    public var hasPrologue: Bool { preScale != nil && preShift != nil }
}
