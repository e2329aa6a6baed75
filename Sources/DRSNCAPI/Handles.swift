import DRSNCore
import Glibc

/// Heap object behind a `drsn_options*`.
final class OptionsHandle {
    var options = Options()
}

/// Heap object behind a `drsn_model*`: the model plus C copies of the strings the API
/// hands out, which live as long as the handle.
final class ModelHandle {
    let model: Model
    let inputNames: [UnsafeMutablePointer<CChar>]
    let outputNames: [UnsafeMutablePointer<CChar>]
    let summary: UnsafeMutablePointer<CChar>

    init(_ model: Model) {
        self.model = model
        summary = strdup(model.summaryJSON())
        inputNames = model.inputs.map { strdup($0.name) }
        outputNames = model.outputs.map { strdup($0.name) }
    }

    deinit {
        for p in inputNames { free(p) }
        for p in outputNames { free(p) }
        free(summary)
    }
}

@inline(__always)
func options(_ p: OpaquePointer?) -> OptionsHandle? {
    guard let p else { return nil }
    return Unmanaged<OptionsHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
}

@inline(__always)
func model(_ p: OpaquePointer?) -> ModelHandle? {
    guard let p else { return nil }
    return Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
}
