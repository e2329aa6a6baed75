import Foundation
import XCTest
import DRSNOnnx

/// Folder of the committed fixtures (made by Fixtures/make_fixtures.py).
let fixturesDirectory: String = {
    var path = "\(#filePath)"
    while let last = path.last, last != "/" { path.removeLast() }
    return path + "Fixtures"
}()

func fixtureBytes(_ name: String) throws -> [UInt8] {
    try OnnxReader.readFile(fixturesDirectory + "/" + name)
}

/// The shared fixture exports, ../shared/fixtures next to the repository, when they are
/// there. When they are not, the test is skipped, or fails when DRSN_REQUIRE_FIXTURES=1
/// (Tests/run.sh sets it when that folder exists, so missing files cannot go unnoticed).
func sharedFixturesDirectory(containing file: String) throws -> String {
    var root = fixturesDirectory
    // Tests/DRSNOnnxTests/Fixtures -> the repository root
    for _ in 0..<3 { root = String(root[..<(root.lastIndex(of: "/") ?? root.startIndex)]) }
    let dir = root + "/../shared/fixtures"
    if FileManager.default.fileExists(atPath: dir + "/" + file) { return dir }
    if ProcessInfo.processInfo.environment["DRSN_REQUIRE_FIXTURES"] == "1" {
        throw MissingFixtures(path: dir + "/" + file)
    }
    throw XCTSkip("shared fixtures not present (\(dir))")
}

/// A fixture required by DRSN_REQUIRE_FIXTURES=1 is missing: the test fails.
struct MissingFixtures: Error, CustomStringConvertible {
    var path: String
    var description: String { "\(path) is missing, and DRSN_REQUIRE_FIXTURES=1 requires the shared fixtures" }
}

final class FixtureTests: XCTestCase {
    private func loadTyped() throws -> GraphProto {
        let model = try decode(fixtureBytes("typed_tensors.onnx"))
        return try XCTUnwrap(model.graph)
    }

    func testTypedTensorsModelMetadata() throws {
        let model = try decode(fixtureBytes("typed_tensors.onnx"))
        XCTAssertEqual(model.irVersion, 8)
        XCTAssertEqual(model.producerName, "make_fixtures")
        XCTAssertEqual(model.producerVersion, "1.0")
        XCTAssertEqual(model.opsetImport.map(\.domain), ["", "ai.onnx.ml", "com.example"])
        XCTAssertEqual(model.opsetImport.map(\.version), [17, 3, 1])
        let graph = try XCTUnwrap(model.graph)
        XCTAssertEqual(graph.name, "typed")
        XCTAssertEqual(graph.nodes.map(\.opType), ["Add", "Gemm", "Custom", "If"])
        XCTAssertEqual(graph.nodes[1].inputs, ["a", "f_raw", ""])
        XCTAssertEqual(graph.nodes[2].domain, "com.example")
        XCTAssertEqual(graph.inputs.map(\.name), ["x", "cond"])
        XCTAssertEqual(graph.inputs[0].shape, [.param("batch"), .value(3)])
        XCTAssertEqual(graph.inputs[1].shape, [])
        XCTAssertEqual(graph.inputs[1].elemType, 9)
        XCTAssertNil(graph.outputs[0].shape)
        XCTAssertEqual(graph.valueInfo.first?.shape, [.value(2), .unknown])
    }

    func testTypedTensorsModelAttributes() throws {
        let graph = try loadTyped()
        let gemm = Dictionary(uniqueKeysWithValues: graph.nodes[1].attributes.map { ($0.name, $0) })
        XCTAssertEqual(gemm["alpha"]?.f, 0.5)
        XCTAssertEqual(gemm["alpha"]?.type, 1)
        XCTAssertEqual(gemm["transB"]?.i, 1)
        let custom = Dictionary(uniqueKeysWithValues: graph.nodes[2].attributes.map { ($0.name, $0) })
        XCTAssertEqual(custom["floats"]?.floats, [1, 2])
        XCTAssertEqual(custom["ints"]?.ints, [3, -4, 1 << 33])
        XCTAssertEqual(custom["strings"]?.strings, [Array("ab".utf8), Array("c".utf8)])
        XCTAssertEqual(custom["mode"]?.s, Array("reflect".utf8))
        XCTAssertEqual(custom["mode"]?.type, 3)
        XCTAssertEqual(try custom["value"]?.t?.decoded(externalDataDirectory: nil).ints, [5, 6])
        let ifNode = graph.nodes[3]
        XCTAssertEqual(ifNode.attributes.count, 2)
        XCTAssertTrue(ifNode.attributes.allSatisfy { $0.hasGraph && $0.type == 5 })
    }

    func testTypedAndRawTensorsAgree() throws {
        let graph = try loadTyped()
        var tensors: [String: DecodedTensor] = [:]
        for t in graph.initializers { tensors[t.name] = try t.decoded(externalDataDirectory: nil) }
        // onnx.helper puts typed values in the typed fields and raw ones in raw_data.
        let byName = Dictionary(uniqueKeysWithValues: graph.initializers.map { ($0.name, $0) })
        XCTAssertNil(byName["f_typed"]?.rawData)
        XCTAssertEqual(byName["f_typed"]?.floatData.count, 6)
        XCTAssertNotNil(byName["f_raw"]?.rawData)
        XCTAssertEqual(byName["h_typed"]?.int32Data, [15360, 49408, 31743, 1])

        XCTAssertEqual(tensors["f_typed"]?.floats, [1.5, -2, 3.25, 0, -0.5, 100])
        XCTAssertEqual(tensors["f_raw"]?.floats, tensors["f_typed"]?.floats)
        XCTAssertEqual(tensors["f_raw"]?.dims, [2, 3])
        XCTAssertEqual(tensors["i64_typed"]?.ints, [-1, 0, 1 << 40])
        XCTAssertEqual(tensors["i64_raw"]?.ints, tensors["i64_typed"]?.ints)
        XCTAssertEqual(tensors["i32_typed"]?.ints, [-7, 2_147_483_647])
        XCTAssertEqual(tensors["i32_raw"]?.ints, tensors["i32_typed"]?.ints)
        XCTAssertEqual(tensors["b_typed"]?.ints, [1, 0, 0, 1])
        XCTAssertEqual(tensors["b_raw"]?.ints, tensors["b_typed"]?.ints)
        XCTAssertEqual(tensors["d_typed"]?.floats, [0.25, -1e10])
        XCTAssertEqual(tensors["d_raw"]?.floats, tensors["d_typed"]?.floats)
        XCTAssertEqual(tensors["h_typed"]?.floats, [1, -2.5, 65504, 5.9604645e-8])
        XCTAssertEqual(tensors["h_raw"]?.floats, tensors["h_typed"]?.floats)
        XCTAssertEqual(tensors["i8_typed"]?.ints, [-128, 0, 127])
        XCTAssertEqual(tensors["u8_raw"]?.ints, [0, 128, 255])
        XCTAssertEqual(tensors["u64_typed"]?.ints, [0, 12_345_678_901_234])
        XCTAssertEqual(tensors["scalar"]?.floats, [42])
        XCTAssertEqual(tensors["scalar"]?.dims, [])
        XCTAssertEqual(tensors["empty"]?.floats, [])
    }

    // MARK: External data

    private func externalTensors() throws -> [String: TensorProto] {
        let graph = try XCTUnwrap(decode(fixtureBytes("external.onnx")).graph)
        return Dictionary(uniqueKeysWithValues: graph.initializers.map { ($0.name, $0) })
    }

    func testExternalDataGood() throws {
        let tensors = try externalTensors()
        let w = try XCTUnwrap(tensors["w"])
        XCTAssertEqual(w.dataLocation, 1)
        XCTAssertEqual(w.externalData.map(\.key), ["location", "offset", "length"])
        XCTAssertEqual(try w.decoded(externalDataDirectory: fixturesDirectory).floats, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try w.decoded(externalDataDirectory: fixturesDirectory + "/").floats, [1, 2, 3, 4, 5, 6])
        // No length: the size implied by dims.
        XCTAssertEqual(try tensors["ids"]?.decoded(externalDataDirectory: fixturesDirectory).ints, [-3, 7, 1 << 35])
    }

    func testExternalDataRejections() throws {
        let tensors = try externalTensors()
        let dir = fixturesDirectory
        assertOnnxError(try tensors["past_end"]?.decoded(externalDataDirectory: dir), kind: .malformed,
                        contains: "offset 48 length 16 lies outside")
        assertOnnxError(try tensors["escape"]?.decoded(externalDataDirectory: dir), kind: .malformed, contains: "'..'")
        assertOnnxError(try tensors["absolute"]?.decoded(externalDataDirectory: dir), kind: .malformed, contains: "absolute")
        assertOnnxError(try tensors["missing"]?.decoded(externalDataDirectory: dir), kind: .io, contains: "no_such_file.bin")
        assertOnnxError(try tensors["bad_length"]?.decoded(externalDataDirectory: dir), kind: .malformed,
                        contains: "tensor 'bad_length': expected 6 elements from dims [2, 3], found 5")
        assertOnnxError(try tensors["w"]?.decoded(externalDataDirectory: nil), kind: .unsupported, contains: "loaded from memory")
    }

    /// Symbolic links are resolved: a link (to a file, or a folder on the way) leading out of
    /// the model's folder is refused; one that stays inside is followed.
    func testExternalDataSymlinks() throws {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("drsn-ext-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: dir) }
        try fm.createSymbolicLink(atPath: dir + "/out.bin", withDestinationPath: fixturesDirectory + "/external.bin")
        try fm.createSymbolicLink(atPath: dir + "/outdir", withDestinationPath: fixturesDirectory)
        try fm.copyItem(atPath: fixturesDirectory + "/external.bin", toPath: dir + "/real.bin")
        try fm.createSymbolicLink(atPath: dir + "/alias.bin", withDestinationPath: "real.bin")
        func ext(_ location: String) -> TensorProto {
            TensorProto(name: "e", dims: [2], dataType: 1, dataLocation: 1,
                        externalData: [(key: "location", value: location), (key: "offset", value: "16")])
        }
        assertOnnxError(try ext("out.bin").decoded(externalDataDirectory: dir), kind: .malformed,
                        contains: "external data location 'out.bin' resolves to '")
        assertOnnxError(try ext("outdir/external.bin").decoded(externalDataDirectory: dir), kind: .malformed,
                        contains: "not inside the model's folder")
        assertOnnxError(try ext(".").decoded(externalDataDirectory: dir), kind: .io, contains: "directory")
        assertOnnxError(try ext("outdir").decoded(externalDataDirectory: dir), kind: .malformed, contains: "not inside")
        XCTAssertEqual(try ext("alias.bin").decoded(externalDataDirectory: dir).floats, [3, 4])
        XCTAssertEqual(try ext("./real.bin").decoded(externalDataDirectory: dir + "/").floats, [3, 4])
        // The folder itself may be reached through a link.
        try fm.createSymbolicLink(atPath: dir + "/self", withDestinationPath: dir)
        XCTAssertEqual(try ext("real.bin").decoded(externalDataDirectory: dir + "/self").floats, [3, 4])
    }

    func testExternalDataEdgeCases() throws {
        let dir = fixturesDirectory
        func ext(_ entries: [(String, String)], dims: [Int64] = [2], type: Int32 = 1) -> TensorProto {
            TensorProto(name: "e", dims: dims, dataType: type, dataLocation: 1,
                        externalData: entries.map { (key: $0.0, value: $0.1) })
        }
        // Good with explicit offset and length.
        XCTAssertEqual(try ext([("location", "external.bin"), ("offset", "16"), ("length", "8")]).decoded(externalDataDirectory: dir).floats, [3, 4])
        // Inner `..` and backslash-separated `..`.
        assertOnnxError(try ext([("location", "sub/../external.bin")]).decoded(externalDataDirectory: dir), kind: .malformed, contains: "'..'")
        assertOnnxError(try ext([("location", "..\\x.bin")]).decoded(externalDataDirectory: dir), kind: .malformed, contains: "'..'")
        // A `..` inside a name is not a component.
        assertOnnxError(try ext([("location", "a..b")]).decoded(externalDataDirectory: dir), kind: .io, contains: "a..b")
        assertOnnxError(try ext([("location", "\\abs")]).decoded(externalDataDirectory: dir), kind: .malformed, contains: "absolute")
        assertOnnxError(try ext([]).decoded(externalDataDirectory: dir), kind: .malformed, contains: "no 'location'")
        assertOnnxError(try ext([("location", "x\u{0}y")]).decoded(externalDataDirectory: dir), kind: .malformed, contains: "NUL")
        assertOnnxError(try ext([("location", "external.bin"), ("offset", "-8")]).decoded(externalDataDirectory: dir),
                        kind: .malformed, contains: "offset '-8'")
        assertOnnxError(try ext([("location", "external.bin"), ("offset", "")]).decoded(externalDataDirectory: dir),
                        kind: .malformed, contains: "offset is empty")
        assertOnnxError(try ext([("location", "external.bin"), ("offset", "99999999999999999999999")]).decoded(externalDataDirectory: dir),
                        kind: .malformed, contains: "too large")
        // offset + length overflows Int.
        assertOnnxError(try ext([("location", "external.bin"), ("offset", "\(Int.max)"), ("length", "8")]).decoded(externalDataDirectory: dir),
                        kind: .malformed, contains: "lies outside")
        // Length not a multiple of the element size.
        assertOnnxError(try ext([("location", "external.bin"), ("length", "7")]).decoded(externalDataDirectory: dir),
                        kind: .malformed, contains: "length 7 is not a multiple of the 4-byte")
        // Length disagreeing with dims.
        assertOnnxError(try ext([("location", "external.bin"), ("length", "12")]).decoded(externalDataDirectory: dir),
                        kind: .malformed, contains: "expected 2 elements from dims [2], found 3")
        // A directory as location.
        assertOnnxError(try ext([("location", ".")]).decoded(externalDataDirectory: dir), kind: .io, contains: "directory")
        // External STRING is still unsupported.
        assertOnnxError(try ext([("location", "external.bin")], type: 8).decoded(externalDataDirectory: dir), kind: .unsupported)
    }

    // MARK: readFile

    func testReadFile() throws {
        let bytes = try OnnxReader.readFile(fixturesDirectory + "/external.bin")
        XCTAssertEqual(bytes.count, 56)
        XCTAssertEqual(Array(bytes[0..<4]), Array("JUNK".utf8))
        assertOnnxError(try OnnxReader.readFile(fixturesDirectory), kind: .io, contains: "Is a directory")
        assertOnnxError(try OnnxReader.readFile(fixturesDirectory + "/nope.onnx"), kind: .io,
                        contains: "nope.onnx: No such file or directory")
        assertOnnxError(try OnnxReader.readFile(""), kind: .io)
        assertOnnxError(try OnnxReader.readFile("/dev/null"), kind: .io, contains: "not a regular file")
        var limits = OnnxLimits()
        limits.maxFileBytes = 55
        assertOnnxError(try OnnxReader.readFile(fixturesDirectory + "/external.bin", limits: limits), kind: .limitExceeded,
                        contains: "56 bytes exceeds maxFileBytes 55")
    }

    func testReadEmptyAndLargerFiles() throws {
        let dir = NSTemporaryDirectory() + "drsn-onnx-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = FileManager.default.createFile(atPath: dir + "/empty", contents: Data())
        XCTAssertEqual(try OnnxReader.readFile(dir + "/empty"), [])
        let big = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        _ = FileManager.default.createFile(atPath: dir + "/big", contents: Data(big))
        XCTAssertEqual(try OnnxReader.readFile(dir + "/big"), big)
    }

    // MARK: Real exports (optional)

    func testSharedFixtureExports() throws {
        let dir = try sharedFixturesDirectory(containing: "drsn_cw_1d.onnx")
        let expected = ["drsn_cw_1d": 202, "drsn_cw_1d.legacy": 230, "drsn_cw_2d": 181, "drsn_cw_2d.legacy": 247]
        for (name, nodeCount) in expected.sorted(by: { $0.key < $1.key }) {
            let bytes = try OnnxReader.readFile("\(dir)/\(name).onnx")
            let model = try decode(bytes)
            let graph = try XCTUnwrap(model.graph, name)
            XCTAssertEqual(graph.nodes.count, nodeCount, name)
            XCTAssertTrue(model.opsetImport.contains { ($0.domain == "" || $0.domain == "ai.onnx") && $0.version == 17 }, name)
            XCTAssertEqual(graph.inputs.first?.name, "input", name)
            XCTAssertEqual(graph.inputs.first?.elemType, 1, name)
            if case .param = graph.inputs.first?.shape?.first {} else {
                XCTFail("\(name): dynamic batch expected, got \(String(describing: graph.inputs.first?.shape))")
            }
            for tensor in graph.initializers {
                let decoded = try tensor.decoded(externalDataDirectory: dir)
                XCTAssertEqual((decoded.floats?.count ?? decoded.ints?.count), decoded.dims.reduce(1, *), "\(name): \(tensor.name)")
            }
            for node in graph.nodes {
                for attr in node.attributes {
                    if let t = attr.t { _ = try t.decoded(externalDataDirectory: dir) }
                }
            }
        }
    }
}
