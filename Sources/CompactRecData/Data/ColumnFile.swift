#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// The element type of a column file.
public enum ColumnElement: UInt32, Sendable, Codable {
    /// Labels and split parts.
    case uint8 = 1
    /// Dense values.
    case float32 = 2
    /// Category ids.
    case uint32 = 3
    /// Offsets of multi-valued fields.
    case uint64 = 4

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .uint8: 1
        case .float32, .uint32: 4
        case .uint64: 8
        }
    }
}

/// The 64-byte header of every column file: magic `CRCOLUMN`, format version, element type,
/// rows and values per row, little-endian. The data follows at byte 64, so a memory map of the
/// file is aligned for SIMD loads.
struct ColumnHeader: Equatable {
    static let magic: [UInt8] = Array("CRCOLUMN".utf8)
    static let version: UInt32 = 1
    static let size = 64

    var element: ColumnElement
    var rows: Int
    var width: Int

    var bytes: [UInt8] {
        var out = ColumnHeader.magic
        withUnsafeBytes(of: ColumnHeader.version.littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: element.rawValue.littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(rows).littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(width).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: [UInt8](repeating: 0, count: ColumnHeader.size - out.count))
        return out
    }

    /// Reads a header, saying what is wrong with a file that is not a column file of this version.
    init(bytes: UnsafeRawBufferPointer, path: String) throws(DataError) {
        guard bytes.count >= ColumnHeader.size else {
            throw .badDataset(
                path: path, reason: "truncated column file (\(bytes.count) bytes, shorter than its header); prepare the dataset again")
        }
        guard Array(bytes[0..<8]) == ColumnHeader.magic else {
            throw .badDataset(path: path, reason: "not a CompactRec column file (bad magic); prepare the dataset again")
        }
        let version = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard version <= ColumnHeader.version else {
            throw .badDataset(
                path: path,
                reason:
                    "column file format version \(version) is newer than this compactrec reads (\(ColumnHeader.version)); upgrade compactrec"
            )
        }
        guard let element = ColumnElement(rawValue: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self))) else {
            throw .badDataset(path: path, reason: "unknown element type in column header; the file is corrupt")
        }
        self.element = element
        rows = Int(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
        width = Int(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
    }

    init(element: ColumnElement, rows: Int, width: Int) {
        self.element = element
        self.rows = rows
        self.width = width
    }
}

/// Writes a column file sequentially through a large buffer, checksumming the data.
final class ColumnWriter {
    let path: String
    let element: ColumnElement
    let width: Int
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private let bufferLimit = 4 << 20
    private(set) var checksum = XXHash64()
    private(set) var elementCount = 0

    init(path: String, element: ColumnElement, width: Int) throws(DataError) {
        self.path = path
        self.element = element
        self.width = width
        descriptor = open(path, O_CREAT | O_TRUNC | O_RDWR, 0o644)
        guard descriptor >= 0 else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
        buffer.reserveCapacity(bufferLimit + (1 << 16))
        buffer.append(contentsOf: ColumnHeader(element: element, rows: 0, width: width).bytes)
    }

    deinit { close(descriptor) }

    /// Appends raw little-endian elements.
    func append(_ bytes: UnsafeRawBufferPointer) throws(DataError) {
        checksum.update(bytes)
        elementCount += bytes.count / element.size
        if buffer.count + bytes.count > bufferLimit { try flush() }
        if bytes.count > bufferLimit {
            try writeAll(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    /// Appends the elements of an array.
    func append<T>(_ values: [T]) throws(DataError) {
        try values.withRawBytes { (raw) throws(DataError) in try append(raw) }
    }

    /// Appends a slice of an array.
    func append<T>(_ values: ArraySlice<T>) throws(DataError) {
        try values.withRawBytes { (raw) throws(DataError) in try append(raw) }
    }

    private func flush() throws(DataError) {
        try buffer.withRawBytes { (raw) throws(DataError) in try writeAll(raw) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(DataError) {
        guard let base = bytes.baseAddress else { return }
        var written = 0
        while written < bytes.count {
            let n = write(descriptor, base + written, bytes.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                throw .writeFailed(path: path, reason: String(cString: strerror(errno)))
            }
            written += n
        }
    }

    /// Flushes and writes the final header for `rows` rows (given explicitly: a column of
    /// width 0, such as dense values of a dataset without dense fields, still has rows); returns the data's XXH64. (No fsync: the dataset is
    /// published by renaming its directory, and `inspect --verify` catches a file that a power
    /// loss left incomplete.)
    func finish(rows: Int) throws(DataError) -> UInt64 {
        try flush()
        guard elementCount == rows * width else {
            throw .writeFailed(path: path, reason: "internal error: \(elementCount) values written for \(rows) rows of width \(width)")
        }
        let header = ColumnHeader(element: element, rows: rows, width: width).bytes
        let n = header.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        guard n == header.count else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
        return checksum.finalize()
    }
}

/// A column file mapped read-only into memory: training reads rows straight from the page
/// cache, so datasets larger than memory work and loading is instant.
public final class MappedColumn: @unchecked Sendable {
    /// The file.
    public let path: String
    /// Element type.
    public let element: ColumnElement
    /// Rows in the file.
    public let rows: Int
    /// Values per row.
    public let width: Int
    private let mapping: UnsafeMutableRawPointer?
    private let mappedBytes: Int

    /// Maps `path`, checking the header against what the dataset expects.
    init(path: String, element expected: ColumnElement, width expectedWidth: Int? = nil) throws(DataError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            if errno == ENOENT { throw .badDataset(path: path, reason: "missing; the dataset is incomplete, prepare it again") }
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        let size = Int(info.st_size)
        guard size >= ColumnHeader.size else {
            throw .badDataset(path: path, reason: "truncated column file (\(size) bytes); prepare the dataset again")
        }
        guard let pointer = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), pointer != MAP_FAILED else {
            throw .unreadable(path: path, reason: "cannot map: \(String(cString: strerror(errno)))")
        }
        mapping = pointer
        mappedBytes = size
        let header: ColumnHeader
        do {
            header = try ColumnHeader(bytes: UnsafeRawBufferPointer(start: pointer, count: size), path: path)
        } catch {
            munmap(pointer, size)
            throw error
        }
        element = header.element
        rows = header.rows
        width = header.width
        let expectedBytes = ColumnHeader.size + rows * width * element.size
        guard element == expected, expectedWidth.map({ $0 == width }) ?? true, size == expectedBytes else {
            munmap(pointer, size)
            throw .badDataset(
                path: path,
                reason: "column file does not match its header or the dataset (size \(size) bytes, expected \(expectedBytes)); "
                    + "the file is truncated or corrupt: prepare the dataset again")
        }
    }

    deinit {
        if let mapping { munmap(mapping, mappedBytes) }
    }

    /// The data section as raw bytes.
    var data: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: mapping.map { $0 + ColumnHeader.size }, count: mappedBytes - ColumnHeader.size)
    }

    /// The data as typed values (the caller picks the type matching `element`).
    public func values<T>(as type: T.Type) -> UnsafeBufferPointer<T> {
        let raw = data
        return raw.bindMemory(to: T.self)
    }

    /// XXH64 of the data section.
    public func checksum() -> UInt64 {
        var hasher = XXHash64()
        hasher.update(data)
        return hasher.finalize()
    }
}
