import CDRSNSupport
import DRSNCore
import DRSNKernels
import Glibc

// Versions, status codes and their names come from include/drsn.h (Sources/CDRSNSupport/
// include/drsn_abi.h imports it): no copies here.
let versionMajor = UInt32(DRSN_VERSION_MAJOR), versionMinor = UInt32(DRSN_VERSION_MINOR)
let versionPatch = UInt32(DRSN_VERSION_PATCH)
nonisolated(unsafe) let versionCString: UnsafeMutablePointer<CChar> = strdup(DRSN_VERSION_STRING)
/// drsn_status_string's names; Tests/python/test_header_constants.py checks them against the
/// enumerators of drsn.h.
nonisolated(unsafe) let statusCStrings: [Int32: UnsafeMutablePointer<CChar>] = Dictionary(uniqueKeysWithValues: [
    (DRSN_OK, "DRSN_OK"), (DRSN_ERR_INVALID_ARGUMENT, "DRSN_ERR_INVALID_ARGUMENT"), (DRSN_ERR_IO, "DRSN_ERR_IO"),
    (DRSN_ERR_INVALID_MODEL, "DRSN_ERR_INVALID_MODEL"), (DRSN_ERR_UNSUPPORTED, "DRSN_ERR_UNSUPPORTED"),
    (DRSN_ERR_SHAPE_MISMATCH, "DRSN_ERR_SHAPE_MISMATCH"), (DRSN_ERR_DTYPE_MISMATCH, "DRSN_ERR_DTYPE_MISMATCH"),
    (DRSN_ERR_BUFFER_TOO_SMALL, "DRSN_ERR_BUFFER_TOO_SMALL"), (DRSN_ERR_OUT_OF_MEMORY, "DRSN_ERR_OUT_OF_MEMORY"),
    (DRSN_ERR_LIMIT_EXCEEDED, "DRSN_ERR_LIMIT_EXCEEDED"), (DRSN_ERR_INTERNAL, "DRSN_ERR_INTERNAL"),
].map { (abiCode($0.0), strdup($0.1)!) })
nonisolated(unsafe) let unknownStatusCString: UnsafeMutablePointer<CChar> = strdup("DRSN_ERR_UNKNOWN")

@_cdecl("drsn_version_number")
public func drsn_version_number() -> UInt32 { versionMajor * 10000 + versionMinor * 100 + versionPatch }

@_cdecl("drsn_version_string")
public func drsn_version_string() -> UnsafePointer<CChar> { UnsafePointer(versionCString) }

@_cdecl("drsn_abi_version")
public func drsn_abi_version() -> UInt32 { UInt32(DRSN_ABI_VERSION) }

nonisolated(unsafe) let isaCStrings: [UnsafeMutablePointer<CChar>] = KernelISA.allCases.map { strdup($0.name) }

@_cdecl("drsn_isa")
public func drsn_isa() -> UnsafePointer<CChar> { UnsafePointer(isaCStrings[activeKernelISA.rawValue]) }

@_cdecl("drsn_status_string")
public func drsn_status_string(_ status: Int32) -> UnsafePointer<CChar> {
    UnsafePointer(statusCStrings[status] ?? unknownStatusCString)
}

@_cdecl("drsn_last_error")
public func drsn_last_error() -> UnsafePointer<CChar> { drsnsup_get_error() }
