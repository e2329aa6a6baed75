import DRSNKernels

/// Resize (or Upsample) of the two innermost dims, nearest or linear, through per-axis
/// tables resolved at bind time (`ResizeTables`). Units are output rows.
struct ResizeStep: StepKernel {
    var params: ResizeParams
    var tables: ResizeTables

    var name: String { tables.linear ? "resizeLinear" : "resizeNearest" }
    func split(threads: Int) -> (units: Int, workPerUnit: Int) {
        (params.outRows, params.outWidth * (tables.linear ? 12 : 2))
    }

    func run(units: Range<Int>, task: Int, _ ctx: StepContext) {
        compute(input: ctx.input(0), output: ctx.output(), rows: units)
    }

    /// Output rows `rows` of `input` resized into `output` (a run, and constant evaluation).
    func compute(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, rows: Range<Int>) {
        let p = params
        tables.rowIndex.withUnsafeBufferPointer { ri in
            tables.colIndex.withUnsafeBufferPointer { ci in
                // Empty tables: an empty output, nothing to write.
                guard let r = ri.baseAddress, let c = ci.baseAddress else { return }
                if !tables.linear {
                    activeKernels.resizeNearest(p, input: input, output: output, rows: rows, rowIndex: r, colIndex: c)
                    return
                }
                tables.rowWeight.withUnsafeBufferPointer { rw in
                    tables.colWeight.withUnsafeBufferPointer { cw in
                        guard let rwp = rw.baseAddress, let cwp = cw.baseAddress else { return }
                        activeKernels.resizeLinear(p, input: input, output: output, rows: rows, rowIndex: r,
                                                   rowWeight: rwp, colIndex: c, colWeight: cwp)
                    }
                }
            }
        }
    }
}
