#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file written in pieces and published atomically: bytes go to `PATH.tmp-PID` in the same
/// directory, and `commit()` flushes them to disk and renames the file over `PATH`. A writer
/// that is dropped without `commit()` (an error, an interrupted run) removes its temporary
/// file, so a reader sees the old file or the complete new one, never part of one.
///
/// For outputs too large to hold in memory (`predict`'s scores); `AtomicFile.write` is the
/// one-call form.
public final class AtomicFileWriter {
    /// The file being written.
    public let path: String
    private let temporary: String
    private var descriptor: Int32
    private var buffer: [UInt8] = []
    private let bufferLimit = 1 << 20

    /// Opens `PATH.tmp-PID` for writing.
    public init(path: String) throws(FileError) {
        self.path = path
        temporary = path + ".tmp-\(getpid())"
        descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw .writeFailed(path: path, reason: AtomicFile.lastErrorText()) }
        buffer.reserveCapacity(bufferLimit)
    }

    deinit {
        if descriptor >= 0 {
            close(descriptor)
            unlink(temporary)
        }
    }

    /// Appends `bytes` (small pieces are buffered, large ones written at once).
    public func append(_ bytes: [UInt8]) throws(FileError) {
        if buffer.count + bytes.count > bufferLimit { try flush() }
        guard bytes.count < bufferLimit else {
            let failure = bytes.withUnsafeBytes { raw in Result { () throws(FileError) in try writeAll(raw) } }
            try failure.get()
            return
        }
        buffer.append(contentsOf: bytes)
    }

    /// Appends the UTF-8 bytes of `text`.
    public func append(text: String) throws(FileError) {
        if buffer.count + text.utf8.count > bufferLimit { try flush() }
        buffer.append(contentsOf: text.utf8)
    }

    /// Writes the rest, flushes it to disk and renames the file over `path`.
    public func commit() throws(FileError) {
        try flush()
        var failure: String?
        if fsync(descriptor) != 0 { failure = AtomicFile.lastErrorText() }
        if close(descriptor) != 0, failure == nil { failure = AtomicFile.lastErrorText() }
        descriptor = -1
        if failure == nil, rename(temporary, path) != 0 { failure = AtomicFile.lastErrorText() }
        if let failure {
            unlink(temporary)
            throw .writeFailed(path: path, reason: failure)
        }
    }

    private func flush() throws(FileError) {
        defer { buffer.removeAll(keepingCapacity: true) }
        let result = buffer.withUnsafeBytes { raw in Result { () throws(FileError) in try writeAll(raw) } }
        try result.get()
    }

    private func writeAll(_ raw: UnsafeRawBufferPointer) throws(FileError) {
        var written = 0
        while written < raw.count {
            let result = posixWrite(descriptor, raw.baseAddress.map { $0 + written }, raw.count - written)
            if result < 0 {
                if errno == EINTR { continue }
                throw .writeFailed(path: path, reason: AtomicFile.lastErrorText())
            }
            written += result
        }
    }
}
