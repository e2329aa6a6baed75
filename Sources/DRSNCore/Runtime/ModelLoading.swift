import DRSNOnnx

/// Loading a model: read the file, import the ONNX graph, run the graph passes, and bind
/// the graph to a few probe shapes to validate it and learn the output shapes. The result
/// is everything a `Model` is made of.
enum ModelLoader {
    struct Loaded {
        var graph: Graph
        var inputs: [TensorInfo]
        var outputs: [TensorInfo]
        var appliedPasses: [String]
        var importedOperatorCounts: [String: Int]
        var optimizedOperatorCounts: [String: Int]
        var parameterCount: Int
        var opset: Int
        var producer: String
        /// Convolution weights packed for the kernels by the probe plans.
        var packedWeights: PackedWeights
    }

    /// Loads an ONNX file; external data is resolved next to it. Errors name the file.
    static func load(path: String, options: Options) throws(DRSNError) -> Loaded {
        let bytes: [UInt8]
        do {
            bytes = try OnnxReader.readFile(path, limits: options.limits)
        } catch {
            throw OnnxImporter.status(error)
        }
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        let result = bytes.withUnsafeBytes { raw -> Result<Loaded, DRSNError> in
            do throws(DRSNError) {
                return .success(try load(bytes: raw, directory: directory, options: options))
            } catch {
                return .failure(DRSNError(error.status, "\(path): \(error.message)"))
            }
        }
        return try result.get()
    }

    /// Loads an ONNX model from memory; external data is resolved in `directory` (none when nil).
    static func load(bytes: UnsafeRawBufferPointer, directory: String?, options: Options) throws(DRSNError) -> Loaded {
        let proto: ModelProto
        do {
            proto = try OnnxReader.decodeModel(bytes, limits: options.limits)
        } catch {
            throw OnnxImporter.status(error)
        }
        var graph = try OnnxImporter.graph(from: proto, directory: directory, limits: options.limits)
        for i in graph.inputs {
            guard i.dtype == .float32 else {
                throw fail(.unsupported, "graph input '\(i.name)' has type \(i.typeName); drsn accepts FLOAT inputs only")
            }
        }
        var importedOps: [String: Int] = [:]
        for n in proto.graph?.nodes ?? [] { importedOps[n.opType, default: 0] += 1 }
        let parameterCount = graph.constants.values.reduce(0) { $0 + ($1.dtype.isFloatingPoint ? $1.count : 0) }
        let applied = try GraphOptimizer.run(&graph, maxValueElements: options.maxValueElements)
        var optimizedOps: [String: Int] = [:]
        for n in graph.nodes { optimizedOps[n.opType, default: 0] += 1 }
        let inputs = graph.inputs.map { info in
            TensorInfo(name: info.name, dtype: info.dtype, dims: info.dims?.map { d in
                if case .fixed(let n) = d { return n }
                return -1
            })
        }
        let weights = PackedWeights()
        let outputs = try probeOutputs(graph, inputs, options: options, weights: weights)
        return Loaded(graph: graph, inputs: inputs, outputs: outputs, appliedPasses: applied,
                      importedOperatorCounts: importedOps, optimizedOperatorCounts: optimizedOps,
                      parameterCount: parameterCount, opset: graph.opset,
                      producer: proto.producerName + (proto.producerVersion.isEmpty ? "" : " " + proto.producerVersion),
                      packedWeights: weights)
    }

    /// Binds the graph to a few probe shapes (dynamic dimensions filled in) to validate it
    /// and to learn which output dimensions follow dynamic input dimensions. The first probe
    /// plan must fit `options.maxArenaBytes` (it runs on one thread: a lower bound of a run).
    static func probeOutputs(_ graph: Graph, _ inputs: [TensorInfo], options: Options,
                             weights: PackedWeights) throws(DRSNError) -> [TensorInfo] {
        var outputs = graph.outputs.map { TensorInfo(name: $0.name, dtype: $0.dtype, dims: nil) }
        var probes: [ExecutionPlan] = []
        var firstError: DRSNError? = nil
        for k in 0..<probeBatches.count where probes.count < 2 {
            guard let shapes = probeShapes(inputs, probe: k) else { break }
            do throws(DRSNError) {
                let plan = try makePlan(graph, shapes, options: options, weights: weights)
                if probes.isEmpty { try WorkingMemoryLimit.check(plan, shapes: shapes, limit: options.maxArenaBytes) }
                probes.append(plan)
            } catch {
                // A probe size may not fit the model (e.g. a Reshape needing an even batch):
                // shape errors try the next probe, anything else fails the load.
                guard error.status == .shapeMismatch else { throw error }
                if firstError == nil { firstError = error }
            }
            if probeShapes(inputs, probe: 1) == shapes { break }  // nothing is dynamic
        }
        if probes.isEmpty, let firstError, probeShapes(inputs, probe: 0) != nil { throw firstError }
        if let p1 = probes.first {
            var dims = p1.outputShapes
            if probes.count > 1 {
                let p2 = probes[1]
                for j in 0..<dims.count {
                    if dims[j].count != p2.outputShapes[j].count { continue }
                    for d in 0..<dims[j].count where dims[j][d] != p2.outputShapes[j][d] { dims[j][d] = -1 }
                }
            }
            for j in 0..<outputs.count {
                outputs[j].dims = dims[j]
                outputs[j].dtype = p1.outputTypes[j]
            }
        }
        return outputs
    }

    /// Probe values for a dynamic leading (batch) dimension and for other dynamic dimensions.
    static let probeBatches = [1, 2, 3, 4]
    static let probeLengths = [64, 96, 128, 160]

    /// Concrete input shapes for probe `k`; nil when some input declares no shape.
    static func probeShapes(_ inputs: [TensorInfo], probe k: Int) -> [[Int]]? {
        var shapes: [[Int]] = []
        for info in inputs {
            guard let dims = info.dims else { return nil }
            shapes.append(dims.enumerated().map { i, d in d >= 0 ? d : (i == 0 ? probeBatches[k] : probeLengths[k]) })
        }
        return shapes
    }

    /// Binds the graph to `shapes` and builds its plan.
    static func makePlan(_ graph: Graph, _ shapes: [[Int]], threads: Int = 1, options: Options,
                         weights: PackedWeights) throws(DRSNError) -> ExecutionPlan {
        try ExecutionPlan(binding: try Binder.bind(graph, inputShapes: shapes, maxValueElements: options.maxValueElements),
                          threads: threads, weights: weights)
    }

}
