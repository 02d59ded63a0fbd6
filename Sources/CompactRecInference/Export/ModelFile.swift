import CompactRec
import CompactRecData

/// A trained model ready to ship (`.crmodel`): one file holding the schema, the preprocessing
/// (vocabularies with their OOV rule, the dense transform), the model configuration and the
/// inference-form weights, so that `predict` and `serve` turn raw rows into click
/// probabilities exactly as training saw them.
///
/// Layout (docs/FORMATS.md): magic `CRMODELF`, UInt32 version, UInt32 zero, UInt64 length of
/// the whole file, a length-prefixed JSON header (`ModelFileHeader`), the vocabularies as a
/// length-prefixed `vocabulary.bin`, the weights, and an XXH64 of every byte before it. The
/// length tells a truncated file from a corrupt one.
public struct ModelFile: Sendable {
    /// The file's magic string.
    static let magic = Array("CRMODELF".utf8)
    /// The format version this build writes (and the newest it reads): 3 stores the embedding
    /// method as a value (so a model file may hold any method's inference form, the
    /// quotient-remainder trick's two tables per field included); 2 names every table and
    /// parameter; version 1 files (values in the model's order) are still read.
    public static let version: UInt32 = 3
    /// Bytes before the JSON header: magic, version, reserved word, length.
    static let prefixSize = 24

    /// What the model is and how rows become its inputs.
    public var header: ModelFileHeader
    /// The vocabularies of the categorical and multi-valued fields, in schema order.
    public var vocabularies: [Vocabulary]
    /// The inference-form weights, in the order of the model `header.model` describes.
    public var weights: ModelWeights

    /// A model file of these parts.
    public init(header: ModelFileHeader, vocabularies: [Vocabulary], weights: ModelWeights) {
        self.header = header
        self.vocabularies = vocabularies
        self.weights = weights
    }

    /// Byte counts of the file's sections (what `GET /v1/model` and the size tests report).
    public struct Sections: Sendable, Equatable, Codable {
        /// The JSON header.
        public var header: Int
        /// The embedded vocabulary file.
        public var vocabularies: Int
        /// The weights.
        public var weights: Int
        /// The whole file, with the prefix and the checksum.
        public var total: Int
    }

    /// The sizes of the file's sections, counted without writing it.
    public func sections() throws(ModelFileError) -> Sections {
        let headerBytes: Int
        do { headerBytes = 4 + (try jsonText(header)).utf8.count } catch {
            throw .writeFailed(path: "(model header)", reason: error.localizedDescription)
        }
        let vocabularyBytes =
            8 + 16 + 8
            + vocabularies.reduce(0) { (total: Int, vocabulary: Vocabulary) -> Int in
                total + 4 + vocabulary.name.utf8.count + 16 + 12 * vocabulary.valueCount + vocabulary.valueBytes.count
            }
        let nameBytes = ((weights.tableNames ?? []) + (weights.denseNames ?? [])).reduce(0) { $0 + 4 + $1.utf8.count }
        let weightBytes =
            24 + nameBytes + weights.tables.reduce(0) { $0 + 16 + 4 * $1.values.count }
            + weights.dense.reduce(0) { $0 + 16 + 4 * $1.count } + weights.states.reduce(0) { $0 + 8 + 8 * $1.count }
        return Sections(
            header: headerBytes, vocabularies: vocabularyBytes, weights: weightBytes,
            total: ModelFile.prefixSize + headerBytes + vocabularyBytes + weightBytes + 8)
    }

    /// The file's bytes and the sizes of its sections.
    public func encoded() throws(ModelFileError) -> (bytes: [UInt8], sections: Sections) {
        let headerText: String
        do { headerText = try jsonText(header) } catch { throw .writeFailed(path: "(model header)", reason: error.localizedDescription) }
        let vocabularyBytes = VocabularyFile.encode(vocabularies)
        var body = ByteWriter()
        weights.encode(into: &body)
        var writer = ByteWriter()
        writer.append(ModelFile.magic)
        writer.append(ModelFile.version)
        writer.append(UInt32(0))
        let total = ModelFile.prefixSize + 4 + headerText.utf8.count + 8 + vocabularyBytes.count + body.bytes.count + 8
        writer.append(UInt64(total))
        writer.append(string: headerText)
        writer.append(UInt64(vocabularyBytes.count))
        writer.append(vocabularyBytes)
        writer.append(body.bytes)
        writer.appendChecksum()
        let sections = Sections(
            header: 4 + headerText.utf8.count, vocabularies: 8 + vocabularyBytes.count,
            weights: body.bytes.count, total: writer.bytes.count)
        return (writer.bytes, sections)
    }

    /// Writes the file to `path` atomically; returns its section sizes.
    @discardableResult
    public func write(to path: String) throws(ModelFileError) -> Sections {
        let (bytes, sections) = try encoded()
        do { try AtomicFile.write(bytes, to: path) } catch {
            throw .writeFailed(path: path, reason: error.localizedDescription)
        }
        return sections
    }

    /// Reads and checks the model file at `path`.
    public static func read(from path: String) throws(ModelFileError) -> ModelFile {
        let bytes: [UInt8]
        do { bytes = try AtomicFile.read(path, what: "model") } catch { throw .unreadable(path: path, reason: error.reason) }
        return try decode(bytes, path: path)
    }

    /// Decodes a model file's bytes; `path` names it in errors. A file of another kind, of a
    /// newer version, shorter than its recorded length (truncated) or whose checksum or contents
    /// do not match (corrupt) is refused, each with its own error.
    public static func decode(_ bytes: [UInt8], path: String) throws(ModelFileError) -> ModelFile {
        try checkPrefix(bytes, path: path)
        var reader = ByteReader(bytes: bytes, path: path)
        do throws(DataError) {
            let fileVersion = bytes[8..<12].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            _ = try reader.bytes(prefixSize)
            try reader.verifyChecksumTrailer()
            let header: ModelFileHeader = try decodeJSON(try reader.string(), path: path)
            let vocabularyLength = try reader.count()
            let vocabularies = try VocabularyFile.decode(Array(try reader.bytes(vocabularyLength)), path: path)
            let weights = try ModelWeights.decode(from: &reader, named: fileVersion >= 2)
            guard reader.remaining == 8 else { throw reader.corrupt("\(reader.remaining - 8) unread bytes after the weights") }
            guard header.format == "compactrec-model" else { throw reader.corrupt("its header says it is a \(header.format) file") }
            let file = ModelFile(header: header, vocabularies: vocabularies, weights: weights)
            try file.checkConsistency(path: path)
            return file
        } catch {
            throw .corrupt(path: path, reason: error.reason)
        }
    }

    /// Checks the magic, the version and the recorded length (before the checksum, so that a
    /// truncated or newer file is named as such rather than as corrupt).
    private static func checkPrefix(_ bytes: [UInt8], path: String) throws(ModelFileError) {
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else { throw .notAModelFile(path: path) }
        guard bytes.count >= prefixSize else { throw .truncated(path: path, bytes: bytes.count, expected: prefixSize) }
        func little<T: FixedWidthInteger>(_ offset: Int, as: T.Type) -> T {
            bytes[offset..<offset + MemoryLayout<T>.size].reversed().reduce(T(0)) { $0 << 8 | T($1) }
        }
        let fileVersion = little(8, as: UInt32.self)
        guard fileVersion <= version else { throw .newerVersion(path: path, version: fileVersion, supported: version) }
        let length = little(16, as: UInt64.self)
        guard length >= UInt64(bytes.count) else {
            throw .corrupt(path: path, reason: "it has \(UInt64(bytes.count) - length) bytes more than its header says")
        }
        guard length == UInt64(bytes.count) else { throw .truncated(path: path, bytes: bytes.count, expected: Int(clamping: length)) }
    }

    /// Whether the parts agree: one vocabulary per embedded field, with the cardinality the
    /// header records.
    func checkConsistency(path: String) throws(DataError) {
        let embedded = header.fields.filter { $0.kind != .dense }
        guard header.schema.fields.map(\.name) == header.fields.map(\.name) else {
            throw .badDataset(path: path, reason: "its field list does not match its schema")
        }
        guard vocabularies.count == embedded.count,
            zip(vocabularies, embedded).allSatisfy({ $0.name == $1.name && $0.cardinality == $1.cardinality })
        else {
            throw .badDataset(path: path, reason: "its vocabularies do not match its fields")
        }
    }
}
