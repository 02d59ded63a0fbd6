/// One categorical field's vocabulary: the values kept at prepare time and their ids.
///
/// Id 0 is the field's OOV id (values rarer than `--min-count` in training rows, and values
/// never seen, at prediction time too); id 1 is "missing" (an empty field); kept values have
/// ids from 2 in order of decreasing training frequency. Models size a field's table by
/// `cardinality`.
public struct Vocabulary: Sendable, Equatable {
    /// The id of out-of-vocabulary values.
    public static let oovID: UInt32 = 0
    /// The id of a missing (empty) value.
    public static let missingID: UInt32 = 1
    /// The id of the most frequent kept value.
    public static let firstValueID: UInt32 = 2

    /// The field's name.
    public let name: String
    /// The kept values' bytes, concatenated.
    public let valueBytes: [UInt8]
    /// End offset of each kept value in `valueBytes`.
    let valueEnds: [Int]
    /// Training-row occurrences of each kept value.
    public let counts: [UInt64]
    /// Training rows where the field was missing.
    public let missingCount: UInt64
    private let lookup: KeyTable

    /// Creates a vocabulary from its kept values.
    init(name: String, valueBytes: [UInt8], valueEnds: [Int], counts: [UInt64], missingCount: UInt64) {
        self.name = name
        self.valueBytes = valueBytes
        self.valueEnds = valueEnds
        self.counts = counts
        self.missingCount = missingCount
        var table = KeyTable(capacity: valueEnds.count)
        var start = 0
        for (index, end) in valueEnds.enumerated() {
            let key = valueBytes.withUnsafeBufferPointer { ParsedRows.key(of: $0.slice(start..<end)) }
            _ = table.value(for: key, inserting: Vocabulary.firstValueID + UInt32(index))
            start = end
        }
        lookup = table
    }

    /// Number of kept values.
    public var valueCount: Int { valueEnds.count }

    /// Rows of this field's embedding table: OOV, missing, and the kept values.
    public var cardinality: Int { valueEnds.count + Int(Vocabulary.firstValueID) }

    /// The kept value with rank `index` (0 = most frequent), as bytes.
    public func valueBytes(at index: Int) -> ArraySlice<UInt8> {
        valueBytes[(index == 0 ? 0 : valueEnds[index - 1])..<valueEnds[index]]
    }

    /// The kept value with rank `index`, as text (invalid UTF-8 repaired).
    public func value(at index: Int) -> String {
        String(decoding: valueBytes(at: index), as: UTF8.self)
    }

    /// The id of a raw value: its id if kept, `missingID` if empty, otherwise `oovID`.
    public func id(of bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        guard !bytes.isEmpty else { return Vocabulary.missingID }
        return lookup.value(for: ParsedRows.key(of: bytes)) ?? Vocabulary.oovID
    }

    /// The id of a value whose key (`ParsedRows.key(of:)`) is `key`, where key 0 means missing:
    /// prediction maps parsed rows with the keys the reader already computed.
    @inline(__always)
    public func id(forKey key: UInt64) -> UInt32 {
        key == 0 ? Vocabulary.missingID : lookup.value(for: key) ?? Vocabulary.oovID
    }

    /// The id of a raw value given as text.
    public func id(of value: String) -> UInt32 {
        var text = value
        return text.withUTF8 { id(of: $0) }
    }

    /// Equality of contents.
    public static func == (a: Vocabulary, b: Vocabulary) -> Bool {
        a.name == b.name && a.valueBytes == b.valueBytes && a.valueEnds == b.valueEnds
            && a.counts == b.counts && a.missingCount == b.missingCount
    }
}
