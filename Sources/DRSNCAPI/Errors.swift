import CDRSNSupport
import DRSNCore

/// Records `message` as this thread's last error and returns the status as the C enum value.
func report(_ status: Status, _ message: String) -> Int32 {
    var text = message
    text.withUTF8 { drsnsup_set_error(UnsafeRawPointer($0.baseAddress)?.assumingMemoryBound(to: CChar.self), $0.count) }
    return status.rawValue
}

func report(_ error: DRSNError) -> Int32 { report(error.status, error.message) }

func invalid(_ function: String, _ what: String) -> Int32 {
    report(.invalidArgument, "\(function): \(what)")
}

let ok: Int32 = Status.ok.rawValue
