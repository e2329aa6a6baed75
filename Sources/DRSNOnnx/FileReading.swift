import Glibc

extension OnnxReader {
    /// Reads a whole file into memory.
    ///
    /// Uses open/fstat/read, retrying on EINTR and continuing after short reads. Rejects
    /// (`.io`) paths containing NUL, directories and other non-regular files; rejects
    /// (`.limitExceeded`) files larger than `limits.maxFileBytes`. Error messages name the
    /// path and the `strerror` text. If the file shrinks while being read, the bytes read
    /// up to end of file are returned; growth after `fstat` is ignored.
    public static func readFile(_ path: String, limits: OnnxLimits = OnnxLimits()) throws(OnnxError) -> [UInt8] {
        let file = try OpenFile(path)
        defer { file.close() }
        let size = try file.regularFileSize()
        guard size <= limits.maxFileBytes else {
            throw OnnxError(.limitExceeded, "\(path): file of \(size) bytes exceeds maxFileBytes \(limits.maxFileBytes)")
        }
        return try file.read(offset: nil, length: size, requireAll: false)
    }
}

/// A file descriptor opened read-only, with path-naming errors. Internal helper shared by
/// `readFile` and external tensor data.
struct OpenFile {
    let fd: Int32
    let path: String

    init(_ path: String) throws(OnnxError) {
        self.path = path
        guard !path.utf8.contains(0) else {
            throw OnnxError(.io, "cannot open \(path.debugDescription): path contains a NUL byte")
        }
        guard !path.isEmpty else {
            throw OnnxError(.io, "cannot open an empty path")
        }
        var descriptor: Int32 = -1
        // O_NONBLOCK: opening a FIFO (or a device) must not wait for a writer; such files
        // are then rejected by regularFileSize(). It has no effect on regular files.
        repeat {
            descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else {
            throw OnnxError(.io, "cannot open \(path): \(OpenFile.describe(errno))")
        }
        fd = descriptor
    }

    func close() {
        _ = Glibc.close(fd)
    }

    static func describe(_ code: Int32) -> String {
        if let text = strerror(code) { return String(cString: text) }
        return "errno \(code)"
    }

    /// Size of the file; throws unless it is a regular file.
    func regularFileSize() throws(OnnxError) -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw OnnxError(.io, "cannot stat \(path): \(OpenFile.describe(errno))")
        }
        let format = info.st_mode & 0o170000  // S_IFMT
        if format == 0o040000 {  // S_IFDIR
            throw OnnxError(.io, "cannot read \(path): \(OpenFile.describe(EISDIR))")
        }
        guard format == 0o100000 else {  // S_IFREG
            throw OnnxError(.io, "cannot read \(path): not a regular file")
        }
        return Int(info.st_size)
    }

    /// Reads `length` bytes starting at `offset` (pread) or at the current position
    /// (read, when `offset` is nil). Retries EINTR and short reads. At end of file,
    /// returns what was read, or throws when `requireAll`.
    func read(offset: Int?, length: Int, requireAll: Bool) throws(OnnxError) -> [UInt8] {
        var failure: OnnxError? = nil
        let bytes = [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
            var done = 0
            while done < length {
                guard let base = buffer.baseAddress else { break }
                let chunk = min(length - done, 1 << 30)
                let got: Int
                if let offset {
                    got = pread(fd, base + done, chunk, off_t(offset + done))
                } else {
                    got = Glibc.read(fd, base + done, chunk)
                }
                if got < 0 {
                    let code = errno
                    if code == EINTR { continue }
                    failure = OnnxError(.io, "cannot read \(path): \(OpenFile.describe(code))")
                    break
                }
                if got == 0 { break }
                done += got
            }
            initialized = done
        }
        if let failure { throw failure }
        if requireAll && bytes.count < length {
            throw OnnxError(.io, "cannot read \(path): end of file after \(bytes.count) of \(length) bytes")
        }
        return bytes
    }
}
