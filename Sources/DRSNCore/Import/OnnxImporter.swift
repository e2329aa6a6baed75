import DRSNOnnx

/// Converts a decoded ONNX ModelProto into a `Graph`: decodes initializers (including
/// external data), turns Constant nodes into constants, resolves the default-domain opset
/// and the declared inputs/outputs.
enum OnnxImporter {
    static func status(_ e: OnnxError) -> DRSNError {
        switch e.kind {
        case .io: return DRSNError(.io, e.message)
        case .malformed: return DRSNError(.invalidModel, "not a valid ONNX model: \(e.message)")
        case .unsupported: return DRSNError(.unsupported, e.message)
        case .limitExceeded: return DRSNError(.limitExceeded, e.message)
        }
    }

    static func tensor(_ proto: TensorProto, directory: String?, limits: OnnxLimits) throws(DRSNError) -> Tensor {
        if directory == nil && proto.dataLocation == 1 {
            throw fail(.invalidModel, "tensor '\(proto.name)' stores its data in an external file, which a model loaded from memory cannot use; load the model from its file instead")
        }
        let d: DecodedTensor
        do {
            d = try proto.decoded(externalDataDirectory: directory, limits: limits)
        } catch {
            throw status(error)
        }
        guard let dtype = DType(rawValue: d.dataType) else {
            throw fail(.unsupported, "tensor '\(proto.name)' has unsupported data type \(DType.onnxName(d.dataType))")
        }
        // The decoder accepts any dims after a zero; the core needs every product of dims bounded.
        let dimsExtent: Int
        do throws(DRSNError) {
            dimsExtent = try extent(d.dims)
        } catch {
            throw DRSNError(error.status, "tensor '\(proto.name)': \(error.message)")
        }
        guard dimsExtent <= limits.maxTensorElements else {
            throw fail(.limitExceeded, "tensor '\(proto.name)': dims \(describe(d.dims)) span more than maxTensorElements \(limits.maxTensorElements) (the product of the nonzero dims counts)")
        }
        if let f = d.floats { return try Tensor(floats: f, shape: d.dims, dtype: dtype) }
        return Tensor(ints: d.ints ?? [], shape: d.dims, dtype: dtype)
    }

    static func attribute(_ a: AttributeProto, directory: String?, limits: OnnxLimits) throws(DRSNError) -> Attribute {
        switch a.type {
        case 1: return .float(a.f)
        case 2: return .int(a.i)
        case 3: return .string(String(decoding: a.s, as: UTF8.self))
        case 4:
            guard let t = a.t else { throw fail(.invalidModel, "attribute '\(a.name)' of type TENSOR has no tensor") }
            return .tensor(try tensor(t, directory: directory, limits: limits))
        case 5, 10: return .graph
        case 6: return .floats(a.floats)
        case 7: return .ints(a.ints)
        case 8: return .strings(a.strings.map { String(decoding: $0, as: UTF8.self) })
        default:
            throw fail(.unsupported, "attribute '\(a.name)' has unsupported type \(a.type)")
        }
    }

    static func valueInfo(_ v: ValueInfoProto) throws(DRSNError) -> ValueInfo {
        let dims: [Dim]? = v.shape.map { shape in
            shape.map { d -> Dim in
                switch d {
                case .value(let n) where n >= 0: return .fixed(Int(n))
                case .value: return .symbolic("")
                case .param(let p): return .symbolic(p)
                case .unknown: return .symbolic("")
                }
            }
        }
        return ValueInfo(name: v.name, dtype: DType(rawValue: v.elemType) ?? .undefined, dims: dims, elementType: v.elemType)
    }

    /// - Parameter directory: folder of the model file for external data; nil for models loaded from memory.
    static func graph(from model: ModelProto, directory: String?, limits: OnnxLimits) throws(DRSNError) -> Graph {
        guard let g = model.graph else { throw fail(.invalidModel, "the model has no graph") }
        var opset: Int? = nil
        for o in model.opsetImport where o.domain.isEmpty || o.domain == "ai.onnx" {
            opset = Int(clamping: o.version)
        }
        guard let opset else {
            // A model of another domain only (ai.onnx.ml, training, a vendor's) is valid ONNX
            // that drsn does not run; one that imports nothing at all is not valid.
            let others = model.opsetImport.map { "'\($0.domain)' (version \($0.version))" }
            guard others.isEmpty else {
                throw fail(.unsupported, "the model imports only the operator set domain\(others.count == 1 ? "" : "s") \(others.joined(separator: ", ")); drsn supports the default ONNX domain only")
            }
            throw fail(.invalidModel, "the model imports no opset (opset_import is empty)")
        }
        guard opset >= OperatorRegistry.minOpset && opset <= OperatorRegistry.maxOpset else {
            throw fail(.unsupported, "opset \(opset) is not supported (drsn supports opsets \(OperatorRegistry.minOpset) to \(OperatorRegistry.maxOpset))")
        }
        var constants: [String: Tensor] = [:]
        for t in g.initializers {
            guard !t.name.isEmpty else { throw fail(.invalidModel, "an initializer has no name") }
            constants[t.name] = try tensor(t, directory: directory, limits: limits)
        }
        var nodes: [Node] = []
        nodes.reserveCapacity(g.nodes.count)
        for (index, n) in g.nodes.enumerated() {
            var attributes: [String: Attribute] = [:]
            for a in n.attributes {
                do throws(DRSNError) {
                    attributes[a.name] = try attribute(a, directory: directory, limits: limits)
                } catch {
                    throw DRSNError(error.status, "node '\(n.name)' (\(n.opType)): \(error.message)")
                }
            }
            let node = Node(name: n.name.isEmpty ? "\(n.opType)_\(index)" : n.name, opType: n.opType, domain: n.domain,
                            inputs: n.inputs, outputs: n.outputs, attributes: attributes)
            // Every operator has at least one output; the graph passes rely on it.
            guard node.outputs.contains(where: { !$0.isEmpty }) else {
                throw fail(.invalidModel, "node '\(node.name)' (\(node.opType)) has no outputs")
            }
            if node.opType == "Constant" && (node.domain.isEmpty || node.domain == "ai.onnx"), let out = node.outputs.first {
                _ = try OperatorRegistry.function(for: node, opset: opset)  // attributes its opset defines
                do throws(DRSNError) {
                    constants[out] = try ShapeOps.constantValue(of: node)
                } catch {
                    throw error.inNode(node, opset: opset)
                }
                continue
            }
            nodes.append(node)
        }
        var inputs: [ValueInfo] = []
        for v in g.inputs where constants[v.name] == nil { inputs.append(try valueInfo(v)) }
        var outputs: [ValueInfo] = []
        for v in g.outputs { outputs.append(try valueInfo(v)) }
        guard !outputs.isEmpty else { throw fail(.invalidModel, "the graph declares no outputs") }
        return Graph(nodes: nodes, constants: constants, inputs: inputs, outputs: outputs, opset: opset)
    }
}
