/// Protobuf wire types (groups are deprecated but still skippable).
enum WireType: UInt8 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5

    var name: String {
        switch self {
        case .varint: return "varint"
        case .fixed64: return "fixed64"
        case .lengthDelimited: return "length-delimited"
        case .startGroup: return "start-group"
        case .endGroup: return "end-group"
        case .fixed32: return "fixed32"
        }
    }
}

/// A field key: field number and wire type, plus the offset where the tag started.
struct FieldTag {
    var field: Int
    var wireType: WireType
    var offset: Int
}

/// A cursor over one protobuf message inside a borrowed buffer.
///
/// Contract:
/// - Never reads outside `[position, end)`; every length is checked against the bytes that
///   remain before it is used, so any input (truncated, corrupted, hostile) yields either a
///   value or an `OnnxError(.malformed)`, never a trap.
/// - Offsets (`position`, `end`, offsets in messages) are absolute: counted from the start
///   of the top-level buffer, so nested errors point at the right byte of the file.
/// - The reader borrows the buffer; callers must keep it alive while reading, and copy
///   out anything they keep (`readBytes`, `readString` copy).
struct ProtobufReader {
    let buffer: UnsafeRawBufferPointer
    private(set) var position: Int
    let end: Int
    /// Message name used in error messages ("TensorProto", ...).
    var context: String

    /// A reader over the whole buffer.
    init(_ buffer: UnsafeRawBufferPointer, context: String) {
        self.buffer = buffer
        self.position = 0
        self.end = buffer.count
        self.context = context
    }

    private init(buffer: UnsafeRawBufferPointer, position: Int, end: Int, context: String) {
        self.buffer = buffer
        self.position = position
        self.end = end
        self.context = context
    }

    var isAtEnd: Bool { position >= end }
    var remaining: Int { end - position }

    func error(_ message: String, at offset: Int? = nil) -> OnnxError {
        OnnxError(.malformed, "\(context): \(message) at byte offset \(offset ?? position)")
    }

    /// Reads a base-128 varint of at most 10 bytes. A 10th byte above 1 would overflow 64
    /// bits and is rejected.
    mutating func readVarint() throws(OnnxError) -> UInt64 {
        let start = position
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var index = 0
        while true {
            guard position < end else {
                throw error("truncated varint (\(index) byte(s) before end of data)", at: start)
            }
            let byte = buffer[position]
            position += 1
            if index == 9 && byte > 1 {
                throw error("varint overflows 64 bits (10th byte is 0x\(String(byte, radix: 16)))", at: start)
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            index += 1
            shift += 7
            if index >= 10 {
                throw error("varint longer than 10 bytes", at: start)
            }
        }
    }

    /// Reads a field key. Rejects field number 0, field numbers above 2^29-1, and the
    /// undefined wire types 6 and 7.
    mutating func readTag() throws(OnnxError) -> FieldTag {
        let start = position
        let key = try readVarint()
        guard key <= UInt64(UInt32.max) else {
            throw error("field key \(key) does not fit 32 bits", at: start)
        }
        let field = Int(key >> 3)
        guard let wireType = WireType(rawValue: UInt8(key & 7)) else {
            throw error("invalid wire type \(key & 7) for field \(field)", at: start)
        }
        guard field != 0 else {
            throw error("field number 0 is invalid", at: start)
        }
        guard field <= 0x1FFF_FFFF else {
            throw error("field number \(field) exceeds 2^29-1", at: start)
        }
        return FieldTag(field: field, wireType: wireType, offset: start)
    }

    /// Throws unless `tag` has wire type `expected`.
    func expect(_ tag: FieldTag, _ expected: WireType, _ fieldName: String) throws(OnnxError) {
        guard tag.wireType == expected else {
            throw error("field \(tag.field) (\(fieldName)) expected wire type \(expected.name), found \(tag.wireType.name)", at: tag.offset)
        }
    }

    mutating func readFixed32() throws(OnnxError) -> UInt32 {
        guard remaining >= 4 else { throw error("truncated fixed32: need 4 bytes, \(remaining) remain") }
        let value = buffer.loadUnaligned(fromByteOffset: position, as: UInt32.self)
        position += 4
        return UInt32(littleEndian: value)
    }

    mutating func readFixed64() throws(OnnxError) -> UInt64 {
        guard remaining >= 8 else { throw error("truncated fixed64: need 8 bytes, \(remaining) remain") }
        let value = buffer.loadUnaligned(fromByteOffset: position, as: UInt64.self)
        position += 8
        return UInt64(littleEndian: value)
    }

    /// Reads a length prefix and returns the absolute range `[start, end)` of the payload,
    /// advancing past it. The length is checked against the bytes that remain.
    mutating func readLengthDelimitedRange(_ fieldName: String) throws(OnnxError) -> Range<Int> {
        let start = position
        let length = try readVarint()
        guard length <= UInt64(remaining) else {
            throw error("\(fieldName): declared length \(length) exceeds the \(remaining) byte(s) that remain", at: start)
        }
        let payloadStart = position
        let payloadEnd = payloadStart + Int(length)  // cannot overflow: bounded by end
        position = payloadEnd
        return payloadStart..<payloadEnd
    }

    /// Reads a length-delimited field and returns a reader limited to its payload.
    mutating func readSubmessage(_ fieldName: String, context: String) throws(OnnxError) -> ProtobufReader {
        let range = try readLengthDelimitedRange(fieldName)
        return ProtobufReader(buffer: buffer, position: range.lowerBound, end: range.upperBound, context: context)
    }

    /// Reads a length-delimited field as a copied byte array (bulk copy).
    mutating func readBytes(_ fieldName: String) throws(OnnxError) -> [UInt8] {
        let range = try readLengthDelimitedRange(fieldName)
        return Array(UnsafeRawBufferPointer(rebasing: buffer[range]))
    }

    /// Reads a length-delimited field as UTF-8 text; invalid sequences are replaced by
    /// U+FFFD (never an error, never a trap).
    mutating func readString(_ fieldName: String) throws(OnnxError) -> String {
        let range = try readLengthDelimitedRange(fieldName)
        return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[range]), as: UTF8.self)
    }

    /// Skips the payload of a field whose tag was just read. Groups are skipped by
    /// scanning (iteratively, no recursion) to the matching end-group tag; a stray
    /// end-group tag is malformed.
    mutating func skip(_ tag: FieldTag) throws(OnnxError) {
        switch tag.wireType {
        case .varint: _ = try readVarint()
        case .fixed64: _ = try readFixed64()
        case .fixed32: _ = try readFixed32()
        case .lengthDelimited: _ = try readLengthDelimitedRange("field \(tag.field)")
        case .endGroup:
            throw error("unexpected end-group tag for field \(tag.field)", at: tag.offset)
        case .startGroup:
            var open: [Int] = [tag.field]
            while let innermost = open.last {
                guard !isAtEnd else {
                    throw error("group for field \(innermost) is not closed before end of message", at: tag.offset)
                }
                let inner = try readTag()
                switch inner.wireType {
                case .startGroup: open.append(inner.field)
                case .endGroup:
                    guard inner.field == innermost else {
                        throw error("end-group tag for field \(inner.field) closes group \(innermost)", at: inner.offset)
                    }
                    open.removeLast()
                default: try skip(inner)
                }
            }
        }
    }

    // MARK: Repeated scalars (packed or unpacked)

    /// Appends one or more varints: a packed run when the tag is length-delimited, else
    /// a single value. `limit` bounds the total count in `values`.
    mutating func appendVarints<T>(_ tag: FieldTag, to values: inout [T], _ fieldName: String, limit: Int,
                                   limitName: String = "maxTensorElements", _ convert: (UInt64) -> T) throws(OnnxError) {
        switch tag.wireType {
        case .varint:
            guard values.count < limit else { throw limitError(fieldName, limit, limitName) }
            values.append(convert(try readVarint()))
        case .lengthDelimited:
            var sub = try readSubmessage(fieldName, context: context)
            while !sub.isAtEnd {
                guard values.count < limit else { throw limitError(fieldName, limit, limitName) }
                values.append(convert(try sub.readVarint()))
            }
        default:
            throw error("field \(tag.field) (\(fieldName)) expected wire type varint or packed, found \(tag.wireType.name)", at: tag.offset)
        }
    }

    /// Appends fixed-width values (4 or 8 bytes): a packed run when length-delimited
    /// (length must be a multiple of the width), else one value of wire type `single`.
    mutating func appendFixed<T>(_ tag: FieldTag, to values: inout [T], _ fieldName: String, limit: Int,
                                 limitName: String = "maxTensorElements", width: Int, _ convert: (UInt64) -> T) throws(OnnxError) {
        let single: WireType = width == 4 ? .fixed32 : .fixed64
        switch tag.wireType {
        case single:
            guard values.count < limit else { throw limitError(fieldName, limit, limitName) }
            let raw = width == 4 ? UInt64(try readFixed32()) : try readFixed64()
            values.append(convert(raw))
        case .lengthDelimited:
            let range = try readLengthDelimitedRange(fieldName)
            guard range.count % width == 0 else {
                throw error("\(fieldName): packed length \(range.count) is not a multiple of \(width)", at: tag.offset)
            }
            let count = range.count / width
            guard count <= limit - values.count else { throw limitError(fieldName, limit, limitName) }
            values.reserveCapacity(values.count + count)
            var offset = range.lowerBound
            if width == 4 {
                for _ in 0..<count {
                    values.append(convert(UInt64(UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))))
                    offset += 4
                }
            } else {
                for _ in 0..<count {
                    values.append(convert(UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))))
                    offset += 8
                }
            }
        default:
            throw error("field \(tag.field) (\(fieldName)) expected wire type \(single.name) or packed, found \(tag.wireType.name)", at: tag.offset)
        }
    }

    func limitError(_ fieldName: String, _ limit: Int, _ limitName: String = "maxTensorElements") -> OnnxError {
        OnnxError(.limitExceeded, "\(context): \(fieldName) holds more than \(limitName) \(limit) values at byte offset \(position)")
    }
}
