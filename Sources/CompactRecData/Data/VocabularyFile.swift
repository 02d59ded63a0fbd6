#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `vocabulary.bin`: every categorical field's kept values, so prediction maps raw values to
/// the same ids as training. Layout in docs/FORMATS.md: magic `CRVOCABS`, version, fields
/// (name, missing count, values with training counts), XXH64 trailer.
public enum VocabularyFile {
    static let magic = Array("CRVOCABS".utf8)
    static let version: UInt32 = 1

    /// The file's bytes for `vocabularies`.
    public static func encode(_ vocabularies: [Vocabulary]) -> [UInt8] {
        var writer = ByteWriter()
        writer.append(magic)
        writer.append(version)
        writer.append(UInt32(vocabularies.count))
        for vocabulary in vocabularies {
            writer.append(string: vocabulary.name)
            writer.append(vocabulary.missingCount)
            writer.append(UInt64(vocabulary.valueCount))
            for index in 0..<vocabulary.valueCount {
                let value = vocabulary.valueBytes(at: index)
                writer.append(vocabulary.counts[index])
                writer.append(UInt32(value.count))
                writer.append(value)
            }
        }
        writer.appendChecksum()
        return writer.bytes
    }

    /// Decodes a vocabulary file, failing with a specific message if it is corrupt, truncated
    /// or of a newer version.
    public static func decode(_ bytes: [UInt8], path: String) throws(DataError) -> [Vocabulary] {
        var reader = ByteReader(bytes: bytes, path: path)
        guard bytes.count >= 16, Array(try reader.bytes(8)) == magic else {
            throw .badDataset(path: path, reason: "not a CompactRec vocabulary file (bad magic)")
        }
        let fileVersion = try reader.uint32()
        guard fileVersion <= version else {
            throw .badDataset(
                path: path,
                reason: "vocabulary format version \(fileVersion) is newer than this compactrec reads (\(version)); upgrade compactrec")
        }
        try reader.verifyChecksumTrailer()
        let fieldCount = Int(try reader.uint32())
        var vocabularies: [Vocabulary] = []
        for _ in 0..<fieldCount {
            let name = try reader.string()
            let missingCount = try reader.uint64()
            let valueCount = Int(try reader.uint64())
            guard valueCount <= reader.remaining / 12 else {
                throw .badDataset(path: path, reason: "corrupt: field \(name) claims \(valueCount) values")
            }
            var values: [UInt8] = []
            var ends: [Int] = []
            var counts: [UInt64] = []
            ends.reserveCapacity(valueCount)
            counts.reserveCapacity(valueCount)
            for _ in 0..<valueCount {
                counts.append(try reader.uint64())
                let length = Int(try reader.uint32())
                values.append(contentsOf: try reader.bytes(length))
                ends.append(values.count)
            }
            vocabularies.append(Vocabulary(name: name, valueBytes: values, valueEnds: ends, counts: counts, missingCount: missingCount))
        }
        return vocabularies
    }

    /// Reads `path`.
    public static func read(path: String) throws(DataError) -> [Vocabulary] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .badDataset(path: path, reason: "missing or unreadable; the dataset is incomplete, prepare it again")
        }
        return try decode([UInt8](data), path: path)
    }
}
