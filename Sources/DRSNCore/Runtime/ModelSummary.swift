/// A JSON description of a loaded model for tools (`drsn inspect`): inputs, outputs,
/// operator counts before and after optimisation, parameters, FLOPs per sample, applied
/// passes and fused shrinkage units, measured on the plan for batch 1.
extension Model {
    public func summaryJSON() -> String {
        func str(_ s: String) -> String {
            var out = "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                default:
                    if u.value < 0x20 { out += "\\u00" + (u.value < 0x10 ? "0" : "") + String(u.value, radix: 16) } else { out.unicodeScalars.append(u) }
                }
            }
            return out + "\""
        }
        func counts(_ c: [String: Int]) -> String {
            "{" + c.sorted { $0.key < $1.key }.map { "\(str($0.key)): \($0.value)" }.joined(separator: ", ") + "}"
        }
        func infos(_ list: [TensorInfo]) -> String {
            "[" + list.map { i in
                let dims = i.dims.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" } ?? "null"
                return "{\"name\": \(str(i.name)), \"dtype\": \(str(i.dtype.description)), \"shape\": \(dims)}"
            }.joined(separator: ", ") + "]"
        }
        var flops = "null", steps = "null", units = "null", arena = "null", stepKinds = "null"
        var passes = appliedPasses
        if let shapes = ModelLoader.probeShapes(inputs, probe: 0), let plan = try? plan(for: shapes) {
            flops = String(plan.flops)
            steps = String(plan.steps.count)
            stepKinds = counts(plan.stepCounts)
            // The plan passes' own report (PlanPasses), those that changed the plan.
            passes += plan.passReport.filter { $0.count > 0 }.map(\.description)
            arena = String(plan.arenaSize * 4)
            units = "[" + plan.shrinkageUnits.map { u in
                let info = ShrinkageUnitInfo(u)
                return "{\"thresholds_per_sample\": \(info.thresholdsPerSample), \"features_per_sample\": \(info.featuresPerSample)}"
            }.joined(separator: ", ") + "]"
        }
        return """
        {"producer": \(str(producer)), "opset": \(opset), "inputs": \(infos(inputs)), "outputs": \(infos(outputs)), \
        "operators": \(counts(importedOperatorCounts)), "optimized_operators": \(counts(optimizedOperatorCounts)), \
        "parameters": \(parameterCount), "flops_per_sample": \(flops), "steps_per_run": \(steps), \
        "arena_bytes_batch1": \(arena), "plan_steps": \(stepKinds), "passes": [\(passes.map(str).joined(separator: ", "))], \
        "shrinkage_units": \(units), "threads": \(threads)}
        """
    }
}
