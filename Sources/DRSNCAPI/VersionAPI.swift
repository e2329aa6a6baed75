import CDRSNSupport
import DRSNCore
import DRSNKernels
import Glibc

let versionMajor: UInt32 = 0, versionMinor: UInt32 = 2, versionPatch: UInt32 = 0
nonisolated(unsafe) let versionCString: UnsafeMutablePointer<CChar> = strdup("0.2.0")
nonisolated(unsafe) let statusCStrings: [Int32: UnsafeMutablePointer<CChar>] = [
    0: strdup("DRSN_OK"), 1: strdup("DRSN_ERR_INVALID_ARGUMENT"), 2: strdup("DRSN_ERR_IO"),
    3: strdup("DRSN_ERR_INVALID_MODEL"), 4: strdup("DRSN_ERR_UNSUPPORTED"), 5: strdup("DRSN_ERR_SHAPE_MISMATCH"),
    6: strdup("DRSN_ERR_DTYPE_MISMATCH"), 7: strdup("DRSN_ERR_BUFFER_TOO_SMALL"), 8: strdup("DRSN_ERR_OUT_OF_MEMORY"),
    9: strdup("DRSN_ERR_LIMIT_EXCEEDED"), 100: strdup("DRSN_ERR_INTERNAL"),
]
nonisolated(unsafe) let unknownStatusCString: UnsafeMutablePointer<CChar> = strdup("DRSN_ERR_UNKNOWN")

@_cdecl("drsn_version_number")
public func drsn_version_number() -> UInt32 { versionMajor * 10000 + versionMinor * 100 + versionPatch }

@_cdecl("drsn_version_string")
public func drsn_version_string() -> UnsafePointer<CChar> { UnsafePointer(versionCString) }

@_cdecl("drsn_abi_version")
public func drsn_abi_version() -> UInt32 { 1 }

nonisolated(unsafe) let isaCStrings: [UnsafeMutablePointer<CChar>] = KernelISA.allCases.map { strdup($0.name) }

@_cdecl("drsn_isa")
public func drsn_isa() -> UnsafePointer<CChar> { UnsafePointer(isaCStrings[activeKernelISA.rawValue]) }

@_cdecl("drsn_status_string")
public func drsn_status_string(_ status: Int32) -> UnsafePointer<CChar> {
    UnsafePointer(statusCStrings[status] ?? unknownStatusCString)
}

@_cdecl("drsn_last_error")
public func drsn_last_error() -> UnsafePointer<CChar> { drsnsup_get_error() }
