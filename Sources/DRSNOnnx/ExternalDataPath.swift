import Glibc

/// Where an external-data `location` of a tensor may point: only to a file inside the
/// model's folder, after every symbolic link is resolved.
///
/// The lexical checks (`location` relative, no `..` component, no NUL) come first, in
/// `TensorProto.decoded`; this resolves the rest, which text alone cannot see: a
/// `location` that is, or passes through, a symbolic link to somewhere outside the folder.
enum ExternalDataPath {
    /// Opens the file `location` names relative to `directory`, refusing any that is not
    /// inside it once resolved.
    ///
    /// - `directory` and `directory/location` are resolved with `realpath` (all symbolic
    ///   links, `.` and repeated slashes); the file must lie inside the resolved folder,
    ///   else `.malformed` naming the location, what it resolves to and the folder.
    /// - A missing file or folder, or one that cannot be resolved, is `.io` naming the path
    ///   (as opening it would report).
    /// - The file is opened by its resolved path, and the opened descriptor is checked
    ///   again through /proc/self/fd (when /proc is mounted), so that swapping a component
    ///   for a symbolic link between the check and the open is caught too.
    static func open(directory: String, location: String, tensor: String) throws(OnnxError) -> OpenFile {
        let folder = try resolve(directory)
        let joined = directory.hasSuffix("/") ? directory + location : directory + "/" + location
        let target = try resolve(joined)
        try requireInside(target, folder: folder, location: location, tensor: tensor)
        let file = try OpenFile(target)
        if let opened = openedPath(file.fd) {
            do throws(OnnxError) {
                try requireInside(opened, folder: folder, location: location, tensor: tensor)
            } catch {
                file.close()
                throw error
            }
        }
        return file
    }

    /// `realpath(path)`, or `.io` naming the path and the reason.
    static func resolve(_ path: String) throws(OnnxError) -> String {
        guard let resolved = realpath(path, nil) else {
            throw OnnxError(.io, "cannot open \(path): \(OpenFile.describe(errno))")
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Throws unless `path` (resolved) is `folder` (resolved) or lies below it. The folder
    /// itself passes: reading it then fails as a directory (`.io`), like any folder inside.
    static func requireInside(_ path: String, folder: String, location: String, tensor: String) throws(OnnxError) {
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        guard path == folder || path.hasPrefix(prefix) else {
            throw OnnxError(.malformed, "tensor '\(tensor)': external data location '\(location)' resolves to '\(path)', which is not inside the model's folder '\(folder)' (symbolic links are followed; external data must stay in the model's folder)")
        }
    }

    /// The path the kernel reports for an open descriptor, or nil when /proc is unavailable.
    static func openedPath(_ fd: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/fd/\(fd)", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
