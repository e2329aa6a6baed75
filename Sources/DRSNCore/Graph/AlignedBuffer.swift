import Glibc

/// A heap block of `count` floats, 64-byte aligned, freed on deinit. Shared by reference
/// so that execution plans can hold raw pointers into it for as long as they hold it.
public final class AlignedBuffer: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    /// Allocates `count` floats (at least one), zero-filled. Returns nil if the memory is not available.
    public init?(count: Int) {
        guard count >= 0, count <= Int.max / 8 else { return nil }
        let bytes = max(count, 1) &* MemoryLayout<Float>.stride
        var raw: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else { return nil }
        memset(raw, 0, bytes)
        self.pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
    }

    convenience init?(copying values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress, !src.isEmpty { pointer.update(from: base, count: src.count) }
        }
    }

    deinit { free(pointer) }

    var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
