import CDRSNSupport

/// Constants of the C ABI that the core needs, read from the public header include/drsn.h
/// (imported through Sources/CDRSNSupport/include/drsn_abi.h), so that the header is their
/// one source. Status, dtype and limit codes stay Swift enums with raw values (Swift needs
/// literals there); DRSNCoreTests/HeaderConstantsTests checks those against the header.
public enum HeaderConstants {
    /// Largest dimension a caller may pass (`DRSN_MAX_DIMENSION`, 2^31): every dimension of a
    /// run-time input shape, and every window length, is between 1 and this.
    @inlinable public static var maxDimension: Int { Int(DRSN_MAX_DIMENSION) }

    /// Windows per internal batch of sliding-window inference unless the caller chooses
    /// (`DRSN_WINDOW_BATCH_DEFAULT`; `drsn_model_run_windows` with batch_size 0).
    @inlinable public static var defaultWindowBatch: Int { Int(DRSN_WINDOW_BATCH_DEFAULT) }

    /// The z-score epsilon of sliding-window inference unless the caller chooses
    /// (`DRSN_ZSCORE_EPSILON_DEFAULT`, 1e-8).
    @inlinable public static var defaultZScoreEpsilon: Float { Float(DRSN_ZSCORE_EPSILON_DEFAULT) }

    /// Largest thread count of a model's options (`DRSN_MAX_THREADS`, 256).
    @inlinable public static var maxThreads: Int { Int(DRSN_MAX_THREADS) }
}
