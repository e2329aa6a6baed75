import DRSNOnnx

/// Minimal protobuf encoder for building test inputs byte by byte.
struct ProtoWriter {
    var bytes: [UInt8] = []

    static let varint: UInt8 = 0, fixed64: UInt8 = 1, lengthDelimited: UInt8 = 2
    static let startGroup: UInt8 = 3, endGroup: UInt8 = 4, fixed32: UInt8 = 5

    mutating func rawVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func tag(_ field: Int, _ wire: UInt8) {
        rawVarint(UInt64(field) << 3 | UInt64(wire))
    }

    mutating func int(_ field: Int, _ value: Int64) {
        tag(field, Self.varint)
        rawVarint(UInt64(bitPattern: value))
    }

    mutating func bytesField(_ field: Int, _ payload: [UInt8]) {
        tag(field, Self.lengthDelimited)
        rawVarint(UInt64(payload.count))
        bytes += payload
    }

    mutating func string(_ field: Int, _ text: String) {
        bytesField(field, Array(text.utf8))
    }

    mutating func message(_ field: Int, _ build: (inout ProtoWriter) -> Void) {
        var inner = ProtoWriter()
        build(&inner)
        bytesField(field, inner.bytes)
    }

    mutating func fixed32(_ field: Int, _ value: UInt32) {
        tag(field, Self.fixed32)
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        tag(field, Self.fixed64)
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    mutating func float(_ field: Int, _ value: Float) { fixed32(field, value.bitPattern) }

    mutating func packedVarints(_ field: Int, _ values: [UInt64]) {
        var inner = ProtoWriter()
        for v in values { inner.rawVarint(v) }
        bytesField(field, inner.bytes)
    }

    mutating func packedInts(_ field: Int, _ values: [Int64]) {
        packedVarints(field, values.map { UInt64(bitPattern: $0) })
    }

    mutating func packedFloats(_ field: Int, _ values: [Float]) {
        var payload: [UInt8] = []
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { payload += $0 } }
        bytesField(field, payload)
    }

    mutating func packedDoubles(_ field: Int, _ values: [Double]) {
        var payload: [UInt8] = []
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { payload += $0 } }
        bytesField(field, payload)
    }
}

/// ONNX-shaped builders on top of ProtoWriter (field numbers from onnx.proto).
enum Onnx {
    /// A TensorProto body: name 8, dims 1 (packed), data_type 2.
    static func tensor(_ w: inout ProtoWriter, name: String, type: Int64, dims: [Int64]) {
        w.string(8, name)
        if !dims.isEmpty { w.packedInts(1, dims) }
        w.int(2, type)
    }

    static func node(_ w: inout ProtoWriter, op: String, inputs: [String], outputs: [String], name: String = "") {
        for i in inputs { w.string(1, i) }
        for o in outputs { w.string(2, o) }
        if !name.isEmpty { w.string(3, name) }
        w.string(4, op)
    }

    /// A ValueInfoProto body with a tensor type and optional shape (Int64 = dim_value,
    /// String = dim_param, nil entry = empty Dimension).
    static func valueInfo(_ w: inout ProtoWriter, name: String, elemType: Int64, shape: [Any?]?) {
        w.string(1, name)
        w.message(2) { type in
            type.message(1) { tensorType in
                tensorType.int(1, elemType)
                if let shape {
                    tensorType.message(2) { s in
                        for d in shape {
                            s.message(1) { dim in
                                if let v = d as? Int64 { dim.int(1, v) }
                                if let p = d as? String { dim.string(2, p) }
                            }
                        }
                    }
                }
            }
        }
    }

    /// A small complete model: ir_version 8, opset 17, a graph with two nodes, a float
    /// initializer (raw), an int64 initializer (packed), input/output with shapes.
    static func smallModel() -> [UInt8] {
        var w = ProtoWriter()
        w.int(1, 8)
        w.string(2, "unit")
        w.message(8) { o in o.string(1, ""); o.int(2, 17) }
        w.message(7) { g in smallGraph(&g) }
        return w.bytes
    }

    static func smallGraph(_ g: inout ProtoWriter) {
        g.string(2, "g")
        g.message(1) { n in node(&n, op: "Mul", inputs: ["x", "w"], outputs: ["t"], name: "mul") }
        g.message(1) { n in
            node(&n, op: "Reshape", inputs: ["t", "shape"], outputs: ["y"], name: "reshape")
            n.message(5) { a in a.string(1, "allowzero"); a.int(3, 0); a.int(20, 2) }
        }
        g.message(5) { t in
            tensor(&t, name: "w", type: 1, dims: [2])
            var raw: [UInt8] = []
            for v: Float in [0.5, -1] { withUnsafeBytes(of: v.bitPattern.littleEndian) { raw += $0 } }
            t.bytesField(9, raw)
        }
        g.message(5) { t in
            tensor(&t, name: "shape", type: 7, dims: [2])
            t.packedInts(7, [1, -1])
        }
        g.message(11) { v in valueInfo(&v, name: "x", elemType: 1, shape: ["N", Int64(2)]) }
        g.message(12) { v in valueInfo(&v, name: "y", elemType: 1, shape: nil) }
    }

    /// A model that is exactly one top-level field (graph), so every strict prefix
    /// longer than zero bytes is truncated inside a length-delimited field.
    static func graphOnlyModel() -> [UInt8] {
        var w = ProtoWriter()
        w.message(7) { g in smallGraph(&g) }
        return w.bytes
    }
}

/// Decodes through the public API.
func decode(_ bytes: [UInt8], limits: OnnxLimits = OnnxLimits()) throws -> ModelProto {
    try bytes.withUnsafeBytes { try OnnxReader.decodeModel($0, limits: limits) }
}

/// Deterministic RNG (SplitMix64) for the fuzz-style tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
