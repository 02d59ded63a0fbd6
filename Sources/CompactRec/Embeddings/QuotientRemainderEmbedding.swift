import CompactRecData

/// The quotient-remainder trick (Shi et al. 2020, DLRM's `--qr-flag` with the `mult`
/// operation): a field of n values gets a quotient table of ceil(n / c) rows and a remainder
/// table of c rows, and value x's vector is the element-wise product
///
///     e(x) = Q[x / c] ⊙ R[x mod c].
///
/// Two values share a row of one table at most (their quotients or their remainders differ),
/// so every value keeps a distinct vector, from (n / c + c) x d parameters instead of n x d:
/// at c = sqrt(n), about 2 sqrt(n) rows. A field of at most c values keeps one plain table,
/// which is smaller than the pair.
///
/// Backward: dQ[x / c] += g ⊙ R[x mod c] and dR[x mod c] += g ⊙ Q[x / c], both sparse, so the
/// tables train with the usual row-wise optimizers. Multi-valued fields average the products of
/// their values.
///
/// Initialisation: both tables N(0, 0.1^2), so a product entry has variance 0.1^4 = 0.01^2,
/// that of a plain table's entries (the interactions start as small as a plain model's). The
/// layer is its own inference form: the model file keeps the two small tables per field.
public final class QuotientRemainderEmbedding: EmbeddingLayer {
    /// The settings (what `ModelConfiguration.embedding` holds for this method).
    public let method: QuotientRemainderEmbeddingMethod
    /// Per field, its quotient table (or its one plain table, for a field of at most c values).
    public let quotients: [EmbeddingTable]
    /// Per field, its remainder table; nil for a field kept plain.
    public let remainders: [EmbeddingTable?]
    /// The common width d.
    public let dimension: Int
    /// Number of single-valued (categorical) fields; the rest are multi-valued.
    public let categoricalCount: Int
    /// Cores the gather and the scatter may use (fields are shared out whole; any count gives
    /// the same result).
    public var threads = Parallel.defaultThreads
    private var output = Matrix(rows: 0, columns: 0)
    private let work: [FieldWork]

    /// Per field, the row pairs of the last batch and the gradient rows the backward pass
    /// scatters (one entry per value occurrence, in batch order).
    private final class FieldWork {
        var quotientRows: [UInt32] = []
        var remainderRows: [UInt32] = []
        var quotientGradients: [Float] = []
        var remainderGradients: [Float] = []
    }

    /// Tables for fields of `cardinalities` (schema order) named `names` (with `.quotient` and
    /// `.remainder` appended where a field is split), width `dimension`, `collisions` c.
    public init(
        method: QuotientRemainderEmbeddingMethod, cardinalities: [Int], dimension: Int, categoricalCount: Int,
        names: [String], random: inout SeededRandom
    ) {
        precondition(
            method.collisions >= 1 && dimension >= 1 && names.count == cardinalities.count,
            "QuotientRemainderEmbedding: c and d must be positive, one name per field")
        let c = method.collisions
        var quotients: [EmbeddingTable] = []
        var remainders: [EmbeddingTable?] = []
        for (f, n) in cardinalities.enumerated() {
            var fieldRandom = SeededRandom(seed: random.next(), stream: UInt64(f))
            if n <= c {
                quotients.append(
                    EmbeddingTable(
                        name: names[f], rows: n, dimension: dimension,
                        standardDeviation: QuotientRemainderEmbedding.plainDeviation, random: &fieldRandom))
                remainders.append(nil)
            } else {
                quotients.append(
                    EmbeddingTable(
                        name: names[f] + ".quotient", rows: (n + c - 1) / c, dimension: dimension,
                        standardDeviation: QuotientRemainderEmbedding.factorDeviation, random: &fieldRandom))
                remainders.append(
                    EmbeddingTable(
                        name: names[f] + ".remainder", rows: c, dimension: dimension,
                        standardDeviation: QuotientRemainderEmbedding.factorDeviation, random: &fieldRandom))
            }
        }
        self.method = method
        self.quotients = quotients
        self.remainders = remainders
        self.dimension = dimension
        self.categoricalCount = categoricalCount
        work = cardinalities.map { _ in FieldWork() }
        output = Matrix(rows: 0, columns: dimension * cardinalities.count)
    }

    /// Standard deviation of a plain field's table (as `FullEmbedding`'s).
    static let plainDeviation: Float = 0.01
    /// Standard deviation of each factor table: the product's is `plainDeviation`.
    static let factorDeviation: Float = 0.1

    /// Every field has width d.
    public var outputDimensions: [Int] { quotients.map { _ in dimension } }
    /// The quotient and remainder tables, field by field.
    public var tables: [EmbeddingTable] {
        zip(quotients, remainders).flatMap { quotient, remainder in [quotient] + (remainder.map { [$0] } ?? []) }
    }
    /// No dense parameters.
    public var denseParameters: [DenseParameter] { [] }
    /// Rows x d over both tables of every field.
    public var parameterCount: Int { tables.reduce(0) { $0 + $1.parameterCount } }

    /// The layer itself: the two small tables are what is served.
    public func inferenceForm() -> EmbeddingInferenceForm {
        EmbeddingInferenceForm(tables: tables, projections: [], projectionNames: [], method: .quotientRemainder(method))
    }

    /// The (quotient row, remainder row) of value `id` in field `f`.
    @inline(__always)
    private func rows(of id: UInt32, field f: Int) -> (UInt32, UInt32) {
        guard remainders[f] != nil else { return (id, 0) }
        let c = UInt32(truncatingIfNeeded: method.collisions)
        return (id / c, id % c)
    }

    /// Each row's field vectors side by side: Q[x / c] ⊙ R[x mod c] per value, averaged over a
    /// multi-valued field's values.
    public func forward(_ batch: Batch, training: Bool) -> Matrix {
        let size = batch.size
        output.resize(rows: size)
        guard size > 0, !quotients.isEmpty else { return output }
        let c = categoricalCount
        precondition(batch.ids.count >= size * c, "QuotientRemainderEmbedding: \(batch.ids.count) ids for \(size) x \(c) fields")
        let width = output.columns
        output.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress else { return }
            let destination = UncheckedSendable((self, base, batch))
            Parallel.forEachClaimed(quotients.count, threads: threads) { f in
                let (layer, out, batch) = destination.value
                layer.gather(field: f, batch: batch, into: out + f * layer.dimension, stride: width)
            }
        }
        return output
    }

    /// Writes field `f`'s vectors of every batch row to `out + b * stride`, recording the row
    /// pairs for the backward pass.
    private func gather(field f: Int, batch: Batch, into out: UnsafeMutablePointer<Float>, stride: Int) {
        let d = dimension
        let work = self.work[f]
        let occurrences = f < categoricalCount ? batch.size : batch.multiValuedIDs[f - categoricalCount].count
        work.quotientRows.removeAll(keepingCapacity: true)
        work.remainderRows.removeAll(keepingCapacity: true)
        work.quotientRows.reserveCapacity(occurrences)
        work.remainderRows.reserveCapacity(occurrences)
        let quotient = quotients[f]
        let remainder = remainders[f]
        func row(_ id: UInt32) -> (UInt32, UInt32) {
            let (q, r) = rows(of: id, field: f)
            precondition(
                Int(q) < quotient.rows && Int(r) < (remainder?.rows ?? 1),
                "QuotientRemainderEmbedding: id \(id) outside field \(quotient.name)")
            work.quotientRows.append(q)
            work.remainderRows.append(r)
            return (q, r)
        }
        quotient.weights.withUnsafeBufferPointer { qWeights in
            (remainder?.weights ?? [1]).withUnsafeBufferPointer { rWeights in
                guard let qBase = qWeights.baseAddress, let rBase = rWeights.baseAddress else { return }
                let split = remainder != nil
                if f < categoricalCount {
                    let c = categoricalCount
                    for b in 0..<batch.size {
                        let (q, r) = row(batch.ids[b * c + f])
                        let target = out + b * stride
                        if split {
                            QuotientRemainderEmbedding.product(
                                qBase + Int(q) * d, rBase + Int(r) * d, scale: 1, into: target, d,
                                accumulate: false)
                        } else {
                            FullEmbedding.copy(qBase + Int(q) * d, to: target, d)
                        }
                    }
                } else {
                    let m = f - categoricalCount
                    let ends = batch.multiValuedOffsets[m]
                    let ids = batch.multiValuedIDs[m]
                    for b in 0..<batch.size {
                        let target = out + b * stride
                        for k in 0..<d { target[k] = 0 }
                        let count = ends[b + 1] - ends[b]
                        guard count > 0 else { continue }
                        let scale = 1 / Float(count)
                        for i in ends[b]..<ends[b + 1] {
                            let (q, r) = row(ids[i])
                            QuotientRemainderEmbedding.product(
                                qBase + Int(q) * d, split ? rBase + Int(r) * d : nil, scale: scale,
                                into: target, d, accumulate: true)
                        }
                    }
                }
            }
        }
    }

    /// `target = scale * a ⊙ b` (or `+=` with `accumulate`); `b` nil stands for ones.
    @inline(__always)
    private static func product(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>?, scale: Float,
        into target: UnsafeMutablePointer<Float>, _ d: Int, accumulate: Bool
    ) {
        var k = 0
        let s = SIMD8<Float>(repeating: scale)
        while k + 8 <= d {
            var value = Elementwise.load8(a + k) * s
            if let b { value *= Elementwise.load8(b + k) }
            if accumulate { value += Elementwise.load8(target + k) }
            Elementwise.store8(value, target + k)
            k += 8
        }
        while k < d {
            var value = a[k] * scale
            if let b { value *= b[k] }
            target[k] = accumulate ? target[k] + value : value
            k += 1
        }
    }

    /// Scatter-adds g ⊙ R[x mod c] into the quotient rows' gradients and g ⊙ Q[x / c] into the
    /// remainder rows' (a plain field's rows get g), each table summing in batch order.
    public func backward(_ outputGradient: Matrix, batch: Batch) {
        let size = batch.size
        precondition(
            outputGradient.rows == size && outputGradient.columns == output.columns,
            "QuotientRemainderEmbedding.backward expects a \(size)x\(output.columns) gradient")
        guard size > 0 else { return }
        outputGradient.withUnsafeBufferPointer { gradient in
            guard let base = gradient.baseAddress else { return }
            let context = UncheckedSendable((self, base, batch))
            Parallel.forEachClaimed(quotients.count, threads: threads) { f in
                let (layer, gradient, batch) = context.value
                layer.scatter(field: f, batch: batch, gradient: gradient + f * layer.dimension, stride: layer.output.columns)
            }
        }
    }

    /// Field `f`'s backward pass; `gradient + b * stride` is dLoss/d(field vector of row b).
    private func scatter(field f: Int, batch: Batch, gradient: UnsafePointer<Float>, stride: Int) {
        let d = dimension
        let work = self.work[f]
        let quotient = quotients[f]
        let count = work.quotientRows.count
        // Per occurrence: its batch row and its weight (1, or 1 / values for multi-valued fields).
        var rowOf: (Int) -> (Int, Float) = { ($0, 1) }
        if f >= categoricalCount {
            let ends = batch.multiValuedOffsets[f - categoricalCount]
            var owners = [Int](repeating: 0, count: count)
            var weights = [Float](repeating: 1, count: count)
            for b in 0..<batch.size where ends[b + 1] > ends[b] {
                for i in ends[b]..<ends[b + 1] {
                    owners[i] = b
                    weights[i] = 1 / Float(ends[b + 1] - ends[b])
                }
            }
            rowOf = { (owners[$0], weights[$0]) }
        }
        guard let remainder = remainders[f] else {
            work.quotientGradients.removeAll(keepingCapacity: true)
            work.quotientGradients.append(contentsOf: repeatElement(0, count: count * d))
            work.quotientGradients.withUnsafeMutableBufferPointer { out in
                guard let target = out.baseAddress else { return }
                for i in 0..<count {
                    let (b, scale) = rowOf(i)
                    QuotientRemainderEmbedding.product(gradient + b * stride, nil, scale: scale, into: target + i * d, d, accumulate: false)
                }
            }
            accumulate(into: quotient, rows: work.quotientRows, gradients: work.quotientGradients)
            return
        }
        work.quotientGradients.removeAll(keepingCapacity: true)
        work.quotientGradients.append(contentsOf: repeatElement(0, count: count * d))
        work.remainderGradients.removeAll(keepingCapacity: true)
        work.remainderGradients.append(contentsOf: repeatElement(0, count: count * d))
        quotient.weights.withUnsafeBufferPointer { qWeights in
            remainder.weights.withUnsafeBufferPointer { rWeights in
                work.quotientGradients.withUnsafeMutableBufferPointer { qOut in
                    work.remainderGradients.withUnsafeMutableBufferPointer { rOut in
                        guard let qBase = qWeights.baseAddress, let rBase = rWeights.baseAddress,
                            let qTarget = qOut.baseAddress, let rTarget = rOut.baseAddress
                        else { return }
                        for i in 0..<count {
                            let (b, scale) = rowOf(i)
                            let g = gradient + b * stride
                            let q = Int(work.quotientRows[i])
                            let r = Int(work.remainderRows[i])
                            QuotientRemainderEmbedding.product(g, rBase + r * d, scale: scale, into: qTarget + i * d, d, accumulate: false)
                            QuotientRemainderEmbedding.product(g, qBase + q * d, scale: scale, into: rTarget + i * d, d, accumulate: false)
                        }
                    }
                }
            }
        }
        accumulate(into: quotient, rows: work.quotientRows, gradients: work.quotientGradients)
        accumulate(into: remainder, rows: work.remainderRows, gradients: work.remainderGradients)
    }

    /// Adds gradient row `i` to `table`'s row `rows[i]`, in order.
    private func accumulate(into table: EmbeddingTable, rows: [UInt32], gradients: [Float]) {
        rows.withUnsafeBufferPointer { ids in
            gradients.withUnsafeBufferPointer { values in
                guard let idBase = ids.baseAddress, let valueBase = values.baseAddress else { return }
                table.accumulateGradients(ids: idBase, idStride: 1, count: ids.count, gradients: valueBase, gradientStride: dimension)
            }
        }
    }
}

/// The quotient-remainder method's settings (`--embedding qr --qr-collisions c`).
public struct QuotientRemainderEmbeddingMethod: EmbeddingMethodDefinition, Codable, Equatable {
    /// c: values per quotient row, and the remainder table's rows. A field of n values gets
    /// ceil(n / c) + c rows instead of n; c near sqrt(n) of the largest fields shrinks them most.
    public var collisions: Int

    /// The trick with `collisions` c.
    public init(collisions: Int) { self.collisions = collisions }

    /// Checks c and that the model has embeddings.
    public func validate(in context: EmbeddingContext) throws(ModelError) {
        guard collisions >= 2 else {
            throw .invalidSetting(.qrCollisions, reason: "is \(collisions); it must be at least 2 (each quotient row stands for c values)")
        }
        guard context.model != .lr else {
            throw .invalidSetting(
                .embedding,
                reason: "logistic regression has no embeddings to split; "
                    + "use the fm, wd, deepfm, dlrm or dcnv2 model")
        }
    }

    /// The two-table layer.
    public func makeLayer(in context: EmbeddingContext, random: inout SeededRandom) -> any EmbeddingLayer {
        QuotientRemainderEmbedding(
            method: self, cardinalities: context.cardinalities, dimension: context.dimension,
            categoricalCount: context.categoricalCount, names: context.tableNames, random: &random)
    }

    /// Every field has width d.
    public var fieldWidths: [Int]? { nil }

    /// "qr c = 100".
    public var summary: String { "qr c = \(collisions)" }
}
