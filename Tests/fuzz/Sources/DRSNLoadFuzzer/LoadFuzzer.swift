// libFuzzer entry point: every input is a candidate ONNX file. Loading must either fail
// with a DRSNError or produce a model; a loaded model is run once on a small input built
// from its declared input shapes (dynamic dimensions = 1). Anything else (a trap, a
// sanitizer report, a hang past -timeout, an allocation past -malloc_limit_mb) is a bug.
import DRSNCore

/// Inputs larger than this many elements are not run (the load is still exercised).
let maxRunElements = 1 << 16

@_cdecl("LLVMFuzzerTestOneInput")
public func drsnFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    var options = Options()
    options.numThreads = 1
    // Default limits except the computed-tensor limit: at the default 2^27 elements a legal
    // load may take a second or more, which would drown real hangs in -timeout reports.
    // (How the defaults bound a tiny hostile file is checked in Tests/python.)
    options.maxValueElements = 1 << 22
    let model: Model
    do throws(DRSNError) {
        model = try Model.load(bytes: UnsafeRawBufferPointer(start: data, count: size), options: options)
    } catch {
        return 0
    }
    var shapes: [[Int]] = []
    for info in model.inputs {
        guard let dims = info.dims else { return 0 }
        let shape = dims.map { $0 < 0 ? 1 : $0 }
        var n = 1
        for d in shape {
            let (p, o) = n.multipliedReportingOverflow(by: d)
            guard !o, p <= maxRunElements else { return 0 }
            n = p
        }
        shapes.append(shape)
    }
    // Deterministic values with both signs and a few exact zeros.
    let inputs = shapes.map { s in (0..<s.reduce(1, *)).map { Float(($0 % 7) - 3) * 0.25 } }
    do throws(DRSNError) {
        let outputs = try model.run(inputs, shapes: shapes)
        _ = outputs.count
    } catch {
        return 0
    }
    return 0
}
