/// What introspection reports about one fused shrinkage unit for given input shapes.
public struct ShrinkageUnitInfo: Sendable {
    /// Thresholds per sample: the channel count for channel-wise units (RSBU-CW), 1 for
    /// channel-shared units (RSBU-CS).
    public let thresholdsPerSample: Int
    /// Features (channels x positions) the unit thresholds per sample.
    public let featuresPerSample: Int
    /// False when the threshold is a constant shared by every sample.
    let tauIsPerSample: Bool

    init(_ unit: ShrinkageFusion.Unit) {
        let batch = max(unit.batch, 1)
        if case .value = unit.tau, unit.tauSize % batch == 0 {
            thresholdsPerSample = unit.tauSize / batch
            tauIsPerSample = true
        } else {
            thresholdsPerSample = unit.tauSize
            tauIsPerSample = false
        }
        featuresPerSample = unit.planes * unit.planeSize / batch
    }
}
