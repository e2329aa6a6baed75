import XCTest
@testable import DRSNKernels
final class SmokeTests: XCTestCase { func testNothing() {} }
