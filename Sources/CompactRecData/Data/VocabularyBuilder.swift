/// Collects one field's distinct values while a dataset is read: each new value gets the next
/// provisional id (0 stands for "missing"), and occurrences in training rows are counted, so
/// the final vocabulary can keep frequent values and send rare ones to the OOV id.
struct VocabularyBuilder: Sendable {
    /// Values by key, with their training-row counts in the same slot (one cache miss).
    private var table = KeyTable()
    /// Training rows where the field was missing.
    private var missingTrainCount: UInt32 = 0
    /// End offset in `arena` of each provisional id's bytes (index 0 is the empty "missing").
    private(set) var valueEnds: [Int] = [0]
    /// The distinct values' bytes, in provisional-id order.
    private(set) var arena: [UInt8] = []

    /// Number of distinct values seen.
    var distinctCount: Int { valueEnds.count - 1 }

    /// The provisional id of a value (key 0 = missing gives 0), adding it if new, and counting
    /// it if the row is a training row; its bytes are `arena[range]` (read only when new).
    @inline(__always)
    mutating func provisionalID(
        key: UInt64, arena source: UnsafeBufferPointer<UInt8>, range: Range<Int>,
        training: Bool
    ) -> UInt32 {
        guard key != 0 else {
            if training { missingTrainCount &+= 1 }
            return 0
        }
        let (id, inserted) = table.value(for: key, inserting: UInt32(valueEnds.count), increment: training ? 1 : 0)
        if inserted {
            arena.append(contentsOf: UnsafeBufferPointer(rebasing: source[range]))
            valueEnds.append(arena.count)
        }
        return id
    }

    /// Assigns provisional ids to field `offset` of `rows` row-major rows (`stride` values per
    /// row) and counts training rows (`parts[r] == 0`); new values' bytes are copied from
    /// `arena` at their spans.
    mutating func assign(
        keys: UnsafeBufferPointer<UInt64>, spans: UnsafeBufferPointer<UInt64>, arena source: UnsafeBufferPointer<UInt8>,
        stride: Int, offset: Int, rows: Int, parts: UnsafeBufferPointer<UInt8>, ids: UnsafeMutableBufferPointer<UInt32>
    ) {
        var nextID = UInt32(valueEnds.count)
        var inserted: [Int] = []
        table.assign(
            keys: keys, stride: stride, offset: offset, rows: rows, parts: parts, ids: ids,
            nextID: &nextID, missing: &missingTrainCount, inserted: &inserted)
        for r in inserted {
            arena.append(contentsOf: UnsafeBufferPointer(rebasing: source[ParsedRows.range(of: spans[r * stride + offset])]))
            valueEnds.append(arena.count)
        }
    }

    /// Training-row occurrences per provisional id; index 0 counts missing values.
    var trainCounts: [UInt32] {
        var counts = [UInt32](repeating: 0, count: valueEnds.count)
        counts[0] = missingTrainCount
        table.forEach { id, count in counts[Int(id)] = count }
        return counts
    }

    /// The bytes of provisional id `id`.
    func bytes(of id: Int) -> ArraySlice<UInt8> { arena[valueEnds[id - 1]..<valueEnds[id]] }

    /// The final vocabulary and the map from provisional to final ids: values seen at least
    /// `minCount` times in training rows, most frequent first (ties in order of first
    /// appearance), get ids from `Vocabulary.firstValueID`; the rest map to `Vocabulary.oovID`;
    /// missing maps to `Vocabulary.missingID`.
    func finish(name: String, minCount: Int) -> (vocabulary: Vocabulary, remap: [UInt32]) {
        let trainCounts = self.trainCounts
        let threshold = UInt32(clamping: max(minCount, 1))
        var kept: [Int] = []
        for id in 1..<trainCounts.count where trainCounts[id] >= threshold { kept.append(id) }
        kept.sort { trainCounts[$0] != trainCounts[$1] ? trainCounts[$0] > trainCounts[$1] : $0 < $1 }
        var remap = [UInt32](repeating: Vocabulary.oovID, count: trainCounts.count)
        remap[0] = Vocabulary.missingID
        var values: [UInt8] = []
        var ends: [Int] = []
        var counts: [UInt64] = []
        values.reserveCapacity(kept.reduce(0) { $0 + valueEnds[$1] - valueEnds[$1 - 1] })
        ends.reserveCapacity(kept.count)
        counts.reserveCapacity(kept.count)
        for (rank, id) in kept.enumerated() {
            remap[id] = Vocabulary.firstValueID + UInt32(rank)
            values.append(contentsOf: bytes(of: id))
            ends.append(values.count)
            counts.append(UInt64(trainCounts[id]))
        }
        let vocabulary = Vocabulary(
            name: name, valueBytes: values, valueEnds: ends, counts: counts,
            missingCount: UInt64(trainCounts[0]))
        return (vocabulary, remap)
    }
}
