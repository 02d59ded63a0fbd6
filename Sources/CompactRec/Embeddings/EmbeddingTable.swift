import CompactRecData
import CompactRecShims

/// One field's embedding table: `rows` vectors of width `dimension`, with a sparse gradient
/// that holds only the rows the current batch used.
///
/// Backward scatter-adds row gradients into `gradientRows`, one slot per distinct row (a
/// row-to-slot index makes duplicates in a batch cost nothing extra); optimizers then update
/// exactly those rows, so a step costs the batch's rows, not the table's size.
///
/// A table is not thread-safe: one thread at a time may accumulate into it or update it (the
/// embedding layers and optimizers share tables out whole to their threads).
public final class EmbeddingTable {
    /// The field this table embeds.
    public let name: String
    /// Rows (the field's cardinality: OOV, missing, and the kept values).
    public let rows: Int
    /// Vector width.
    public let dimension: Int
    /// Whether backward passes accumulate row gradients (true by default; see
    /// `DenseParameter.requiresGradient`).
    public var requiresGradient = true
    /// The vectors, row-major.
    public var weights: [Float]
    /// Distinct rows touched since `zeroGradient()`, in first-touch order.
    public private(set) var touchedRows: [UInt32] = []
    /// Their accumulated gradients, row-major, one row per entry of `touchedRows`.
    public private(set) var gradientRows: [Float] = []
    private var slotOfRow: [Int32]
    /// Scratch for `accumulateGradients`: the slot of each entry of a batch (grows, never shrinks).
    private var entrySlots: [Int32] = []

    /// A table initialised with N(0, standard deviation^2) values.
    public init(name: String, rows: Int, dimension: Int, standardDeviation: Float, random: inout SeededRandom) {
        self.name = name
        self.rows = rows
        self.dimension = dimension
        weights = LargeArray.make(count: rows * dimension) { values in
            for i in values.indices { values[i] = Float(random.nextGaussian()) * standardDeviation }
        }
        slotOfRow = LargeArray.repeating(-1, count: rows)
    }

    /// A table holding `weights` (rows x dimension, row-major).
    public init(name: String, rows: Int, dimension: Int, weights: [Float]) {
        precondition(weights.count == rows * dimension, "EmbeddingTable \(name): \(weights.count) weights for \(rows) x \(dimension)")
        self.name = name
        self.rows = rows
        self.dimension = dimension
        self.weights = weights
        slotOfRow = LargeArray.repeating(-1, count: rows)
    }

    /// Parameters: rows x dimension.
    public var parameterCount: Int { rows * dimension }

    /// Adds `gradient` (length `dimension`, starting at `offset` in `source`) to row `row`'s
    /// sparse gradient.
    public func accumulateGradient(row: UInt32, from source: UnsafeBufferPointer<Float>, offset: Int, scale: Float = 1) {
        guard requiresGradient else { return }
        let d = dimension
        precondition(offset >= 0 && offset + d <= source.count, "EmbeddingTable \(name): gradient range outside the source")
        let slot = self.slot(of: row)
        gradientRows.withUnsafeMutableBufferPointer { gradients in
            for k in 0..<d { gradients[slot * d + k] += scale * source[offset + k] }
        }
    }

    /// Adds the gradient rows of a batch: entry `i` (`0..<count`) adds the `dimension` values at
    /// `gradients + i * gradientStride` to row `ids[i * idStride]`'s sparse gradient.
    ///
    /// The same result as calling `accumulateGradient(row:from:offset:)` for each entry in order
    /// (every row's gradient is the sum of its entries in batch order), in two passes over
    /// pointers: first each entry's slot (new rows take the next slots), then the sums.
    public func accumulateGradients(
        ids: UnsafePointer<UInt32>, idStride: Int, count: Int,
        gradients source: UnsafePointer<Float>, gradientStride: Int
    ) {
        guard count > 0, requiresGradient else { return }
        let d = dimension
        let rowCount = rows
        if entrySlots.count < count { entrySlots = [Int32](repeating: 0, count: count) }
        // Move the arrays into locals (uniquely referenced, so appends do not copy), so the loops
        // below pay no exclusivity checks on the class's properties.
        var touched = touchedRows
        var slotsOfRows = slotOfRow
        var entries = entrySlots
        var sums = gradientRows
        touchedRows = []
        slotOfRow = []
        entrySlots = []
        gradientRows = []
        defer {
            touchedRows = touched
            slotOfRow = slotsOfRows
            entrySlots = entries
            gradientRows = sums
        }
        let before = touched.count
        touched.reserveCapacity(before + count)
        var next = before
        slotsOfRows.withUnsafeMutableBufferPointer { slotOf in
            entries.withUnsafeMutableBufferPointer { slots in
                for i in 0..<count {
                    // The slot index is a random access into 4 bytes a row: prefetch ahead.
                    if i &+ 16 < count {
                        let ahead = Int(ids[(i &+ 16) &* idStride])
                        if ahead < rowCount, let base = slotOf.baseAddress { compactrec_prefetch_for_write(base + ahead) }
                    }
                    let row = Int(ids[i &* idStride])
                    precondition(row < rowCount, "EmbeddingTable \(name): row \(row) of \(rowCount)")
                    var slot = slotOf[row]
                    if slot < 0 {
                        slot = Int32(truncatingIfNeeded: next)
                        slotOf[row] = slot
                        next += 1
                    }
                    slots[i] = slot
                }
            }
        }
        // The new rows, in first-touch order (the entries whose slot is new, first occurrence).
        entries.withUnsafeBufferPointer { slots in
            var expected = Int32(truncatingIfNeeded: before)
            for i in 0..<count where slots[i] == expected {
                touched.append(ids[i &* idStride])
                expected += 1
            }
        }
        sums.append(contentsOf: repeatElement(0, count: (next - before) * d))
        sums.withUnsafeMutableBufferPointer { buffer in
            entries.withUnsafeBufferPointer { slots in
                guard let out = buffer.baseAddress else { return }
                for i in 0..<count {
                    let target = out + Int(slots[i]) &* d
                    let gradient = source + i &* gradientStride
                    var k = 0
                    while k + 8 <= d {
                        Elementwise.store8(Elementwise.load8(target + k) + Elementwise.load8(gradient + k), target + k)
                        k += 8
                    }
                    while k < d {
                        target[k] += gradient[k]
                        k += 1
                    }
                }
            }
        }
    }

    /// Calls `body` with the touched rows and their gradients (`touchedRows`, `gradientRows`)
    /// without copying them.
    func withGradient<R>(_ body: (UnsafeBufferPointer<UInt32>, UnsafeBufferPointer<Float>) -> R) -> R {
        touchedRows.withUnsafeBufferPointer { rows in
            gradientRows.withUnsafeBufferPointer { gradients in body(rows, gradients) }
        }
    }

    /// Forgets the sparse gradient (keeping capacity).
    public func zeroGradient() {
        slotOfRow.withUnsafeMutableBufferPointer { slotOf in
            touchedRows.withUnsafeBufferPointer { rows in
                for row in rows { slotOf[Int(row)] = -1 }
            }
        }
        touchedRows.removeAll(keepingCapacity: true)
        gradientRows.removeAll(keepingCapacity: true)
    }

    /// Row `row`'s vector.
    public func vector(_ row: Int) -> ArraySlice<Float> { weights[row * dimension..<(row + 1) * dimension] }

    /// The slot of `row`'s gradient, made (zeroed) on its first touch.
    private func slot(of row: UInt32) -> Int {
        let existing = Int(slotOfRow[Int(row)])
        if existing >= 0 { return existing }
        let slot = touchedRows.count
        slotOfRow[Int(row)] = Int32(slot)
        touchedRows.append(row)
        gradientRows.append(contentsOf: repeatElement(0, count: dimension))
        return slot
    }
}
