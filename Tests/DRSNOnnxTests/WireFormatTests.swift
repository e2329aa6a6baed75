import XCTest
import DRSNOnnx

/// Asserts that `body` throws an OnnxError of `kind` whose message contains `contains`.
func assertOnnxError<T>(_ body: @autoclosure () throws -> T, kind: OnnxError.Kind, contains: String? = nil,
                        file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected OnnxError(\(kind)), got a value", file: file, line: line)
    } catch let error as OnnxError {
        XCTAssertEqual(error.kind, kind, "message: \(error.message)", file: file, line: line)
        if let contains {
            XCTAssertTrue(error.message.contains(contains), "'\(error.message)' lacks '\(contains)'", file: file, line: line)
        }
    } catch {
        XCTFail("unexpected error type \(error)", file: file, line: line)
    }
}

/// Varints, tags, wire types and skipping, exercised through decodeModel.
final class WireFormatTests: XCTestCase {
    private func irVersion(varint bytes: [UInt8]) throws -> Int64 {
        try decode([0x08] + bytes).irVersion
    }

    func testVarintEdgeCases() throws {
        XCTAssertEqual(try irVersion(varint: [0x00]), 0)
        XCTAssertEqual(try irVersion(varint: [0x01]), 1)
        XCTAssertEqual(try irVersion(varint: [0x7F]), 127)
        XCTAssertEqual(try irVersion(varint: [0x80, 0x01]), 128)
        XCTAssertEqual(try irVersion(varint: [0xAC, 0x02]), 300)
        // Non-minimal encodings are valid protobuf.
        XCTAssertEqual(try irVersion(varint: [0x80, 0x80, 0x00]), 0)
        // Int64.max: 9 bytes; -1 and Int64.min: 10 bytes.
        XCTAssertEqual(try irVersion(varint: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]), Int64.max)
        XCTAssertEqual(try irVersion(varint: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]), -1)
        XCTAssertEqual(try irVersion(varint: [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), Int64.min)
        // 10th byte above 1 overflows 64 bits.
        assertOnnxError(try irVersion(varint: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02]),
                        kind: .malformed, contains: "overflows 64 bits")
        // 11 bytes.
        assertOnnxError(try irVersion(varint: [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
                        kind: .malformed)
        // Truncated.
        assertOnnxError(try irVersion(varint: []), kind: .malformed, contains: "truncated varint")
        assertOnnxError(try irVersion(varint: [0x80]), kind: .malformed, contains: "truncated varint")
        assertOnnxError(try irVersion(varint: [0xFF, 0xFF, 0xFF]), kind: .malformed, contains: "byte offset 1")
    }

    func testEmptyInputIsEmptyModel() throws {
        let model = try decode([])
        XCTAssertNil(model.graph)
        XCTAssertEqual(model.irVersion, 0)
        XCTAssertTrue(model.opsetImport.isEmpty)
    }

    func testNegativeInt32FieldIsSignExtended() throws {
        var w = ProtoWriter()
        w.message(7) { g in g.message(5) { t in t.int(2, -1); t.string(8, "neg") } }
        let tensor = try XCTUnwrap(decode(w.bytes).graph?.initializers.first)
        XCTAssertEqual(tensor.dataType, -1)
        XCTAssertEqual(tensor.name, "neg")
    }

    func testInvalidTags() {
        assertOnnxError(try decode([0x00]), kind: .malformed, contains: "field number 0")
        assertOnnxError(try decode([0x0E]), kind: .malformed, contains: "invalid wire type 6")
        assertOnnxError(try decode([0x0F]), kind: .malformed, contains: "invalid wire type 7")
        // Key above 32 bits.
        assertOnnxError(try decode([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), kind: .malformed, contains: "32 bits")
        // Stray end-group.
        assertOnnxError(try decode([0x7C]), kind: .malformed, contains: "end-group")
    }

    func testWrongWireTypeForKnownField() {
        // ir_version as length-delimited.
        assertOnnxError(try decode([0x0A, 0x00]), kind: .malformed, contains: "ir_version")
        // graph as varint.
        assertOnnxError(try decode([0x38, 0x01]), kind: .malformed, contains: "graph")
    }

    func testUnknownFieldsOfEveryWireTypeAreSkipped() throws {
        var w = ProtoWriter()
        w.int(1, 9)
        w.int(999, 5)                          // unknown varint
        w.fixed64(1000, 0xDEAD_BEEF)           // unknown fixed64
        w.fixed32(1001, 7)                     // unknown fixed32
        w.string(6, "doc string")              // doc_string: known to onnx, skipped here
        w.message(14) { e in e.string(1, "k"); e.string(2, "v") }  // metadata_props
        w.tag(1002, ProtoWriter.startGroup)    // unknown group with nested group and fields
        w.int(1, 1)
        w.tag(5, ProtoWriter.startGroup)
        w.fixed32(2, 3)
        w.tag(5, ProtoWriter.endGroup)
        w.string(3, "inside group")
        w.tag(1002, ProtoWriter.endGroup)
        w.message(7) { g in
            g.int(50, 1)
            Onnx.smallGraph(&g)
            g.string(10, "graph doc")
        }
        w.int(0x1FFF_FFFF, 1)                  // largest valid field number
        let model = try decode(w.bytes)
        XCTAssertEqual(model.irVersion, 9)
        XCTAssertEqual(model.graph?.nodes.count, 2)
    }

    func testUnclosedAndMismatchedGroups() {
        var w = ProtoWriter()
        w.tag(100, ProtoWriter.startGroup)
        w.int(1, 1)
        assertOnnxError(try decode(w.bytes), kind: .malformed, contains: "not closed")
        w.tag(101, ProtoWriter.endGroup)
        assertOnnxError(try decode(w.bytes), kind: .malformed, contains: "closes group 100")
    }

    func testHugeDeclaredLengths() {
        // graph with length UInt64.max, 2^62, 2^31, and one byte more than remains.
        for length: UInt64 in [UInt64.max, 1 << 62, 1 << 31, 3] {
            var w = ProtoWriter()
            w.tag(7, ProtoWriter.lengthDelimited)
            w.rawVarint(length)
            w.bytes += [0x12, 0x00]
            assertOnnxError(try decode(w.bytes), kind: .malformed, contains: "exceeds the")
        }
        // raw_data nested inside: length larger than its parent.
        var w = ProtoWriter()
        w.message(7) { g in
            g.message(5) { t in
                t.tag(9, ProtoWriter.lengthDelimited)
                t.rawVarint(1 << 40)
            }
        }
        assertOnnxError(try decode(w.bytes), kind: .malformed, contains: "raw_data")
        // Packed field with a length that is not a multiple of 4.
        var p = ProtoWriter()
        p.message(7) { g in g.message(5) { t in t.bytesField(4, [0, 0, 0, 0, 0]) } }
        assertOnnxError(try decode(p.bytes), kind: .malformed, contains: "not a multiple of 4")
    }

    func testPackedAndUnpackedRepeatedScalars() throws {
        var w = ProtoWriter()
        w.message(7) { g in
            g.message(5) { t in
                // dims: one packed run then one unpacked value.
                t.packedInts(1, [2])
                t.int(1, 3)
                t.int(2, 1)
                // float_data: unpacked, packed, unpacked.
                t.float(4, 1)
                t.packedFloats(4, [2, 3, 4])
                t.float(4, 5)
                t.float(4, 6)
            }
            g.message(5) { t in
                t.int(1, 4)
                t.int(2, 7)
                t.int(7, -1)                       // unpacked int64
                t.packedInts(7, [Int64.min, Int64.max])
                t.int(7, 0)
                t.int(5, -5)                       // int32_data unpacked
                t.packedVarints(11, [UInt64.max])  // uint64 packed
                t.fixed64(10, (2.5).bitPattern)    // double unpacked
                t.packedDoubles(10, [-1, 1e300])
            }
            g.message(1) { n in
                n.string(4, "Op")
                n.message(5) { a in
                    a.string(1, "ints")
                    a.int(8, 1)
                    a.packedInts(8, [-2, 3])
                    a.float(7, 0.5)
                    a.packedFloats(7, [1.5])
                    a.bytesField(9, [0x61])
                    a.bytesField(9, [0xFF, 0xFE])
                }
            }
        }
        let graph = try XCTUnwrap(decode(w.bytes).graph)
        XCTAssertEqual(graph.initializers[0].dims, [2, 3])
        XCTAssertEqual(graph.initializers[0].floatData, [1, 2, 3, 4, 5, 6])
        let t1 = graph.initializers[1]
        XCTAssertEqual(t1.int64Data, [-1, Int64.min, Int64.max, 0])
        XCTAssertEqual(t1.int32Data, [-5])
        XCTAssertEqual(t1.uint64Data, [UInt64.max])
        XCTAssertEqual(t1.doubleData, [2.5, -1, 1e300])
        let attr = graph.nodes[0].attributes[0]
        XCTAssertEqual(attr.ints, [1, -2, 3])
        XCTAssertEqual(attr.floats, [0.5, 1.5])
        XCTAssertEqual(attr.strings, [[0x61], [0xFF, 0xFE]])
    }

    func testPackedFieldWithTruncatedVarintInside() {
        var w = ProtoWriter()
        w.message(7) { g in g.message(5) { t in t.bytesField(7, [0x01, 0x80]) } }
        assertOnnxError(try decode(w.bytes), kind: .malformed, contains: "truncated varint")
    }

    func testInvalidUTF8IsRepaired() throws {
        var w = ProtoWriter()
        w.bytesField(2, [0x61, 0xFF, 0xC3, 0x62])  // "a", invalid, truncated 2-byte sequence, "b"
        let model = try decode(w.bytes)
        XCTAssertTrue(model.producerName.hasPrefix("a"))
        XCTAssertTrue(model.producerName.hasSuffix("b"))
        XCTAssertTrue(model.producerName.contains("\u{FFFD}"))
    }
}
