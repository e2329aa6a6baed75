/// The plan-level passes, in order, run on the bound steps of every plan
/// (`ExecutionPlan.init`) before memory planning and parallelization:
///
///  0. in plans with quantized steps only (the three int8 passes are not listed otherwise):
///     quantize-dequantize fusion (`QuantizationFusion`): a DequantizeLinear step right
///     after a QuantizeLinear computed in the QuantizeLinear's pass; QLinearConv steps that
///     quantize their float input and dequantize their output themselves;
///  1. shrinkage unit fusion (`ShrinkageFusion`): soft thresholding (+ the residual add)
///     into `shrink` steps, mean |r| into `absMean` steps;
///  2. threshold network fusion (`ThresholdNetworkFusion.run`);
///  3. batchnorm+relu fusion (`ThresholdNetworkFusion.fuseScaleShiftRelu`);
///  4. conv prologue fusion (`ConvFusionPass.fusePrologues`);
///  5. conv |r| mean fusion (`ConvFusionPass.fuseAbsMeans`);
///  6. weight packing (`ConvFusionPass.packWeights`, also without fusion);
///  7. dead step elimination (also without fusion).
///
/// Each reports what it did; the report travels with the plan, and the model summary
/// (`drsn inspect`) lists it as is.
enum PlanPasses {
    /// What one pass did.
    struct Entry: Sendable {
        let name: String
        /// Rewrites made (groups fused, weights packed, steps removed).
        let count: Int
        /// What one rewrite is, e.g. "units: FC -> ReLU -> FC -> sigmoid -> scale".
        let what: String
        var description: String { "\(name) (\(count) \(what))" }
    }

    struct Result {
        var steps: [Step]
        var shrinkageUnits: [ShrinkageFusion.Unit]
        var report: [Entry]
    }

    /// Runs the pipeline on `steps`. `protected`: values that must stay (graph inputs and
    /// outputs); `sizes`: element counts by value id; `isOutput`: per value id, whether it is
    /// a graph output; `fuse`: false runs only weight packing and dead step elimination.
    static func run(_ steps: [Step], protected: Set<Int>, sizes: [Int], isOutput: [Bool], fuse: Bool,
                    weights: PackedWeights) throws(DRSNError) -> Result {
        var steps = steps
        var report: [Entry] = []
        var units: [ShrinkageFusion.Unit] = []
        if fuse {
            if steps.contains(where: { $0.kernel is QuantizeLinearStep || $0.kernel is QLinearConvStep }) {
                report.append(Entry(name: "quantize-dequantize fusion",
                                    count: QuantizationFusion.fuseRoundTrips(&steps, protected: protected),
                                    what: "DequantizeLinear steps computed by the QuantizeLinear before them"))
                report.append(Entry(name: "int8 conv input fusion",
                                    count: QuantizationFusion.fuseConvInputs(&steps, protected: protected),
                                    what: "QLinearConv steps quantizing their float input themselves"))
                report.append(Entry(name: "int8 conv output fusion",
                                    count: QuantizationFusion.fuseConvOutputs(&steps, protected: protected),
                                    what: "DequantizeLinear steps computed by the QLinearConv before them"))
            }
            units = ShrinkageFusion.run(&steps, protected: protected, sizes: sizes)
            report.append(Entry(name: "shrinkage unit fusion", count: units.count,
                                what: "units: |r| mean, soft threshold + residual add"))
            report.append(Entry(name: "threshold network fusion", count: ThresholdNetworkFusion.run(&steps),
                                what: "units: FC -> ReLU -> FC -> sigmoid -> scale"))
            report.append(Entry(name: "batchnorm+relu fusion",
                                count: ThresholdNetworkFusion.fuseScaleShiftRelu(&steps, protected: protected),
                                what: "scale-shift steps applying ReLU in the same pass"))
            report.append(Entry(name: "conv prologue fusion",
                                count: ConvFusionPass.fusePrologues(&steps, protected: protected),
                                what: "BatchNorm -> ReLU steps applied by the convolutions reading them"))
            report.append(Entry(name: "conv |r| mean fusion", count: ConvFusionPass.fuseAbsMeans(&steps),
                                what: "means of |r| taken by the convolution producing r"))
        }
        report.append(Entry(name: "weight packing", count: try ConvFusionPass.packWeights(&steps, weights),
                            what: "convolutions reading weights packed once per model"))
        report.append(Entry(name: "dead step elimination", count: eliminateDeadSteps(&steps, isOutput: isOutput),
                            what: "steps removed"))
        return Result(steps: steps, shrinkageUnits: units, report: report)
    }

    /// Keeps the steps whose outputs reach a graph output; returns how many it removed.
    static func eliminateDeadSteps(_ steps: inout [Step], isOutput: [Bool]) -> Int {
        var needed = isOutput
        var live = [Bool](repeating: false, count: steps.count)
        for s in stride(from: steps.count - 1, through: 0, by: -1) where steps[s].outputs.contains(where: { needed[$0] }) {
            live[s] = true
            for case .value(let id) in steps[s].inputs { needed[id] = true }
        }
        let before = steps.count
        steps = steps.enumerated().filter { live[$0.offset] }.map(\.element)
        return before - steps.count
    }
}
