/// A Resize of the two innermost dims: `planes` planes [inHeight, inWidth] become
/// [outHeight, outWidth] (a 1-D resize has inHeight == outHeight == 1). The source positions
/// come as per-axis tables computed when the plan is built (see `resizeNearest` and
/// `resizeLinear`); the work splits into output rows, `planes * outHeight` of them.
public struct ResizeParams: Sendable, Equatable {
    public var planes: Int
    public var inHeight: Int
    public var inWidth: Int
    public var outHeight: Int
    public var outWidth: Int

    public init(planes: Int, inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int) {
        self.planes = planes
        self.inHeight = inHeight
        self.inWidth = inWidth
        self.outHeight = outHeight
        self.outWidth = outWidth
    }

    /// Output rows (the unit of work): planes * outHeight.
    public var outRows: Int { planes &* outHeight }
}
