#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whole-file reads and atomic writes for run files (checkpoints, weights, reports): a write
/// goes to a temporary file in the same directory, is flushed to disk, then renamed over the
/// target, so a reader (or a crash) sees the old file or the new one, never half of one.
public enum AtomicFile {
    /// Writes `bytes` to `path` atomically.
    public static func write(_ bytes: [UInt8], to path: String) throws(FileError) {
        let writer = try AtomicFileWriter(path: path)
        try writer.append(bytes)
        try writer.commit()
    }

    /// The bytes of the file at `path`; `what` names the kind of file in errors.
    public static func read(_ path: String, what: String) throws(FileError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            let reason = errno == ENOENT ? "no such \(what) file" : lastErrorText()
            throw .unreadable(path: path, reason: reason)
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .unreadable(path: path, reason: lastErrorText()) }
        let size = Int(status.st_size)
        guard size > 0 else { throw .unreadable(path: path, reason: "the \(what) file is empty") }
        var failure: String?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var done = 0
            while done < size {
                let result = posixRead(descriptor, buffer.baseAddress.map { $0 + done }, size - done)
                if result < 0, errno == EINTR { continue }
                if result <= 0 {
                    failure = result < 0 ? lastErrorText() : "the file shrank while it was read"
                    break
                }
                done += result
            }
            if failure != nil { done = 0 }
            initialized = done
        }
        if let failure { throw .unreadable(path: path, reason: failure) }
        return bytes
    }

    public static func lastErrorText() -> String { String(cString: strerror(errno)) }
}

func posixWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
        Glibc.write(descriptor, buffer, count)
    #elseif canImport(Musl)
        Musl.write(descriptor, buffer, count)
    #else
        Darwin.write(descriptor, buffer, count)
    #endif
}

private func posixRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
        Glibc.read(descriptor, buffer, count)
    #elseif canImport(Musl)
        Musl.read(descriptor, buffer, count)
    #else
        Darwin.read(descriptor, buffer, count)
    #endif
}
