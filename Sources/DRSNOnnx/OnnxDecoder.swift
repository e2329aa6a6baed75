// Decoding of ModelProto and the messages below it from protobuf bytes.
//
// Conventions shared by every message decoder here:
// - unknown fields are skipped (any valid wire type, groups included);
// - a known field with the wrong wire type is `.malformed` (except that repeated scalars
//   accept both packed and unpacked encodings);
// - for a singular field seen twice, the last value wins; for a singular message field
//   seen twice (e.g. `ModelProto.graph`), the last one wins (no protobuf-style merge);
// - int32/enum fields take the low 32 bits of the varint, as protobuf does;
// - recursion depth is fixed by the schema (subgraphs are not decoded), so hostile
//   nesting cannot overflow the stack.

public enum OnnxReader {
    /// Decodes a ModelProto from bytes.
    ///
    /// Never traps on any input: every length is checked against the bytes that remain,
    /// varints are at most 10 bytes, wire types are validated, unknown fields are skipped,
    /// and packed and unpacked repeated scalars are both accepted. Strings are decoded as
    /// UTF-8 with invalid sequences replaced by U+FFFD.
    ///
    /// Limits enforced (`.limitExceeded`): `bytes.count <= maxFileBytes`; main graph
    /// nodes `<= maxNodes`; dims per tensor and per shape `<= maxRank`; elements implied by
    /// each tensor's dims (overflow-checked product) and values stored in each typed field
    /// `<= maxTensorElements`; summed tensor bytes (initializers plus attribute tensors)
    /// `<= maxTotalTensorBytes`.
    ///
    /// Rejected as `.malformed`: negative tensor dims. Rejected as `.unsupported`:
    /// `GraphProto.sparse_initializer`.
    ///
    /// Tensor payloads are copied; the returned model does not reference `bytes`.
    public static func decodeModel(_ bytes: UnsafeRawBufferPointer, limits: OnnxLimits = OnnxLimits()) throws(OnnxError) -> ModelProto {
        guard bytes.count <= limits.maxFileBytes else {
            throw OnnxError(.limitExceeded, "model of \(bytes.count) bytes exceeds maxFileBytes \(limits.maxFileBytes)")
        }
        var decoder = ModelDecoder(limits: limits)
        var reader = ProtobufReader(bytes, context: "ModelProto")
        return try decoder.decodeModel(&reader)
    }
}

/// Stateful decoder: carries limits and the running tensor-byte total.
struct ModelDecoder {
    let limits: OnnxLimits
    var totalTensorBytes = 0

    init(limits: OnnxLimits) {
        self.limits = limits
    }

    mutating func decodeModel(_ r: inout ProtobufReader) throws(OnnxError) -> ModelProto {
        var model = ModelProto()
        while !r.isAtEnd {
            let tag = try r.readTag()
            switch tag.field {
            case 1:
                try r.expect(tag, .varint, "ir_version")
                model.irVersion = Int64(bitPattern: try r.readVarint())
            case 2:
                try r.expect(tag, .lengthDelimited, "producer_name")
                model.producerName = try r.readString("producer_name")
            case 3:
                try r.expect(tag, .lengthDelimited, "producer_version")
                model.producerVersion = try r.readString("producer_version")
            case 7:
                try r.expect(tag, .lengthDelimited, "graph")
                var sub = try r.readSubmessage("graph", context: "GraphProto")
                model.graph = try decodeGraph(&sub)
            case 8:
                try r.expect(tag, .lengthDelimited, "opset_import")
                var sub = try r.readSubmessage("opset_import", context: "OperatorSetIdProto")
                model.opsetImport.append(try decodeOpset(&sub))
            default:
                try r.skip(tag)
            }
        }
        return model
    }

    func decodeOpset(_ r: inout ProtobufReader) throws(OnnxError) -> OperatorSetIdProto {
        var opset = OperatorSetIdProto()
        while !r.isAtEnd {
            let tag = try r.readTag()
            switch tag.field {
            case 1:
                try r.expect(tag, .lengthDelimited, "domain")
                opset.domain = try r.readString("domain")
            case 2:
                try r.expect(tag, .varint, "version")
                opset.version = Int64(bitPattern: try r.readVarint())
            default:
                try r.skip(tag)
            }
        }
        return opset
    }

    mutating func decodeGraph(_ r: inout ProtobufReader) throws(OnnxError) -> GraphProto {
        var graph = GraphProto()
        while !r.isAtEnd {
            let tag = try r.readTag()
            switch tag.field {
            case 1:
                try r.expect(tag, .lengthDelimited, "node")
                guard graph.nodes.count < limits.maxNodes else {
                    throw OnnxError(.limitExceeded, "GraphProto: more than maxNodes \(limits.maxNodes) nodes at byte offset \(tag.offset)")
                }
                var sub = try r.readSubmessage("node", context: "NodeProto")
                graph.nodes.append(try decodeNode(&sub))
            case 2:
                try r.expect(tag, .lengthDelimited, "name")
                graph.name = try r.readString("name")
            case 5:
                try r.expect(tag, .lengthDelimited, "initializer")
                var sub = try r.readSubmessage("initializer", context: "TensorProto")
                graph.initializers.append(try decodeTensor(&sub))
            case 11, 12, 13:
                let fieldName = tag.field == 11 ? "input" : tag.field == 12 ? "output" : "value_info"
                try r.expect(tag, .lengthDelimited, fieldName)
                var sub = try r.readSubmessage(fieldName, context: "ValueInfoProto")
                let info = try decodeValueInfo(&sub)
                switch tag.field {
                case 11: graph.inputs.append(info)
                case 12: graph.outputs.append(info)
                default: graph.valueInfo.append(info)
                }
            case 15:
                throw OnnxError(.unsupported, "GraphProto: sparse_initializer (field 15) is not supported, at byte offset \(tag.offset)")
            default:
                try r.skip(tag)
            }
        }
        return graph
    }

    mutating func decodeNode(_ r: inout ProtobufReader) throws(OnnxError) -> NodeProto {
        var node = NodeProto()
        while !r.isAtEnd {
            let tag = try r.readTag()
            switch tag.field {
            case 1:
                try r.expect(tag, .lengthDelimited, "input")
                node.inputs.append(try r.readString("input"))
            case 2:
                try r.expect(tag, .lengthDelimited, "output")
                node.outputs.append(try r.readString("output"))
            case 3:
                try r.expect(tag, .lengthDelimited, "name")
                node.name = try r.readString("name")
            case 4:
                try r.expect(tag, .lengthDelimited, "op_type")
                node.opType = try r.readString("op_type")
            case 5:
                try r.expect(tag, .lengthDelimited, "attribute")
                var sub = try r.readSubmessage("attribute", context: "AttributeProto")
                node.attributes.append(try decodeAttribute(&sub))
            case 7:
                try r.expect(tag, .lengthDelimited, "domain")
                node.domain = try r.readString("domain")
            default:
                try r.skip(tag)
            }
        }
        return node
    }

    mutating func decodeAttribute(_ r: inout ProtobufReader) throws(OnnxError) -> AttributeProto {
        var attr = AttributeProto()
        let maxValues = limits.maxTensorElements
        while !r.isAtEnd {
            let tag = try r.readTag()
            switch tag.field {
            case 1:
                try r.expect(tag, .lengthDelimited, "name")
                attr.name = try r.readString("name")
            case 2:
                try r.expect(tag, .fixed32, "f")
                attr.f = Float(bitPattern: try r.readFixed32())
            case 3:
                try r.expect(tag, .varint, "i")
                attr.i = Int64(bitPattern: try r.readVarint())
            case 4:
                try r.expect(tag, .lengthDelimited, "s")
                attr.s = try r.readBytes("s")
            case 5:
                try r.expect(tag, .lengthDelimited, "t")
                var sub = try r.readSubmessage("t", context: "TensorProto")
                attr.t = try decodeTensor(&sub)
            case 6, 11:
                try r.expect(tag, .lengthDelimited, tag.field == 6 ? "g" : "graphs")
                _ = try r.readLengthDelimitedRange(tag.field == 6 ? "g" : "graphs")
                attr.hasGraph = true
            case 7:
                try r.appendFixed(tag, to: &attr.floats, "floats", limit: maxValues, width: 4) {
                    Float(bitPattern: UInt32(truncatingIfNeeded: $0))
                }
            case 8:
                try r.appendVarints(tag, to: &attr.ints, "ints", limit: maxValues) { Int64(bitPattern: $0) }
            case 9:
                try r.expect(tag, .lengthDelimited, "strings")
                guard attr.strings.count < maxValues else { throw r.limitError("strings", maxValues) }
                attr.strings.append(try r.readBytes("strings"))
            case 10:
                try r.expect(tag, .lengthDelimited, "tensors")
                var sub = try r.readSubmessage("tensors", context: "TensorProto")
                attr.tensors.append(try decodeTensor(&sub))
            case 20:
                try r.expect(tag, .varint, "type")
                attr.type = Int32(truncatingIfNeeded: try r.readVarint())
            case 21:
                try r.expect(tag, .lengthDelimited, "ref_attr_name")
                attr.refAttrName = try r.readString("ref_attr_name")
            default:
                try r.skip(tag)
            }
        }
        return attr
    }

    mutating func decodeTensor(_ r: inout ProtobufReader) throws(OnnxError) -> TensorProto {
        let start = r.position
        var tensor = TensorProto()
        let maxValues = limits.maxTensorElements
        while !r.isAtEnd {
            let tag = try r.readTag()
            switch tag.field {
            case 1:
                try r.appendVarints(tag, to: &tensor.dims, "dims", limit: limits.maxRank, limitName: "maxRank") { Int64(bitPattern: $0) }
            case 2:
                try r.expect(tag, .varint, "data_type")
                tensor.dataType = Int32(truncatingIfNeeded: try r.readVarint())
            case 4:
                try r.appendFixed(tag, to: &tensor.floatData, "float_data", limit: maxValues, width: 4) {
                    Float(bitPattern: UInt32(truncatingIfNeeded: $0))
                }
            case 5:
                try r.appendVarints(tag, to: &tensor.int32Data, "int32_data", limit: maxValues) { Int32(truncatingIfNeeded: $0) }
            case 7:
                try r.appendVarints(tag, to: &tensor.int64Data, "int64_data", limit: maxValues) { Int64(bitPattern: $0) }
            case 8:
                try r.expect(tag, .lengthDelimited, "name")
                tensor.name = try r.readString("name")
            case 9:
                try r.expect(tag, .lengthDelimited, "raw_data")
                tensor.rawData = try r.readBytes("raw_data")
            case 10:
                try r.appendFixed(tag, to: &tensor.doubleData, "double_data", limit: maxValues, width: 8) { Double(bitPattern: $0) }
            case 11:
                try r.appendVarints(tag, to: &tensor.uint64Data, "uint64_data", limit: maxValues) { $0 }
            case 13:
                try r.expect(tag, .lengthDelimited, "external_data")
                var sub = try r.readSubmessage("external_data", context: "StringStringEntryProto")
                tensor.externalData.append(try decodeStringString(&sub))
            case 14:
                try r.expect(tag, .varint, "data_location")
                tensor.dataLocation = Int32(truncatingIfNeeded: try r.readVarint())
            default:
                try r.skip(tag)
            }
        }
        let elements = try TensorLayout.elementCount(dims: tensor.dims, tensorName: tensor.name, limits: limits)
        let elementBytes = TensorLayout.elementSize(tensor.dataType) ?? 1
        let (bytes, overflow1) = elements.multipliedReportingOverflow(by: elementBytes)
        let (total, overflow2) = totalTensorBytes.addingReportingOverflow(bytes)
        guard !overflow1, !overflow2, total <= limits.maxTotalTensorBytes else {
            throw OnnxError(.limitExceeded, "TensorProto '\(tensor.name)' at byte offset \(start): tensors total more than maxTotalTensorBytes \(limits.maxTotalTensorBytes) bytes")
        }
        totalTensorBytes = total
        return tensor
    }

    func decodeStringString(_ r: inout ProtobufReader) throws(OnnxError) -> (key: String, value: String) {
        var key = ""
        var value = ""
        while !r.isAtEnd {
            let tag = try r.readTag()
            switch tag.field {
            case 1:
                try r.expect(tag, .lengthDelimited, "key")
                key = try r.readString("key")
            case 2:
                try r.expect(tag, .lengthDelimited, "value")
                value = try r.readString("value")
            default:
                try r.skip(tag)
            }
        }
        return (key, value)
    }

    func decodeValueInfo(_ r: inout ProtobufReader) throws(OnnxError) -> ValueInfoProto {
        var info = ValueInfoProto()
        while !r.isAtEnd {
            let tag = try r.readTag()
            switch tag.field {
            case 1:
                try r.expect(tag, .lengthDelimited, "name")
                info.name = try r.readString("name")
            case 2:
                try r.expect(tag, .lengthDelimited, "type")
                var type = try r.readSubmessage("type", context: "TypeProto")
                while !type.isAtEnd {
                    let typeTag = try type.readTag()
                    guard typeTag.field == 1 else {
                        try type.skip(typeTag)
                        continue
                    }
                    try type.expect(typeTag, .lengthDelimited, "tensor_type")
                    var tensorType = try type.readSubmessage("tensor_type", context: "TypeProto.Tensor")
                    try decodeTensorType(&tensorType, into: &info)
                }
            default:
                try r.skip(tag)
            }
        }
        return info
    }

    func decodeTensorType(_ r: inout ProtobufReader, into info: inout ValueInfoProto) throws(OnnxError) {
        while !r.isAtEnd {
            let tag = try r.readTag()
            switch tag.field {
            case 1:
                try r.expect(tag, .varint, "elem_type")
                info.elemType = Int32(truncatingIfNeeded: try r.readVarint())
            case 2:
                try r.expect(tag, .lengthDelimited, "shape")
                var shapeReader = try r.readSubmessage("shape", context: "TensorShapeProto")
                var shape: [DimensionProto] = []
                while !shapeReader.isAtEnd {
                    let dimTag = try shapeReader.readTag()
                    guard dimTag.field == 1 else {
                        try shapeReader.skip(dimTag)
                        continue
                    }
                    try shapeReader.expect(dimTag, .lengthDelimited, "dim")
                    guard shape.count < limits.maxRank else {
                        throw OnnxError(.limitExceeded, "TensorShapeProto: more than maxRank \(limits.maxRank) dims at byte offset \(dimTag.offset)")
                    }
                    var dimReader = try shapeReader.readSubmessage("dim", context: "TensorShapeProto.Dimension")
                    shape.append(try decodeDimension(&dimReader))
                }
                info.shape = shape
            default:
                try r.skip(tag)
            }
        }
    }

    func decodeDimension(_ r: inout ProtobufReader) throws(OnnxError) -> DimensionProto {
        var dim = DimensionProto.unknown
        while !r.isAtEnd {
            let tag = try r.readTag()
            switch tag.field {
            case 1:
                try r.expect(tag, .varint, "dim_value")
                dim = .value(Int64(bitPattern: try r.readVarint()))
            case 2:
                try r.expect(tag, .lengthDelimited, "dim_param")
                dim = .param(try r.readString("dim_param"))
            default:
                try r.skip(tag)
            }
        }
        return dim
    }
}
