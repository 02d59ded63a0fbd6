/// One field's embedding table: `rows` vectors of width `dimension`, with a sparse gradient
/// that holds only the rows the current batch used.
///
/// Backward scatter-adds row gradients into `gradientRows`, one slot per distinct row (a
/// row-to-slot index makes duplicates in a batch cost nothing extra); optimizers then update
/// exactly those rows, so a step costs the batch's rows, not the table's size.
public final class EmbeddingTable {
    /// The field this table embeds.
    public let name: String
    /// Rows (the field's cardinality: OOV, missing, and the kept values).
    public let rows: Int
    /// Vector width.
    public let dimension: Int
    /// The vectors, row-major.
    public var weights: [Float]
    /// Distinct rows touched since `zeroGradient()`, in first-touch order.
    public private(set) var touchedRows: [UInt32] = []
    /// Their accumulated gradients, row-major, one row per entry of `touchedRows`.
    public private(set) var gradientRows: [Float] = []
    private var slotOfRow: [Int32]

    /// A table initialised with N(0, standard deviation^2) values.
    public init(name: String, rows: Int, dimension: Int, standardDeviation: Float, random: inout SeededRandom) {
        self.name = name
        self.rows = rows
        self.dimension = dimension
        weights = (0..<rows * dimension).map { _ in Float(random.nextGaussian()) * standardDeviation }
        slotOfRow = [Int32](repeating: -1, count: rows)
    }

    /// A table holding `weights` (rows x dimension, row-major).
    public init(name: String, rows: Int, dimension: Int, weights: [Float]) {
        precondition(weights.count == rows * dimension, "EmbeddingTable \(name): \(weights.count) weights for \(rows) x \(dimension)")
        self.name = name
        self.rows = rows
        self.dimension = dimension
        self.weights = weights
        slotOfRow = [Int32](repeating: -1, count: rows)
    }

    /// Parameters: rows x dimension.
    public var parameterCount: Int { rows * dimension }

    /// Adds `gradient` (length `dimension`, starting at `offset` in `source`) to row `row`'s
    /// sparse gradient.
    @inline(__always)
    public func accumulateGradient(row: UInt32, from source: UnsafeBufferPointer<Float>, offset: Int, scale: Float = 1) {
        var slot = Int(slotOfRow[Int(row)])
        if slot < 0 {
            slot = touchedRows.count
            slotOfRow[Int(row)] = Int32(slot)
            touchedRows.append(row)
            gradientRows.append(contentsOf: repeatElement(0, count: dimension))
        }
        let d = dimension
        gradientRows.withUnsafeMutableBufferPointer { gradients in
            for k in 0..<d { gradients[slot * d + k] += scale * source[offset + k] }
        }
    }

    /// Forgets the sparse gradient (keeping capacity).
    public func zeroGradient() {
        for row in touchedRows { slotOfRow[Int(row)] = -1 }
        touchedRows.removeAll(keepingCapacity: true)
        gradientRows.removeAll(keepingCapacity: true)
    }

    /// Row `row`'s vector.
    public func vector(_ row: Int) -> ArraySlice<Float> { weights[row * dimension..<(row + 1) * dimension] }
}
