// DRSNKernelTypes: the plain value types of the kernel API (parameters and op selectors),
// shared by every ISA variant of the kernels (DRSNKernelsAVX512 / AVX2 / Baseline) and by
// the dispatching module DRSNKernels, which re-exports this module.

public struct ConvParams: Sendable, Equatable {
    public var batch: Int
    public var inChannels: Int
    public var inHeight: Int
    public var inWidth: Int
    public var outChannels: Int
    public var outHeight: Int
    public var outWidth: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var strideHeight: Int
    public var strideWidth: Int
    public var dilationHeight: Int
    public var dilationWidth: Int
    public var padTop: Int
    public var padLeft: Int
    public var groups: Int

    public init(batch: Int, inChannels: Int, inHeight: Int, inWidth: Int,
                outChannels: Int, outHeight: Int, outWidth: Int,
                kernelHeight: Int, kernelWidth: Int,
                strideHeight: Int = 1, strideWidth: Int = 1,
                dilationHeight: Int = 1, dilationWidth: Int = 1,
                padTop: Int = 0, padLeft: Int = 0, groups: Int = 1) {
        self.batch = batch
        self.inChannels = inChannels
        self.inHeight = inHeight
        self.inWidth = inWidth
        self.outChannels = outChannels
        self.outHeight = outHeight
        self.outWidth = outWidth
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.dilationHeight = dilationHeight
        self.dilationWidth = dilationWidth
        self.padTop = padTop
        self.padLeft = padLeft
        self.groups = groups
    }
}


public enum Activation: Sendable, Equatable {
    case none
    case relu
}


public struct PoolParams: Sendable, Equatable {
    public var planes: Int
    public var inHeight: Int
    public var inWidth: Int
    public var outHeight: Int
    public var outWidth: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var strideHeight: Int
    public var strideWidth: Int
    public var dilationHeight: Int
    public var dilationWidth: Int
    public var padTop: Int
    public var padLeft: Int
    public var padBottom: Int
    public var padRight: Int
    public var countIncludePad: Bool

    public init(planes: Int, inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int,
                kernelHeight: Int, kernelWidth: Int, strideHeight: Int = 1, strideWidth: Int = 1,
                dilationHeight: Int = 1, dilationWidth: Int = 1,
                padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0,
                countIncludePad: Bool = false) {
        self.planes = planes
        self.inHeight = inHeight
        self.inWidth = inWidth
        self.outHeight = outHeight
        self.outWidth = outWidth
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.dilationHeight = dilationHeight
        self.dilationWidth = dilationWidth
        self.padTop = padTop
        self.padLeft = padLeft
        self.padBottom = padBottom
        self.padRight = padRight
        self.countIncludePad = countIncludePad
    }
}


/// NaN semantics: relu(NaN) = NaN (like max(x, 0) in numpy/PyTorch), sign(NaN) = NaN,
/// sign(±0) = ±0, abs clears the sign bit, clip(NaN) = NaN, sigmoid(NaN) = NaN.
public enum UnaryOp: Sendable, Equatable {
    case relu
    case abs
    case sign
    case neg
    case sigmoid
    case clip(min: Float, max: Float)
    case copy
}


public enum BinaryOp: Sendable, Equatable {
    case add, sub, mul, div, max, min, greater, less, greaterOrEqual, lessOrEqual, equal
}


public enum ReduceOp: Sendable, Equatable {
    case sum, mean, max
    /// min (NaN propagates), product, sum of |x|, sqrt of the sum of squares, sum of squares,
    /// log(sum(exp(x))) computed as m + log(sum(exp(x - m))) with m the max (no overflow).
    case min, prod, l1, l2, sumSquare, logSumExp
}

/// One quantized operand of an integer kernel (`qlinearConv`): integer codes in [min, max]
/// around `zeroPoint`, all integers held as Float. `scale` == 0: the tensor holds the codes;
/// `scale` != 0: it holds floats, which the kernel quantizes on the way in (an input, as
/// QuantizeLinear does) or dequantizes on the way out (an output, as DequantizeLinear does).
public struct QuantizedOperand: Sendable, Equatable {
    public var scale: Float
    public var zeroPoint: Float
    public var min: Float
    public var max: Float

    public init(scale: Float = 0, zeroPoint: Float, min: Float, max: Float) {
        self.scale = scale
        self.zeroPoint = zeroPoint
        self.min = min
        self.max = max
    }
}
