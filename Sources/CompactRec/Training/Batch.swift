import CompactRecData

/// A training or evaluation batch: rows of a prepared dataset gathered into contiguous arrays.
///
/// One `Batch` is reused for every batch of a run (`BatchLoader.next(into:)` resizes it in
/// place), so iterating a dataset does not allocate.
public struct Batch: Sendable {
    /// Rows in the batch.
    public var size = 0
    /// Labels as 0/1 floats.
    public var labels: [Float] = []
    /// Transformed dense values, size x dense fields.
    public var dense: Matrix
    /// Category ids, size x categorical fields, row-major.
    public var ids: [UInt32] = []
    /// Per multi-valued field: offsets into `multiValuedIDs` (size + 1 values).
    public var multiValuedOffsets: [[Int]]
    /// Per multi-valued field: the ids of all rows, concatenated.
    public var multiValuedIDs: [[UInt32]]
    /// Number of categorical fields.
    public let categoricalCount: Int

    /// An empty batch shaped for `schema`.
    public init(schema: Schema) {
        dense = Matrix(rows: 0, columns: schema.dense.count)
        categoricalCount = schema.categorical.count
        multiValuedOffsets = Array(repeating: [0], count: schema.multiValued.count)
        multiValuedIDs = Array(repeating: [], count: schema.multiValued.count)
    }

    /// A batch from explicit values (tests, and prediction on rows parsed at serving time).
    public init(
        labels: [Float], dense: Matrix, ids: [UInt32], categoricalCount: Int,
        multiValuedOffsets: [[Int]] = [], multiValuedIDs: [[UInt32]] = []
    ) {
        precondition(
            dense.rows == labels.count && ids.count == labels.count * categoricalCount,
            "Batch: labels, dense rows and ids disagree on the batch size")
        size = labels.count
        self.labels = labels
        self.dense = dense
        self.ids = ids
        self.categoricalCount = categoricalCount
        self.multiValuedOffsets = multiValuedOffsets
        self.multiValuedIDs = multiValuedIDs
    }

    /// Fills the batch with `rows` of `store`, in the given order.
    public mutating func load(rows: ArraySlice<Int>, from store: ColumnStore) {
        size = rows.count
        dense.resize(rows: size)
        labels.removeAll(keepingCapacity: true)
        ids.removeAll(keepingCapacity: true)
        let denseWidth = dense.columns
        let labelValues = store.labelColumn.values(as: UInt8.self)
        let denseValues = store.denseColumn.values(as: Float.self)
        let idValues = store.categoricalColumn.values(as: UInt32.self)
        let categoricalCount = self.categoricalCount
        dense.withUnsafeMutableBufferPointer { out in
            for (i, row) in rows.enumerated() {
                for j in 0..<denseWidth { out[i * denseWidth + j] = denseValues[row * denseWidth + j] }
            }
        }
        for row in rows {
            labels.append(Float(labelValues[row]))
            ids.append(contentsOf: idValues[row * categoricalCount..<(row + 1) * categoricalCount])
        }
        for m in 0..<multiValuedOffsets.count {
            let ends = store.multiOffsetColumns[m].values(as: UInt64.self)
            let values = store.multiIDColumns[m].values(as: UInt32.self)
            multiValuedOffsets[m].removeAll(keepingCapacity: true)
            multiValuedIDs[m].removeAll(keepingCapacity: true)
            multiValuedOffsets[m].append(0)
            for row in rows {
                multiValuedIDs[m].append(contentsOf: values[Int(ends[row])..<Int(ends[row + 1])])
                multiValuedOffsets[m].append(multiValuedIDs[m].count)
            }
        }
    }
}

/// Iterates one split part of a prepared dataset in batches, shuffled per epoch from a seed.
///
/// Epoch `e`'s order depends only on the seed and `e` (a fresh shuffle of the part's rows), so
/// a resumed run can recreate any epoch's order and skip the batches it already trained on.
public struct BatchLoader: Sendable {
    /// The dataset.
    public let store: ColumnStore
    /// Rows per batch (the last batch of an epoch may be smaller).
    public let batchSize: Int
    private let rows: [Int]
    private var order: [Int]
    private var position = 0
    private let shuffleSeed: UInt64?

    /// Batches of `part`; with a `shuffleSeed`, each epoch visits the rows in a new random order.
    public init(store: ColumnStore, part: SplitPart, batchSize: Int, shuffleSeed: UInt64? = nil) {
        self.store = store
        self.batchSize = max(1, batchSize)
        rows = store.rowIndices(of: part)
        order = rows
        self.shuffleSeed = shuffleSeed
        startEpoch(1)
    }

    /// Rows in the part.
    public var rowCount: Int { order.count }

    /// Batches per epoch.
    public var batchesPerEpoch: Int { (order.count + batchSize - 1) / batchSize }

    /// Starts epoch `epoch` (1-based) from its first batch, in that epoch's order.
    public mutating func startEpoch(_ epoch: Int) {
        position = 0
        guard let shuffleSeed else { return }
        order.withUnsafeMutableBufferPointer { order in
            rows.withUnsafeBufferPointer { rows in
                for i in 0..<rows.count { order[i] = rows[i] }
            }
        }
        var generator = SeededRandom(seed: shuffleSeed, stream: 0xBA7C4 &+ UInt64(epoch))
        order.shuffle(using: &generator)
    }

    /// Skips the epoch's first `batches` batches (resuming a run that trained on them).
    public mutating func skip(batches: Int) {
        position = min(order.count, position + batches * batchSize)
    }

    /// Loads the next batch of this epoch into `batch`; false at the end of the epoch.
    public mutating func next(into batch: inout Batch) -> Bool {
        guard position < order.count else { return false }
        let end = min(position + batchSize, order.count)
        batch.load(rows: order[position..<end], from: store)
        position = end
        return true
    }
}
