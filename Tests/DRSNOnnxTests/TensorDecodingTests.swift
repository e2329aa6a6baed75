import XCTest
import DRSNOnnx

final class TensorDecodingTests: XCTestCase {
    private func rawBytes<T>(_ values: [T]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    func testFloatTypedAndRaw() throws {
        let values: [Float] = [1.5, -2, .infinity, 0]
        let typed = TensorProto(name: "t", dims: [2, 2], dataType: 1, floatData: values)
        let raw = TensorProto(name: "r", dims: [2, 2], dataType: 1, rawData: rawBytes(values))
        XCTAssertEqual(try typed.decoded(externalDataDirectory: nil).floats, values)
        let decoded = try raw.decoded(externalDataDirectory: nil)
        XCTAssertEqual(decoded.floats, values)
        XCTAssertEqual(decoded.dims, [2, 2])
        XCTAssertEqual(decoded.dataType, 1)
        XCTAssertNil(decoded.ints)
    }

    func testRawTakesPrecedenceOverTypedFields() throws {
        let t = TensorProto(dims: [1], dataType: 1, floatData: [9], rawData: rawBytes([Float(3)]))
        XCTAssertEqual(try t.decoded(externalDataDirectory: nil).floats, [3])
        // Present-but-empty raw_data is the source too (and then has too few elements).
        let empty = TensorProto(name: "e", dims: [1], dataType: 1, floatData: [9], rawData: [])
        assertOnnxError(try empty.decoded(externalDataDirectory: nil), kind: .malformed,
                        contains: "expected 1 elements from dims [1], found 0")
    }

    func testIntegerTypes() throws {
        func ints(_ t: TensorProto) throws -> [Int64]? { try t.decoded(externalDataDirectory: nil).ints }
        XCTAssertEqual(try ints(TensorProto(dims: [3], dataType: 7, int64Data: [-1, 0, .max])), [-1, 0, .max])
        XCTAssertEqual(try ints(TensorProto(dims: [3], dataType: 7, rawData: rawBytes([Int64(-1), 0, .max]))), [-1, 0, .max])
        XCTAssertEqual(try ints(TensorProto(dims: [2], dataType: 6, int32Data: [-7, .max])), [-7, Int64(Int32.max)])
        XCTAssertEqual(try ints(TensorProto(dims: [2], dataType: 6, rawData: rawBytes([Int32(-7), .max]))), [-7, Int64(Int32.max)])
        // BOOL: int32_data or one byte each; nonzero is 1.
        XCTAssertEqual(try ints(TensorProto(dims: [3], dataType: 9, int32Data: [1, 0, 5])), [1, 0, 1])
        XCTAssertEqual(try ints(TensorProto(dims: [3], dataType: 9, rawData: [1, 0, 2])), [1, 0, 1])
        // INT8/UINT8/INT16/UINT16 from int32_data are narrowed to their type.
        XCTAssertEqual(try ints(TensorProto(dims: [3], dataType: 3, int32Data: [-128, 127, 255])), [-128, 127, -1])
        XCTAssertEqual(try ints(TensorProto(dims: [2], dataType: 3, rawData: [0x80, 0x7F])), [-128, 127])
        XCTAssertEqual(try ints(TensorProto(dims: [2], dataType: 2, int32Data: [255, -1])), [255, 255])
        XCTAssertEqual(try ints(TensorProto(dims: [2], dataType: 2, rawData: [255, 0])), [255, 0])
        XCTAssertEqual(try ints(TensorProto(dims: [2], dataType: 5, rawData: rawBytes([Int16(-300), 300]))), [-300, 300])
        XCTAssertEqual(try ints(TensorProto(dims: [1], dataType: 4, int32Data: [65535])), [65535])
        XCTAssertEqual(try ints(TensorProto(dims: [1], dataType: 4, rawData: rawBytes([UInt16(65535)]))), [65535])
        // UINT32/UINT64 use uint64_data.
        XCTAssertEqual(try ints(TensorProto(dims: [1], dataType: 12, uint64Data: [4_000_000_000])), [4_000_000_000])
        XCTAssertEqual(try ints(TensorProto(dims: [1], dataType: 12, rawData: rawBytes([UInt32(4_000_000_000)]))), [4_000_000_000])
        XCTAssertEqual(try ints(TensorProto(dims: [1], dataType: 13, uint64Data: [12])), [12])
        XCTAssertEqual(try ints(TensorProto(dims: [1], dataType: 13, rawData: rawBytes([UInt64(12)]))), [12])
        assertOnnxError(try ints(TensorProto(name: "u", dims: [1], dataType: 13, uint64Data: [.max])),
                        kind: .unsupported, contains: "exceeds Int64.max")
        assertOnnxError(try ints(TensorProto(dims: [1], dataType: 13, rawData: rawBytes([UInt64.max]))),
                        kind: .unsupported, contains: "exceeds Int64.max")
    }

    func testDoubleFloat16BFloat16() throws {
        func floats(_ t: TensorProto) throws -> [Float]? { try t.decoded(externalDataDirectory: nil).floats }
        XCTAssertEqual(try floats(TensorProto(dims: [2], dataType: 11, doubleData: [0.25, -1e10])), [0.25, -1e10])
        XCTAssertEqual(try floats(TensorProto(dims: [2], dataType: 11, rawData: rawBytes([0.25, -1e10]))), [0.25, -1e10])
        // FLOAT16 bit patterns: 1.0, -2.5, 65504 (max), smallest subnormal, -0, inf.
        let halfBits: [UInt16] = [0x3C00, 0xC100, 0x7BFF, 0x0001, 0x8000, 0x7C00]
        let expected: [Float] = [1, -2.5, 65504, 5.9604645e-8, -0.0, .infinity]
        XCTAssertEqual(try floats(TensorProto(dims: [6], dataType: 10, int32Data: halfBits.map { Int32($0) })), expected)
        XCTAssertEqual(try floats(TensorProto(dims: [6], dataType: 10, rawData: rawBytes(halfBits))), expected)
        let nan = try XCTUnwrap(floats(TensorProto(dims: [1], dataType: 10, rawData: rawBytes([UInt16(0x7E00)]))))
        XCTAssertTrue(nan[0].isNaN)
        // Largest subnormal 0x03FF = 1023 * 2^-24; smallest normal 0x0400 = 2^-14.
        XCTAssertEqual(try floats(TensorProto(dims: [2], dataType: 10, rawData: rawBytes([UInt16(0x03FF), 0x0400]))),
                       [1023.0 / 16_777_216.0, 1.0 / 16384.0])
        // BFLOAT16: upper half of a float.
        let bf: [UInt16] = [0x3F80, 0xC020]
        XCTAssertEqual(try floats(TensorProto(dims: [2], dataType: 16, rawData: rawBytes(bf))), [1, -2.5])
        XCTAssertEqual(try floats(TensorProto(dims: [2], dataType: 16, int32Data: bf.map { Int32($0) })), [1, -2.5])
    }

    func testScalarsAndEmpty() throws {
        XCTAssertEqual(try TensorProto(dims: [], dataType: 1, floatData: [42]).decoded(externalDataDirectory: nil).floats, [42])
        let empty = try TensorProto(dims: [0, 3], dataType: 1).decoded(externalDataDirectory: nil)
        XCTAssertEqual(empty.floats, [])
        XCTAssertEqual(empty.dims, [0, 3])
        XCTAssertEqual(try TensorProto(dims: [0], dataType: 7, rawData: []).decoded(externalDataDirectory: nil).ints, [])
    }

    func testCountMismatchMessage() {
        let t = TensorProto(name: "w", dims: [2, 3], dataType: 1, floatData: [1, 2, 3, 4, 5])
        assertOnnxError(try t.decoded(externalDataDirectory: nil), kind: .malformed,
                        contains: "tensor 'w': expected 6 elements from dims [2, 3], found 5")
        let r = TensorProto(name: "r", dims: [2], dataType: 7, rawData: rawBytes([Int64(1), 2, 3]))
        assertOnnxError(try r.decoded(externalDataDirectory: nil), kind: .malformed,
                        contains: "expected 2 elements from dims [2], found 3")
        let odd = TensorProto(name: "odd", dims: [2], dataType: 1, rawData: [0, 0, 0, 0, 0, 0, 0])
        assertOnnxError(try odd.decoded(externalDataDirectory: nil), kind: .malformed, contains: "not a multiple of the 4-byte")
        // Data in the wrong typed field does not count.
        let wrongField = TensorProto(name: "x", dims: [1], dataType: 7, int32Data: [1])
        assertOnnxError(try wrongField.decoded(externalDataDirectory: nil), kind: .malformed, contains: "found 0")
    }

    func testRejectedTensors() {
        assertOnnxError(try TensorProto(name: "n", dims: [-1], dataType: 1).decoded(externalDataDirectory: nil),
                        kind: .malformed, contains: "negative dim -1")
        assertOnnxError(try TensorProto(name: "s", dims: [1], dataType: 8).decoded(externalDataDirectory: nil),
                        kind: .unsupported, contains: "STRING (8)")
        assertOnnxError(try TensorProto(dims: [1], dataType: 99, rawData: [0]).decoded(externalDataDirectory: nil),
                        kind: .unsupported, contains: "unknown data type 99")
        assertOnnxError(try TensorProto(dims: [1], dataType: 0).decoded(externalDataDirectory: nil),
                        kind: .unsupported, contains: "UNDEFINED (0)")
        assertOnnxError(try TensorProto(dims: [2], dataType: 22, rawData: [0]).decoded(externalDataDirectory: nil),
                        kind: .unsupported, contains: "INT4 (22)")
        assertOnnxError(try TensorProto(dims: [1], dataType: 14, floatData: [1, 2]).decoded(externalDataDirectory: nil),
                        kind: .unsupported, contains: "COMPLEX64")
        assertOnnxError(try TensorProto(dims: [1], dataType: 1, floatData: [1], dataLocation: 2).decoded(externalDataDirectory: nil),
                        kind: .malformed, contains: "data_location 2")
    }

    func testTensorLimits() {
        var limits = OnnxLimits()
        limits.maxTensorElements = 10
        assertOnnxError(try TensorProto(dims: [11], dataType: 1).decoded(externalDataDirectory: nil, limits: limits),
                        kind: .limitExceeded, contains: "maxTensorElements 10")
        assertOnnxError(try TensorProto(dims: [.max, .max], dataType: 1).decoded(externalDataDirectory: nil),
                        kind: .limitExceeded)
        limits.maxRank = 1
        assertOnnxError(try TensorProto(dims: [1, 1], dataType: 1).decoded(externalDataDirectory: nil, limits: limits),
                        kind: .limitExceeded, contains: "maxRank 1")
    }
}
