/// Builds little-endian binary files (vocabularies, later model files) in memory.
public struct ByteWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    /// An empty writer.
    public init() {}

    /// Appends raw bytes.
    public mutating func append(_ raw: some Collection<UInt8>) { bytes.append(contentsOf: raw) }
    /// Appends a UInt32, little-endian.
    public mutating func append(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    /// Appends a UInt64, little-endian.
    public mutating func append(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    /// Appends a length-prefixed (UInt32) UTF-8 string.
    public mutating func append(string: String) {
        append(UInt32(string.utf8.count))
        bytes.append(contentsOf: string.utf8)
    }
    /// Appends Floats as little-endian IEEE-754 bit patterns (weights, optimizer state).
    public mutating func append(floats: some Collection<Float>) {
        #if _endian(little)
            let copied: Void? = floats.withContiguousStorageIfAvailable { bytes.append(contentsOf: UnsafeRawBufferPointer($0)) }
            if copied != nil { return }
        #endif
        bytes.reserveCapacity(bytes.count + 4 * floats.count)
        for value in floats { append(value.bitPattern) }
    }
    /// Appends UInt64 words, little-endian.
    public mutating func append(words: [UInt64]) {
        for word in words { append(word) }
    }
    /// Appends the XXH64 of everything written so far: the file's trailer.
    public mutating func appendChecksum() { append(XXHash64.hash(bytes)) }
}

/// Reads what `ByteWriter` wrote, with every read bounds-checked: a truncated or corrupt file
/// becomes an error naming the file, never a crash.
public struct ByteReader {
    private let bytes: [UInt8]
    private let path: String
    /// The read position.
    public private(set) var offset = 0

    /// A reader over `bytes` read from `path` (named in errors).
    public init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
    }

    /// Bytes left to read.
    public var remaining: Int { bytes.count - offset }

    private mutating func take(_ count: Int) throws(DataError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else {
            throw .badDataset(
                path: path, reason: "truncated or corrupt: needed \(count) bytes at offset \(offset), the file has \(remaining) left")
        }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    /// An error naming the file, for a value that is readable but wrong.
    public func corrupt(_ reason: String) -> DataError { .badDataset(path: path, reason: reason) }

    /// Reads raw bytes.
    public mutating func bytes(_ count: Int) throws(DataError) -> ArraySlice<UInt8> { try take(count) }

    /// Reads a little-endian UInt32.
    public mutating func uint32() throws(DataError) -> UInt32 {
        try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Reads a little-endian UInt64.
    public mutating func uint64() throws(DataError) -> UInt64 {
        try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Reads `count` little-endian Floats.
    public mutating func floats(_ count: Int) throws(DataError) -> [Float] {
        guard count >= 0, count <= remaining / 4 else {
            _ = try take(max(0, count) * 4)
            return []
        }
        let slice = try take(count * 4)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            slice.withUnsafeBytes { raw in
                for i in 0..<count {
                    buffer[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
            }
            initialized = count
        }
    }

    /// Reads `count` little-endian UInt64 words.
    public mutating func words(_ count: Int) throws(DataError) -> [UInt64] {
        guard count >= 0, count <= remaining / 8 else {
            _ = try take(max(0, count) * 8)
            return []
        }
        var words: [UInt64] = []
        words.reserveCapacity(count)
        for _ in 0..<count { words.append(try uint64()) }
        return words
    }

    /// Reads a length-prefixed UTF-8 string.
    public mutating func string() throws(DataError) -> String {
        let length = Int(try uint32())
        return String(decoding: try take(length), as: UTF8.self)
    }

    /// Checks the XXH64 trailer over everything before it; call at the start.
    public func verifyChecksumTrailer() throws(DataError) {
        guard bytes.count >= 8 else { throw .badDataset(path: path, reason: "truncated: too short to hold a checksum") }
        let body = Array(bytes[0..<bytes.count - 8])
        let stored = bytes[(bytes.count - 8)...].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard XXHash64.hash(body) == stored else {
            throw .badDataset(path: path, reason: "checksum mismatch: the file is corrupt or truncated")
        }
    }
}
