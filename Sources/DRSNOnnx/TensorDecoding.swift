/// Tensor contents decoded to a neutral form: exactly one of `floats` and `ints` is set.
public struct DecodedTensor: Sendable {
    public var dims: [Int]
    public var dataType: Int32
    /// FLOAT, DOUBLE (narrowed to Float), FLOAT16 and BFLOAT16 (widened exactly).
    public var floats: [Float]?
    /// INT8/16/32/64, UINT8/16/32/64 (UINT64 above Int64.max is rejected), BOOL (0 or 1).
    public var ints: [Int64]?

    public init(dims: [Int], dataType: Int32, floats: [Float]? = nil, ints: [Int64]? = nil) {
        self.dims = dims
        self.dataType = dataType
        self.floats = floats
        self.ints = ints
    }
}

/// `TensorProto.DataType` facts shared by the decoder and `decoded()`; `name` is public,
/// for messages about element types elsewhere.
public enum TensorLayout {
    static let float: Int32 = 1, uint8: Int32 = 2, int8: Int32 = 3, uint16: Int32 = 4, int16: Int32 = 5
    static let int32: Int32 = 6, int64: Int32 = 7, string: Int32 = 8, bool: Int32 = 9, float16: Int32 = 10
    static let double: Int32 = 11, uint32: Int32 = 12, uint64: Int32 = 13, bfloat16: Int32 = 16

    static let names = [
        "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING", "BOOL",
        "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN",
        "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1", "FLOAT8E8M0",
        "UINT2", "INT2", "FLOAT6E2M3", "FLOAT6E3M2",
    ]

    /// "FLOAT (1)", or "unknown data type 99".
    public static func name(_ type: Int32) -> String {
        if type >= 0 && Int(type) < names.count { return "\(names[Int(type)]) (\(type))" }
        return "unknown data type \(type)"
    }

    /// Bytes per element for whole-byte types; nil for STRING, sub-byte and unknown types.
    static func elementSize(_ type: Int32) -> Int? {
        switch type {
        case 2, 3, 9, 17, 18, 19, 20, 24: return 1
        case 4, 5, 10, 16: return 2
        case 1, 6, 12: return 4
        case 7, 11, 13, 14: return 8
        case 15: return 16
        default: return nil
        }
    }

    /// Whether `decoded()` converts this type.
    static func isSupported(_ type: Int32) -> Bool {
        switch type {
        case float, uint8, int8, uint16, int16, int32, int64, bool, float16, double, uint32, uint64, bfloat16: return true
        default: return false
        }
    }

    /// Product of `dims`, overflow-checked. Negative dims are `.malformed`; more than
    /// `maxRank` dims, or a product above `maxTensorElements`, is `.limitExceeded`.
    static func elementCount(dims: [Int64], tensorName: String, limits: OnnxLimits) throws(OnnxError) -> Int {
        guard dims.count <= limits.maxRank else {
            throw OnnxError(.limitExceeded, "tensor '\(tensorName)': rank \(dims.count) exceeds maxRank \(limits.maxRank)")
        }
        var count = 1
        for dim in dims {
            guard dim >= 0 else {
                throw OnnxError(.malformed, "tensor '\(tensorName)': negative dim \(dim) in dims \(dimsText(dims))")
            }
            guard dim <= Int64(Int.max) else {
                throw OnnxError(.limitExceeded, "tensor '\(tensorName)': dims \(dimsText(dims)) imply more than maxTensorElements \(limits.maxTensorElements) elements")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(dim))
            guard !overflow else {
                throw OnnxError(.limitExceeded, "tensor '\(tensorName)': dims \(dimsText(dims)) imply more than maxTensorElements \(limits.maxTensorElements) elements")
            }
            count = product
        }
        // Checked after the loop: a zero dim makes the tensor empty whatever follows.
        guard count <= limits.maxTensorElements else {
            throw OnnxError(.limitExceeded, "tensor '\(tensorName)': dims \(dimsText(dims)) imply \(count) elements, more than maxTensorElements \(limits.maxTensorElements)")
        }
        return count
    }

    static func dimsText(_ dims: [Int64]) -> String {
        "[" + dims.map { String($0) }.joined(separator: ", ") + "]"
    }

    /// IEEE 754 binary16 bits to Float (exact, including subnormals, infinities, NaN).
    static func halfToFloat(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x03FF)
        if exponent == 0 {
            // Zero or subnormal: mantissa * 2^-24.
            let magnitude = Float(mantissa) * (1.0 / 16_777_216.0)
            return sign != 0 ? -magnitude : magnitude
        }
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }

    static func bfloat16ToFloat(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }
}

extension TensorProto {
    /// Decodes the tensor's values.
    ///
    /// Source, in order of precedence: external data when `dataLocation == 1`; else
    /// `rawData` when present (little-endian, densely packed); else the typed field that
    /// onnx.proto assigns to `dataType` (`float_data`; `int32_data` for INT32, INT8, INT16,
    /// UINT8, UINT16, BOOL and FLOAT16/BFLOAT16 bit patterns; `int64_data`; `double_data`;
    /// `uint64_data` for UINT32/UINT64). Typed values are narrowed to the declared type
    /// (e.g. INT8 keeps the low 8 bits, BOOL maps nonzero to 1), so typed and raw encodings
    /// of the same tensor decode alike.
    ///
    /// External data: entries `location` (required, relative, no `..` component, no NUL),
    /// `offset` (decimal, default 0) and `length` (decimal, default: the size implied by
    /// dims), resolved against `externalDataDirectory` (nil means the model came from
    /// memory: `.unsupported`). The file, symbolic links resolved, must lie inside that
    /// folder (`ExternalDataPath`; `.malformed` naming where it leads). The range must lie
    /// inside the file (`.malformed`).
    ///
    /// Errors: count mismatch (`.malformed`, "tensor 'NAME': expected N elements from dims
    /// [..], found M"); negative dims (`.malformed`); STRING, sub-byte, FLOAT8, complex and
    /// unknown types (`.unsupported`, naming the type); rank, element count, or external
    /// length beyond `limits` (`.limitExceeded`); file errors (`.io`).
    public func decoded(externalDataDirectory: String?, limits: OnnxLimits = OnnxLimits()) throws(OnnxError) -> DecodedTensor {
        let count = try TensorLayout.elementCount(dims: dims, tensorName: name, limits: limits)
        guard TensorLayout.isSupported(dataType), let elementSize = TensorLayout.elementSize(dataType) else {
            throw OnnxError(.unsupported, "tensor '\(name)': data type \(TensorLayout.name(dataType)) is not supported")
        }
        var result = DecodedTensor(dims: dims.map { Int($0) }, dataType: dataType)
        switch dataLocation {
        case 0:
            if let rawData {
                try withBytes(rawData) { (raw) throws(OnnxError) in
                    try decodeRaw(raw, count: count, elementSize: elementSize, source: "raw_data", into: &result)
                }
            } else {
                try decodeTyped(count: count, into: &result)
            }
        case 1:
            let bytes = try readExternal(directory: externalDataDirectory, count: count, elementSize: elementSize, limits: limits)
            try withBytes(bytes) { (raw) throws(OnnxError) in
                try decodeRaw(raw, count: count, elementSize: elementSize, source: "external data", into: &result)
            }
        default:
            throw OnnxError(.malformed, "tensor '\(name)': data_location \(dataLocation) is neither DEFAULT (0) nor EXTERNAL (1)")
        }
        return result
    }

    /// `Array.withUnsafeBytes` with a typed-throwing body.
    private func withBytes(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(OnnxError) -> Void) throws(OnnxError) {
        var failure: OnnxError? = nil
        bytes.withUnsafeBytes { raw in
            do throws(OnnxError) { try body(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    private func countMismatch(_ count: Int, _ found: Int, _ source: String) -> OnnxError {
        OnnxError(.malformed, "tensor '\(name)': expected \(count) elements from dims \(TensorLayout.dimsText(dims)), found \(found) (in \(source))")
    }

    private func decodeRaw(_ raw: UnsafeRawBufferPointer, count: Int, elementSize: Int, source: String,
                           into result: inout DecodedTensor) throws(OnnxError) {
        guard raw.count % elementSize == 0 else {
            throw OnnxError(.malformed, "tensor '\(name)': \(source) holds \(raw.count) bytes, not a multiple of the \(elementSize)-byte element size of \(TensorLayout.name(dataType))")
        }
        guard raw.count / elementSize == count else { throw countMismatch(count, raw.count / elementSize, source) }

        func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T {
            T(littleEndian: raw.loadUnaligned(fromByteOffset: i &* MemoryLayout<T>.size, as: T.self))
        }
        func floats(_ body: (Int) -> Float) -> [Float] {
            [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                guard let base = buffer.baseAddress else { initialized = 0; return }
                for i in 0..<count { (base + i).initialize(to: body(i)) }
                initialized = count
            }
        }
        func ints(_ body: (Int) -> Int64) -> [Int64] {
            [Int64](unsafeUninitializedCapacity: count) { buffer, initialized in
                guard let base = buffer.baseAddress else { initialized = 0; return }
                for i in 0..<count { (base + i).initialize(to: body(i)) }
                initialized = count
            }
        }

        switch dataType {
        case TensorLayout.float:
            #if _endian(little)
            result.floats = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw)
                initialized = count
            }
            #else
            result.floats = floats { Float(bitPattern: load(UInt32.self, $0)) }
            #endif
        case TensorLayout.double: result.floats = floats { Float(Double(bitPattern: load(UInt64.self, $0))) }
        case TensorLayout.float16: result.floats = floats { TensorLayout.halfToFloat(load(UInt16.self, $0)) }
        case TensorLayout.bfloat16: result.floats = floats { TensorLayout.bfloat16ToFloat(load(UInt16.self, $0)) }
        case TensorLayout.int8: result.ints = ints { Int64(Int8(bitPattern: raw[$0])) }
        case TensorLayout.uint8: result.ints = ints { Int64(raw[$0]) }
        case TensorLayout.bool: result.ints = ints { raw[$0] != 0 ? 1 : 0 }
        case TensorLayout.int16: result.ints = ints { Int64(load(Int16.self, $0)) }
        case TensorLayout.uint16: result.ints = ints { Int64(load(UInt16.self, $0)) }
        case TensorLayout.int32: result.ints = ints { Int64(load(Int32.self, $0)) }
        case TensorLayout.uint32: result.ints = ints { Int64(load(UInt32.self, $0)) }
        case TensorLayout.int64:
            #if _endian(little)
            result.ints = [Int64](unsafeUninitializedCapacity: count) { buffer, initialized in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw)
                initialized = count
            }
            #else
            result.ints = ints { load(Int64.self, $0) }
            #endif
        case TensorLayout.uint64:
            var values = [Int64]()
            values.reserveCapacity(count)
            for i in 0..<count {
                let value = load(UInt64.self, i)
                guard value <= UInt64(Int64.max) else { throw uint64TooLarge(value, i) }
                values.append(Int64(value))
            }
            result.ints = values
        default:
            throw OnnxError(.unsupported, "tensor '\(name)': data type \(TensorLayout.name(dataType)) is not supported")
        }
    }

    private func uint64TooLarge(_ value: UInt64, _ index: Int) -> OnnxError {
        OnnxError(.unsupported, "tensor '\(name)': UINT64 element \(index) = \(value) exceeds Int64.max")
    }

    private func decodeTyped(count: Int, into result: inout DecodedTensor) throws(OnnxError) {
        func checked(_ found: Int, _ field: String) throws(OnnxError) {
            guard found == count else { throw countMismatch(count, found, field) }
        }
        switch dataType {
        case TensorLayout.float:
            try checked(floatData.count, "float_data")
            result.floats = floatData
        case TensorLayout.double:
            try checked(doubleData.count, "double_data")
            result.floats = doubleData.map { Float($0) }
        case TensorLayout.float16:
            try checked(int32Data.count, "int32_data")
            result.floats = int32Data.map { TensorLayout.halfToFloat(UInt16(truncatingIfNeeded: $0)) }
        case TensorLayout.bfloat16:
            try checked(int32Data.count, "int32_data")
            result.floats = int32Data.map { TensorLayout.bfloat16ToFloat(UInt16(truncatingIfNeeded: $0)) }
        case TensorLayout.int8, TensorLayout.uint8, TensorLayout.int16, TensorLayout.uint16, TensorLayout.int32, TensorLayout.bool:
            try checked(int32Data.count, "int32_data")
            let type = dataType
            result.ints = int32Data.map { value -> Int64 in
                switch type {
                case TensorLayout.int8: return Int64(Int8(truncatingIfNeeded: value))
                case TensorLayout.uint8: return Int64(UInt8(truncatingIfNeeded: value))
                case TensorLayout.int16: return Int64(Int16(truncatingIfNeeded: value))
                case TensorLayout.uint16: return Int64(UInt16(truncatingIfNeeded: value))
                case TensorLayout.bool: return value != 0 ? 1 : 0
                default: return Int64(value)
                }
            }
        case TensorLayout.int64:
            try checked(int64Data.count, "int64_data")
            result.ints = int64Data
        case TensorLayout.uint32:
            try checked(uint64Data.count, "uint64_data")
            result.ints = uint64Data.map { Int64(UInt32(truncatingIfNeeded: $0)) }
        case TensorLayout.uint64:
            try checked(uint64Data.count, "uint64_data")
            var values = [Int64]()
            values.reserveCapacity(count)
            for (i, value) in uint64Data.enumerated() {
                guard value <= UInt64(Int64.max) else { throw uint64TooLarge(value, i) }
                values.append(Int64(value))
            }
            result.ints = values
        default:
            throw OnnxError(.unsupported, "tensor '\(name)': data type \(TensorLayout.name(dataType)) is not supported")
        }
    }

    /// Validates the external_data entries and reads exactly the tensor's bytes.
    private func readExternal(directory: String?, count: Int, elementSize: Int, limits: OnnxLimits) throws(OnnxError) -> [UInt8] {
        var location: String? = nil
        var offsetText: String? = nil
        var lengthText: String? = nil
        for entry in externalData {
            switch entry.key {
            case "location": location = entry.value
            case "offset": offsetText = entry.value
            case "length": lengthText = entry.value
            default: break  // checksum, basepath, ...: ignored
            }
        }
        guard let location, !location.isEmpty else {
            throw OnnxError(.malformed, "tensor '\(name)': external data has no 'location' entry")
        }
        guard !location.utf8.contains(0) else {
            throw OnnxError(.malformed, "tensor '\(name)': external data location \(location.debugDescription) contains a NUL byte")
        }
        guard !location.hasPrefix("/") && !location.hasPrefix("\\") else {
            throw OnnxError(.malformed, "tensor '\(name)': external data location '\(location)' is absolute; only paths relative to the model's folder are allowed")
        }
        let components = location.split(omittingEmptySubsequences: false) { $0 == "/" || $0 == "\\" }
        guard !components.contains(where: { $0 == ".." }) else {
            throw OnnxError(.malformed, "tensor '\(name)': external data location '\(location)' contains a '..' component")
        }
        guard let directory else {
            throw OnnxError(.unsupported, "tensor '\(name)': external data '\(location)' cannot be resolved for a model loaded from memory (no model directory)")
        }
        let offset = try parseNonNegative(offsetText, "offset") ?? 0
        let (checkedBytes, overflow) = count.multipliedReportingOverflow(by: elementSize)
        guard !overflow else {
            throw OnnxError(.limitExceeded, "tensor '\(name)': \(count) elements of \(elementSize) bytes overflow")
        }
        let length = try parseNonNegative(lengthText, "length") ?? checkedBytes
        guard length % elementSize == 0 else {
            throw OnnxError(.malformed, "tensor '\(name)': external data length \(length) is not a multiple of the \(elementSize)-byte element size of \(TensorLayout.name(dataType))")
        }
        guard length / elementSize == count else { throw countMismatch(count, length / elementSize, "external data '\(location)'") }

        let file = try ExternalDataPath.open(directory: directory.isEmpty ? "." : directory, location: location,
                                             tensor: name)
        let path = file.path
        defer { file.close() }
        let size = try file.regularFileSize()
        let (rangeEnd, endOverflow) = offset.addingReportingOverflow(length)
        guard !endOverflow, rangeEnd <= size else {
            throw OnnxError(.malformed, "tensor '\(name)': external data range offset \(offset) length \(length) lies outside \(path) (\(size) bytes)")
        }
        return try file.read(offset: offset, length: length, requireAll: true)
    }

    private func parseNonNegative(_ text: String?, _ key: String) throws(OnnxError) -> Int? {
        guard let text else { return nil }
        var value = 0
        var sawDigit = false
        for byte in text.utf8 {
            guard byte >= 0x30 && byte <= 0x39 else {
                throw OnnxError(.malformed, "tensor '\(name)': external data \(key) '\(text)' is not a non-negative decimal integer")
            }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(Int(byte - 0x30))
            guard !o1, !o2 else {
                throw OnnxError(.malformed, "tensor '\(name)': external data \(key) '\(text)' is too large")
            }
            value = next
            sawDigit = true
        }
        guard sawDigit else {
            throw OnnxError(.malformed, "tensor '\(name)': external data \(key) is empty")
        }
        return value
    }
}
