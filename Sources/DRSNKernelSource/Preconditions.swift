// Argument checks at the kernels' entry points: every kernel that takes counts, shapes or
// ranges states what it expects of them (XNNPACK's convention), and a debug build stops at
// the first call that breaks it. The checks exist only in debug builds (`DEBUG`, which
// SwiftPM defines for `-c debug`, the configuration `swift test` builds): a release build
// (-Ounchecked, see Package.swift) contains none of them, so its machine code is unchanged
// (Tests/hygiene.sh). They run once per kernel call, never inside a loop over elements.
// Pointers need no check: the kernels take non-optional pointers wherever one is required.

import DRSNKernelTypes

/// Stops a debug build with "kernel precondition failed: `message`" when `condition` is false
/// (fatalError: the message is printed at -O too, which debug builds compile the kernels at);
/// nothing in a release build.
@inline(__always)
func kernelPrecondition(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                        file: StaticString = #fileID, line: UInt = #line) {
#if DEBUG
    if !condition() { fatalError("kernel precondition failed: " + message(), file: file, line: line) }
#endif
}

extension ConvParams {
    /// Counts are >= 0, strides, dilations and groups >= 1, pads >= 0, and the groups divide
    /// both channel counts.
    var isConsistent: Bool {
        batch >= 0 && inChannels >= 0 && inHeight >= 0 && inWidth >= 0 && outChannels >= 0
            && outHeight >= 0 && outWidth >= 0 && kernelHeight >= 0 && kernelWidth >= 0
            && strideHeight >= 1 && strideWidth >= 1 && dilationHeight >= 1 && dilationWidth >= 1
            && padTop >= 0 && padLeft >= 0 && groups >= 1
            && inChannels % groups == 0 && outChannels % groups == 0
    }
}

extension PoolParams {
    /// Counts are >= 0, windows, strides and dilations >= 1, pads >= 0.
    var isConsistent: Bool {
        planes >= 0 && inHeight >= 0 && inWidth >= 0 && outHeight >= 0 && outWidth >= 0
            && kernelHeight >= 1 && kernelWidth >= 1 && strideHeight >= 1 && strideWidth >= 1
            && dilationHeight >= 1 && dilationWidth >= 1
            && padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0
    }
}

/// Every dimension is >= 0.
func isShape(_ shape: [Int]) -> Bool { shape.allSatisfy { $0 >= 0 } }

/// `permutation` holds each of 0..<rank once.
func isPermutation(_ permutation: [Int], rank: Int) -> Bool {
    permutation.count == rank && permutation.sorted() == Array(0..<rank)
}

/// The strided slice stays inside `shape`: per dim, a nonzero step, and when the output dim is
/// not empty, its first and last source index in 0..<shape[d].
func isInsideSlice(shape: [Int], starts: [Int], steps: [Int], outShape: [Int]) -> Bool {
    guard starts.count == shape.count, steps.count == shape.count, outShape.count == shape.count,
          isShape(shape), isShape(outShape) else { return false }
    for d in 0..<shape.count where outShape[d] > 0 {
        let last = starts[d] + (outShape[d] - 1) * steps[d]
        guard steps[d] != 0, (0..<shape[d]).contains(starts[d]), (0..<shape[d]).contains(last) else { return false }
    }
    return true
}

extension ResizeParams {
    /// Counts are >= 0, and a nonempty output reads a nonempty input.
    var isConsistent: Bool {
        planes >= 0 && inHeight >= 0 && inWidth >= 0 && outHeight >= 0 && outWidth >= 0
            && (planes == 0 || outHeight == 0 || outWidth == 0 || (inHeight > 0 && inWidth > 0))
    }
}
