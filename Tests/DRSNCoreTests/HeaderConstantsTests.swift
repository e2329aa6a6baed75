import CDRSNSupport
@testable import DRSNCore
import XCTest

/// The Swift enums that mirror enums of include/drsn.h keep the header's numbers. Swift raw
/// values must be literals, so they cannot be read from the header; this test reads the
/// header's constants (imported through Sources/CDRSNSupport/include/drsn_abi.h) and checks
/// every case. The C API itself maps to the header's constants (Sources/DRSNCAPI/Errors.swift,
/// OptionsAPI.swift); Tests/python/test_header_constants.py checks the Python binding and the
/// built library against the header text.
final class HeaderConstantsTests: XCTestCase {
    func testStatusRawValuesAreTheHeaders() {
        for status in [Status.ok, .invalidArgument, .io, .invalidModel, .unsupported, .shapeMismatch, .dtypeMismatch,
                       .bufferTooSmall, .outOfMemory, .limitExceeded, .internalError] {
            let header: drsn_status
            switch status {  // exhaustive: a new case fails to compile until it is mapped here
            case .ok: header = DRSN_OK
            case .invalidArgument: header = DRSN_ERR_INVALID_ARGUMENT
            case .io: header = DRSN_ERR_IO
            case .invalidModel: header = DRSN_ERR_INVALID_MODEL
            case .unsupported: header = DRSN_ERR_UNSUPPORTED
            case .shapeMismatch: header = DRSN_ERR_SHAPE_MISMATCH
            case .dtypeMismatch: header = DRSN_ERR_DTYPE_MISMATCH
            case .bufferTooSmall: header = DRSN_ERR_BUFFER_TOO_SMALL
            case .outOfMemory: header = DRSN_ERR_OUT_OF_MEMORY
            case .limitExceeded: header = DRSN_ERR_LIMIT_EXCEEDED
            case .internalError: header = DRSN_ERR_INTERNAL
            }
            XCTAssertEqual(Int64(status.rawValue), Int64(header.rawValue), "\(status)")
        }
    }

    func testDTypeRawValuesAreTheHeaders() {
        // drsn_dtype lists the types the API reports; DType has more (ONNX's numbering throughout).
        let header: [(drsn_dtype, DType)] = [
            (DRSN_DTYPE_UNDEFINED, .undefined), (DRSN_DTYPE_FLOAT32, .float32), (DRSN_DTYPE_UINT8, .uint8),
            (DRSN_DTYPE_INT8, .int8), (DRSN_DTYPE_INT32, .int32), (DRSN_DTYPE_INT64, .int64), (DRSN_DTYPE_BOOL, .bool),
            (DRSN_DTYPE_FLOAT16, .float16), (DRSN_DTYPE_FLOAT64, .float64),
        ]
        for (code, dtype) in header {
            XCTAssertEqual(Int64(dtype.rawValue), Int64(code.rawValue), "\(dtype)")
        }
    }

    func testLimitRawValuesAreTheHeaders() {
        for limit in [Limit.maxFileBytes, .maxTensorElements, .maxTotalTensorBytes, .maxNodes, .maxRank, .maxValueElements,
                      .maxArenaBytes] {
            let header: drsn_limit
            switch limit {  // exhaustive
            case .maxFileBytes: header = DRSN_LIMIT_MAX_FILE_BYTES
            case .maxTensorElements: header = DRSN_LIMIT_MAX_TENSOR_ELEMENTS
            case .maxTotalTensorBytes: header = DRSN_LIMIT_MAX_TOTAL_TENSOR_BYTES
            case .maxNodes: header = DRSN_LIMIT_MAX_NODES
            case .maxRank: header = DRSN_LIMIT_MAX_RANK
            case .maxValueElements: header = DRSN_LIMIT_MAX_VALUE_ELEMENTS
            case .maxArenaBytes: header = DRSN_LIMIT_MAX_ARENA_BYTES
            }
            XCTAssertEqual(Int64(limit.rawValue), Int64(header.rawValue), "\(limit)")
        }
    }

    func testHeaderVersionMacrosAgree() {
        XCTAssertEqual(DRSN_VERSION_STRING, "\(DRSN_VERSION_MAJOR).\(DRSN_VERSION_MINOR).\(DRSN_VERSION_PATCH)")
    }

    func testCoreConstantsComeFromTheHeader() throws {
        // Swift's macro import can get a value wrong (it drops casts and evaluates `(int64_t)1
        // << 31` in 32 bits), so the imported value is compared with the header's text.
        let header = try String(contentsOf: repositoryRoot.appendingPathComponent("include/drsn.h"), encoding: .utf8)
        let line = try XCTUnwrap(header.split(separator: "\n").first { $0.hasPrefix("#define DRSN_MAX_DIMENSION ") })
        XCTAssertEqual(String(HeaderConstants.maxDimension), line.split(separator: " ").last.map(String.init))
        XCTAssertEqual(String(HeaderConstants.defaultWindowBatch),
                       header.split(separator: "\n").first { $0.hasPrefix("#define DRSN_WINDOW_BATCH_DEFAULT ") }?
                           .split(separator: " ").last.map(String.init))
        XCTAssertEqual(SlidingWindow(window: 8, hop: 4).batchSize, HeaderConstants.defaultWindowBatch)
        XCTAssertEqual(HeaderConstants.defaultWindowBatch, Int(DRSN_WINDOW_BATCH_DEFAULT))
        let define = { (name: String) in
            header.split(separator: "\n").first { $0.hasPrefix("#define \(name) ") }?.split(separator: " ").last.map(String.init)
        }
        XCTAssertEqual(define("DRSN_ZSCORE_EPSILON_DEFAULT").map { $0.hasSuffix("f") ? String($0.dropLast()) : $0 }
                           .flatMap(Float.init), HeaderConstants.defaultZScoreEpsilon)
        XCTAssertEqual(define("DRSN_MAX_THREADS").flatMap(Int.init), Options.maxThreads)
        guard case .zScore(let epsilon) = SlidingWindow(window: 8, hop: 4).normalization else {
            return XCTFail("the default normalisation is not z-score")
        }
        XCTAssertEqual(epsilon, HeaderConstants.defaultZScoreEpsilon)
    }
}
