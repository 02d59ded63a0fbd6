import CompactRecData

/// One categorical field of a `ProjectedEmbedding`, computed once per distinct row of a batch.
///
/// A batch of 4096 rows uses far fewer distinct ids per field (ids are Zipf-distributed), and
/// the k-wide work (reading a table row, projecting it, its k-wide gradient) only depends on
/// the row. So forward projects each distinct row once and copies its d values to the batch
/// rows that use it; backward first sums the d-wide output gradients per distinct row, then
/// forms the projection's gradient and the k-wide row gradients from those sums. MLET (k > d)
/// thus costs d-wide work per batch row, as a plain d-wide table does, plus k-wide work per
/// distinct row. The results equal the batch-row computation up to the order of additions.
final class UniqueRowProjection {
    /// Slot of each table row in `unique`, -1 when the batch does not use it.
    private var slotOfRow: [Int32]
    /// The distinct rows of the batch, in first-use order.
    private var unique: [UInt32] = []
    /// Per batch row, its row's slot (the first `batchRows` entries are this batch's).
    private var entrySlot: [Int32] = []
    private var batchRows = 0
    /// The distinct rows' table values, unique x k.
    private var rows: Matrix
    /// Their projections, unique x d.
    private var projected: Matrix
    /// Per distinct row, the sum of its batch rows' output gradients, unique x d.
    private var outputGradient: Matrix
    /// Per distinct row, its table gradient, unique x k.
    private var rowGradient: Matrix

    /// Work space for a field with a table of `tableRows` rows of width `k`, projected to `d`.
    init(tableRows: Int, k: Int, d: Int) {
        slotOfRow = [Int32](repeating: -1, count: tableRows)
        rows = Matrix(rows: 0, columns: k)
        projected = Matrix(rows: 0, columns: d)
        outputGradient = Matrix(rows: 0, columns: d)
        rowGradient = Matrix(rows: 0, columns: k)
    }

    /// Writes the field's vectors of `count` batch rows (ids at `ids[b * idStride]`) to
    /// `output + b * outputStride`, d values each.
    func forward(
        table: EmbeddingTable, projection: DenseParameter?, ids: UnsafePointer<UInt32>, idStride: Int, count: Int,
        output: UnsafeMutablePointer<Float>, outputStride: Int
    ) {
        let k = table.dimension
        let d = projected.columns
        findUniqueRows(ids: ids, idStride: idStride, count: count, tableRows: table.rows)
        rows.resize(rows: unique.count)
        rows.withUnsafeMutableBufferPointer { gathered in
            table.weights.withUnsafeBufferPointer { weights in
                unique.withUnsafeBufferPointer { unique in
                    guard let out = gathered.baseAddress, let w = weights.baseAddress else { return }
                    for (u, row) in unique.enumerated() { (out + u * k).update(from: w + Int(row) * k, count: k) }
                }
            }
        }
        if let projection {
            projected.resize(rows: unique.count)
            GEMM.multiply(rows, projection.value, into: &projected, threads: 1)
        }
        let vectors = projection == nil ? rows : projected
        vectors.withUnsafeBufferPointer { values in
            entrySlot.withUnsafeBufferPointer { slots in
                guard let p = values.baseAddress else { return }
                for b in 0..<count { (output + b * outputStride).update(from: p + Int(slots[b]) * d, count: d) }
            }
        }
    }

    /// Accumulates the projection's gradient and the table's row gradients from the output
    /// gradients of the batch rows (at `gradient + b * gradientStride`, d values each) of the
    /// last `forward`.
    func backward(table: EmbeddingTable, projection: DenseParameter?, gradient: UnsafePointer<Float>, gradientStride: Int) {
        let d = outputGradient.columns
        let k = table.dimension
        outputGradient.resize(rows: unique.count)
        outputGradient.fill(0)
        outputGradient.withUnsafeMutableBufferPointer { sums in
            entrySlot.withUnsafeBufferPointer { slots in
                guard let s = sums.baseAddress else { return }
                for b in 0..<batchRows {
                    let target = s + Int(slots[b]) * d
                    let source = gradient + b * gradientStride
                    for j in 0..<d { target[j] += source[j] }
                }
            }
        }
        if let projection {
            GEMM.multiply(rows, transposeA: true, outputGradient, into: &projection.gradient, beta: 1, threads: 1)
            rowGradient.resize(rows: unique.count)
            GEMM.multiply(outputGradient, projection.value, transposeB: true, into: &rowGradient, threads: 1)
        }
        let gradients = projection == nil ? outputGradient : rowGradient
        unique.withUnsafeBufferPointer { unique in
            gradients.withUnsafeBufferPointer { gradients in
                guard let ids = unique.baseAddress, let g = gradients.baseAddress else { return }
                table.accumulateGradients(ids: ids, idStride: 1, count: unique.count, gradients: g, gradientStride: k)
            }
        }
    }

    /// Fills `unique` and `entrySlot` for the batch, clearing the previous batch's slots.
    private func findUniqueRows(ids: UnsafePointer<UInt32>, idStride: Int, count: Int, tableRows: Int) {
        var slotOf = slotOfRow
        var distinct = unique
        var slots = entrySlot
        slotOfRow = []
        unique = []
        entrySlot = []
        defer {
            slotOfRow = slotOf
            unique = distinct
            entrySlot = slots
        }
        for row in distinct { slotOf[Int(row)] = -1 }
        distinct.removeAll(keepingCapacity: true)
        if slots.count < count { slots = [Int32](repeating: 0, count: count) }
        batchRows = count
        slotOf.withUnsafeMutableBufferPointer { slotOf in
            slots.withUnsafeMutableBufferPointer { slots in
                for b in 0..<count {
                    let row = Int(ids[b * idStride])
                    precondition(row < tableRows, "UniqueRowProjection: row \(row) of \(tableRows)")
                    var slot = slotOf[row]
                    if slot < 0 {
                        slot = Int32(truncatingIfNeeded: distinct.count)
                        slotOf[row] = slot
                        distinct.append(UInt32(truncatingIfNeeded: row))
                    }
                    slots[b] = slot
                }
            }
        }
    }
}
