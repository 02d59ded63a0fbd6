/// Rows as a reader parsed them, before vocabularies: labels, raw dense values (NaN where
/// missing) and, per categorical value, a 64-bit key plus the value's bytes.
///
/// Readers fill one row at a time through `setLabel`, `setDense`, `setCategorical` and
/// `appendMultiValue`; the preparer opens and closes rows, so a row that fails to parse leaves
/// nothing behind. Buffers keep their capacity across `removeAll()`, so a reused `ParsedRows`
/// does not allocate per block.
public struct ParsedRows: Sendable {
    /// Number of dense fields per row.
    public let denseCount: Int
    /// Number of single-valued categorical fields per row.
    public let categoricalCount: Int
    /// Number of multi-valued fields per row.
    public let multiValuedCount: Int

    /// Rows completed so far.
    public private(set) var count = 0
    /// Labels, 0 or 1 (0 for unlabeled rows).
    public private(set) var labels: [UInt8] = []
    /// Raw dense values, row-major, NaN where missing.
    public private(set) var dense: [Float] = []
    /// Categorical value keys, row-major; 0 means missing.
    public private(set) var keys: [UInt64] = []
    /// Where each categorical value's bytes are in `arena`: offset << 24 | length.
    public private(set) var spans: [UInt64] = []
    /// Multi-valued keys per field, all rows concatenated.
    public private(set) var multiKeys: [[UInt64]]
    /// Spans of the multi-valued keys.
    public private(set) var multiSpans: [[UInt64]]
    /// End index into `multiKeys[f]` of each row's values.
    public private(set) var multiEnds: [[Int]]
    /// Value bytes.
    public private(set) var arena: [UInt8] = []

    private var rowArenaStart = 0

    /// Longest categorical value kept (longer values are an error: they are almost surely a
    /// broken row, and the span packs the length into 24 bits).
    public static let maximumValueLength = 65_535

    /// Creates an empty buffer for rows of the given shape.
    public init(denseCount: Int, categoricalCount: Int, multiValuedCount: Int = 0) {
        self.denseCount = denseCount
        self.categoricalCount = categoricalCount
        self.multiValuedCount = multiValuedCount
        multiKeys = Array(repeating: [], count: multiValuedCount)
        multiSpans = Array(repeating: [], count: multiValuedCount)
        multiEnds = Array(repeating: [], count: multiValuedCount)
    }

    /// Creates an empty buffer shaped for `schema`.
    public init(schema: Schema) {
        self.init(denseCount: schema.dense.count, categoricalCount: schema.categorical.count,
                  multiValuedCount: schema.multiValued.count)
    }

    /// Forgets all rows, keeping capacity.
    public mutating func removeAll() {
        count = 0
        labels.removeAll(keepingCapacity: true)
        dense.removeAll(keepingCapacity: true)
        keys.removeAll(keepingCapacity: true)
        spans.removeAll(keepingCapacity: true)
        arena.removeAll(keepingCapacity: true)
        for f in 0..<multiValuedCount {
            multiKeys[f].removeAll(keepingCapacity: true)
            multiSpans[f].removeAll(keepingCapacity: true)
            multiEnds[f].removeAll(keepingCapacity: true)
        }
        rowArenaStart = 0
    }

    // MARK: Building a row (the preparer opens and closes; readers set values)

    /// Opens a new row with every value missing and label 0.
    public mutating func beginRow() {
        rowArenaStart = arena.count
        labels.append(0)
        for _ in 0..<denseCount { dense.append(.nan) }
        for _ in 0..<categoricalCount {
            keys.append(0)
            spans.append(0)
        }
    }

    /// Completes the open row.
    public mutating func endRow() {
        for f in 0..<multiValuedCount { multiEnds[f].append(multiKeys[f].count) }
        count += 1
    }

    /// Discards the open row (it failed to parse).
    public mutating func abandonRow() {
        labels.removeLast()
        dense.removeLast(denseCount)
        keys.removeLast(categoricalCount)
        spans.removeLast(categoricalCount)
        arena.removeLast(arena.count - rowArenaStart)
        for f in 0..<multiValuedCount {
            let end = multiEnds[f].last ?? 0
            multiKeys[f].removeLast(multiKeys[f].count - end)
            multiSpans[f].removeLast(multiSpans[f].count - end)
        }
    }

    /// Sets the open row's label.
    @inline(__always)
    public mutating func setLabel(_ label: UInt8) {
        labels[count] = label
    }

    /// Sets dense field `index` of the open row.
    @inline(__always)
    public mutating func setDense(_ index: Int, _ value: Float) {
        dense[count * denseCount + index] = value
    }

    /// Sets categorical field `index` of the open row; empty bytes mean missing.
    @inline(__always)
    public mutating func setCategorical(_ index: Int, bytes: UnsafeBufferPointer<UInt8>) throws(RowProblem) {
        guard !bytes.isEmpty else { return }
        let (key, span) = try store(bytes)
        keys[count * categoricalCount + index] = key
        spans[count * categoricalCount + index] = span
    }

    /// Sets categorical field `index` of the open row from a derived string (e.g. Avazu's weekday).
    public mutating func setCategorical(_ index: Int, string: String) throws(RowProblem) {
        var text = string
        var problem: RowProblem?
        text.withUTF8 { utf8 in
            do throws(RowProblem) { try setCategorical(index, bytes: utf8) } catch { problem = error }
        }
        if let problem { throw problem }
    }

    /// Appends one value to multi-valued field `index` of the open row.
    public mutating func appendMultiValue(_ index: Int, bytes: UnsafeBufferPointer<UInt8>) throws(RowProblem) {
        guard !bytes.isEmpty else { return }
        let (key, span) = try store(bytes)
        multiKeys[index].append(key)
        multiSpans[index].append(span)
    }

    @inline(__always)
    private mutating func store(_ bytes: UnsafeBufferPointer<UInt8>) throws(RowProblem) -> (UInt64, UInt64) {
        guard bytes.count <= ParsedRows.maximumValueLength else {
            throw RowProblem(kind: "value too long",
                             detail: "a categorical value is \(bytes.count) bytes long (at most \(ParsedRows.maximumValueLength))")
        }
        let offset = arena.count
        arena.append(contentsOf: bytes)
        return (ParsedRows.key(of: bytes), UInt64(offset) << 24 | UInt64(bytes.count))
    }

    /// The key of a categorical value: XXH64 of its bytes, never 0 (0 marks missing).
    @inline(__always)
    public static func key(of bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        guard let base = bytes.baseAddress else { return 1 }
        let h = XXHash64.hash(UnsafeRawPointer(base), count: bytes.count)
        return h == 0 ? 1 : h
    }

    /// The key of a categorical value given as a string.
    public static func key(of string: String) -> UInt64 {
        var text = string
        return text.withUTF8 { key(of: $0) }
    }

    /// Applies the dense transform to every value in place (missing values become
    /// `missingValue`): done on the parsing threads, where it is free.
    public mutating func transformDense(_ transform: DenseTransform, missingValue: Float) {
        for i in dense.indices { dense[i] = transform.apply(dense[i], missingValue: missingValue) }
    }

    // MARK: Reading rows back

    /// The bytes of the value whose span is `span`.
    public func valueBytes(span: UInt64) -> ArraySlice<UInt8> {
        let offset = Int(span >> 24)
        return arena[offset..<offset + Int(span & 0xFF_FFFF)]
    }

    /// Row `index` decoded into plain values (for tests, inspection and prediction).
    public func row(_ index: Int) -> RawRow {
        let denseValues = Array(dense[index * denseCount..<(index + 1) * denseCount])
        var categorical: [String?] = []
        for f in 0..<categoricalCount {
            let i = index * categoricalCount + f
            categorical.append(keys[i] == 0 ? nil : String(decoding: valueBytes(span: spans[i]), as: UTF8.self))
        }
        var multi: [[String]] = []
        for f in 0..<multiValuedCount {
            let start = index == 0 ? 0 : multiEnds[f][index - 1]
            let end = multiEnds[f][index]
            multi.append((start..<end).map { String(decoding: valueBytes(span: multiSpans[f][$0]), as: UTF8.self) })
        }
        return RawRow(label: labels[index], dense: denseValues, categorical: categorical, multiValued: multi)
    }
}

/// One source row in plain values: what a reader understood of it.
public struct RawRow: Sendable, Equatable {
    /// 0 or 1.
    public var label: UInt8
    /// Raw dense values (before the transform); NaN where missing.
    public var dense: [Float]
    /// Categorical values; nil where missing.
    public var categorical: [String?]
    /// Multi-valued fields' values.
    public var multiValued: [[String]]

    /// Creates a row.
    public init(label: UInt8, dense: [Float], categorical: [String?], multiValued: [[String]] = []) {
        self.label = label
        self.dense = dense
        self.categorical = categorical
        self.multiValued = multiValued
    }

    /// Equality that treats NaN dense values (missing) as equal.
    public static func == (a: RawRow, b: RawRow) -> Bool {
        a.label == b.label && a.categorical == b.categorical && a.multiValued == b.multiValued
            && a.dense.count == b.dense.count
            && zip(a.dense, b.dense).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
    }
}
