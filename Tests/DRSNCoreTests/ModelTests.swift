@testable import DRSNCore
import XCTest

/// A fixture required by DRSN_REQUIRE_FIXTURES=1 is missing: the test fails.
struct MissingFixtures: Error, CustomStringConvertible {
    var path: String
    var description: String { "\(path) is missing, and DRSN_REQUIRE_FIXTURES=1 requires the shared fixtures" }
}

/// Loading real DRSN exports end to end (skipped when the shared fixtures are absent, failed
/// then when DRSN_REQUIRE_FIXTURES=1, which Tests/run.sh sets when ../shared/fixtures exists).
final class ModelTests: XCTestCase {
    static let fixtures = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures").path

    func testFixtureModelsLoadWithDynamicBatch() throws {
        let names = ["drsn_cw_1d", "drsn_cw_1d.legacy", "drsn_cw_2d", "drsn_cw_2d.legacy"]
        for name in names where !FileManager.default.fileExists(atPath: "\(Self.fixtures)/\(name).onnx") {
            if ProcessInfo.processInfo.environment["DRSN_REQUIRE_FIXTURES"] == "1" {
                throw MissingFixtures(path: "\(Self.fixtures)/\(name).onnx")
            }
            throw XCTSkip("no shared fixtures (\(Self.fixtures)/\(name).onnx)")
        }
        for name in names {
            let model = try Model.load(path: "\(Self.fixtures)/\(name).onnx")
            XCTAssertEqual(model.inputs.count, 1)
            XCTAssertEqual(model.inputs[0].dims?.first, -1, name)
            XCTAssertEqual(model.outputs[0].dims, [-1, 10], name)
            XCTAssertFalse(model.appliedPasses.isEmpty)
            let shape = [3] + model.inputs[0].dims!.dropFirst()
            let x = (0..<shape.reduce(1, *)).map { Float(($0 * 37) % 101) / 50 - 1 }
            let y = try model.run([x], shapes: [shape])[0]
            XCTAssertEqual(y.count, 30)
            XCTAssertTrue(y.allSatisfy(\.isFinite))
            // Batch rows are independent: row 0 of a batch-3 run equals a batch-1 run.
            let one = try model.run([Array(x[0..<(x.count / 3)])], shapes: [[1] + shape.dropFirst()])[0]
            assertClose(Array(y[0..<10]), one, tolerance: 1e-5)
        }
    }

    func testLoadErrors() {
        XCTAssertThrowsError(try Model.load(path: "/nonexistent/model.onnx")) { e in
            XCTAssertEqual((e as? DRSNError)?.status, .io)
            XCTAssertTrue("\(e)".contains("/nonexistent/model.onnx"))
        }
        let garbage: [UInt8] = [0x08, 0xff, 0xff, 0xff, 0x12, 0x99, 0x01]
        let result = garbage.withUnsafeBytes { raw in Result { () throws(DRSNError) -> Model in try Model.load(bytes: raw) } }
        XCTAssertThrowsError(try result.get()) { e in
            XCTAssertEqual((e as? DRSNError)?.status, .invalidModel, "\(e)")
        }
    }
}
