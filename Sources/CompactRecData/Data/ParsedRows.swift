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
    // Storage is kept allocated across blocks and grown by doubling; the counts say what is
    // valid. Per-row appends cost more than parsing the row.
    private var labelStorage: [UInt8] = []
    private var denseStorage: [Float] = []
    private var keyStorage: [UInt64] = []
    private var spanStorage: [UInt64] = []
    private var arenaStorage: [UInt8] = []
    private var arenaCount = 0
    private var allocatedRows = 0
    /// Multi-valued keys per field, all rows concatenated.
    public private(set) var multiKeys: [[UInt64]]
    /// Spans of the multi-valued keys.
    public private(set) var multiSpans: [[UInt64]]
    /// End index into `multiKeys[f]` of each row's values.
    public private(set) var multiEnds: [[Int]]

    private var rowArenaStart = 0

    /// Labels, 0 or 1 (0 for unlabeled rows).
    public var labels: ArraySlice<UInt8> { labelStorage[0..<count] }
    /// Raw dense values, row-major, NaN where missing.
    public var dense: ArraySlice<Float> { denseStorage[0..<count * denseCount] }
    /// Categorical value keys, row-major; 0 means missing.
    public var keys: ArraySlice<UInt64> { keyStorage[0..<count * categoricalCount] }
    /// Where each categorical value's bytes are in the arena: offset << 24 | length.
    public var spans: ArraySlice<UInt64> { spanStorage[0..<count * categoricalCount] }
    /// Value bytes.
    public var arena: ArraySlice<UInt8> { arenaStorage[0..<arenaCount] }

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
        self.init(
            denseCount: schema.dense.count, categoricalCount: schema.categorical.count,
            multiValuedCount: schema.multiValued.count)
    }

    /// Forgets all rows, keeping capacity.
    public mutating func removeAll() {
        count = 0
        arenaCount = 0
        for f in 0..<multiValuedCount {
            multiKeys[f].removeAll(keepingCapacity: true)
            multiSpans[f].removeAll(keepingCapacity: true)
            multiEnds[f].removeAll(keepingCapacity: true)
        }
        rowArenaStart = 0
    }

    // MARK: Building a row (the preparer opens and closes; readers set values)

    /// Opens a new row with every value missing and label 0.
    @inline(__always)
    public mutating func beginRow() {
        if count == allocatedRows { growRows() }
        rowArenaStart = arenaCount
        labelStorage[count] = 0
        if denseCount > 0 {
            let start = count * denseCount
            denseStorage.withUnsafeMutableBufferPointer { values in
                for i in start..<start + denseCount { values[i] = .nan }
            }
        }
        if categoricalCount > 0 {
            let start = count * categoricalCount
            keyStorage.withUnsafeMutableBufferPointer { keys in
                for i in start..<start + categoricalCount { keys[i] = 0 }
            }
        }
    }

    private mutating func growRows() {
        let rows = max(1024, allocatedRows * 2)
        let extra = rows - allocatedRows
        labelStorage.append(contentsOf: repeatElement(0, count: extra))
        denseStorage.append(contentsOf: repeatElement(.nan, count: extra * denseCount))
        keyStorage.append(contentsOf: repeatElement(0, count: extra * categoricalCount))
        spanStorage.append(contentsOf: repeatElement(0, count: extra * categoricalCount))
        allocatedRows = rows
    }

    /// Completes the open row.
    public mutating func endRow() {
        for f in 0..<multiValuedCount { multiEnds[f].append(multiKeys[f].count) }
        count += 1
    }

    /// Discards the open row (it failed to parse).
    public mutating func abandonRow() {
        arenaCount = rowArenaStart
        for f in 0..<multiValuedCount {
            let end = multiEnds[f].last ?? 0
            multiKeys[f].removeLast(multiKeys[f].count - end)
            multiSpans[f].removeLast(multiSpans[f].count - end)
        }
    }

    /// Sets the open row's label.
    @inline(__always)
    public mutating func setLabel(_ label: UInt8) {
        labelStorage[count] = label
    }

    /// Sets dense field `index` of the open row.
    @inline(__always)
    public mutating func setDense(_ index: Int, _ value: Float) {
        denseStorage[count * denseCount + index] = value
    }

    /// Sets categorical field `index` of the open row; empty bytes mean missing.
    @inline(__always)
    public mutating func setCategorical(_ index: Int, bytes: UnsafeBufferPointer<UInt8>) throws(RowProblem) {
        guard !bytes.isEmpty else { return }
        let (key, span) = try store(bytes)
        let slot = count * categoricalCount + index
        keyStorage[slot] = key
        spanStorage[slot] = span
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
            throw RowProblem(
                kind: "value too long",
                detail: "a categorical value is \(bytes.count) bytes long (at most \(ParsedRows.maximumValueLength))")
        }
        let offset = arenaCount
        let needed = offset + bytes.count
        if needed > arenaStorage.count {
            arenaStorage.append(contentsOf: repeatElement(0, count: max(needed, arenaStorage.count * 2, 1 << 16) - arenaStorage.count))
        }
        arenaStorage.withUnsafeMutableBufferPointer { arena in
            _ = UnsafeMutableBufferPointer(rebasing: arena[offset..<needed]).initialize(from: bytes)
        }
        arenaCount = needed
        return (ParsedRows.key(of: bytes), UInt64(offset) << 24 | UInt64(bytes.count))
    }

    /// The key of a categorical value, never 0 (0 marks missing). Values of up to 8 bytes (all
    /// of Criteo's and Avazu's) are packed into 64 bits and mixed by a bijection, so distinct
    /// values of one length never collide; longer values use XXH64.
    @inline(__always)
    public static func key(of bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let n = bytes.count
        let h: UInt64
        if n == 8, let base = bytes.baseAddress {
            let packed = UInt64(littleEndian: UnsafeRawPointer(base).loadUnaligned(as: UInt64.self))
            h = SplitMix64.mix(packed ^ (8 &* 0x9E37_79B9_7F4A_7C15))
        } else if n < 8 {
            var packed: UInt64 = 0
            var shift: UInt64 = 0
            for byte in bytes {
                packed |= UInt64(byte) << shift
                shift &+= 8
            }
            h = SplitMix64.mix(packed ^ (UInt64(n) &* 0x9E37_79B9_7F4A_7C15))
        } else if let base = bytes.baseAddress {
            h = XXHash64.hash(UnsafeRawPointer(base), count: n)
        } else {
            h = 1
        }
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
        let valid = count * denseCount
        guard transform == .log1p else {
            for i in 0..<valid { denseStorage[i] = transform.apply(denseStorage[i], missingValue: missingValue) }
            return
        }
        // Most of Criteo's dense values are small counts: look their log1p up (same bits).
        let table = DenseTransform.log1pOfSmallIntegers
        denseStorage.withUnsafeMutableBufferPointer { values in
            for i in 0..<valid {
                let x = values[i]
                if x >= 0 && x < Float(table.count), x == x.rounded(.towardZero) {
                    values[i] = table[Int(x)]
                } else {
                    values[i] = DenseTransform.log1p.apply(x, missingValue: missingValue)
                }
            }
        }
    }

    // MARK: Reading rows back

    /// The bytes of the value whose span is `span`.
    public func valueBytes(span: UInt64) -> ArraySlice<UInt8> {
        arenaStorage[ParsedRows.range(of: span)]
    }

    /// The arena range a span refers to.
    @inline(__always)
    static func range(of span: UInt64) -> Range<Int> {
        let offset = Int(span >> 24)
        return offset..<offset + Int(span & 0xFF_FFFF)
    }

    /// Calls `body` with the rows' storage as buffers, for the preparer's counting loops.
    func withBuffers<R>(
        _ body: (
            _ keys: UnsafeBufferPointer<UInt64>, _ spans: UnsafeBufferPointer<UInt64>,
            _ arena: UnsafeBufferPointer<UInt8>
        ) -> R
    ) -> R {
        keyStorage.withUnsafeBufferPointer { keys in
            spanStorage.withUnsafeBufferPointer { spans in
                arenaStorage.withUnsafeBufferPointer { arena in body(keys, spans, arena) }
            }
        }
    }

    /// Row `index` decoded into plain values (for tests, inspection and prediction).
    public func row(_ index: Int) -> RawRow {
        let denseValues = Array(denseStorage[index * denseCount..<(index + 1) * denseCount])
        var categorical: [String?] = []
        for f in 0..<categoricalCount {
            let i = index * categoricalCount + f
            categorical.append(keyStorage[i] == 0 ? nil : String(decoding: valueBytes(span: spanStorage[i]), as: UTF8.self))
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
