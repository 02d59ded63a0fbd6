import CompactRecData

/// "Table, then projection": each field's rows have their own width k, and a learned linear map
/// k -> d (no bias, no nonlinearity) brings every field to the common width d.
///
/// One module serves three methods:
/// - MLET (multi-layer embedding training): k > d for every field. Training the factorised
///   pair favours low effective rank, which is the method's point; for inference the map is
///   multiplied into the rows, leaving a plain n x d table.
/// - Mixed dimensions and AutoDim's retraining: k < d for some fields, where an interaction
///   (FM, DeepFM's FM part, DLRM's dot products) needs equal widths. A small table plus its
///   projection is what keeps these models small, so inference keeps the projection.
/// - A field whose k equals d keeps its rows as they are, with no projection (unless built with
///   `projecting:` for `MLETProjectedEmbedding`, which sets such a map itself).
///
/// Initialisation: rows N(0, standardDeviation^2), as a plain table's; projection entries
/// N(0, 1/k). Each output entry is then a sum of k products with variance
/// standardDeviation^2 / k each, so the vectors start with exactly the per-entry variance of a
/// plain table of width d (interaction terms start as small as a plain model's), whatever k is.
public final class ProjectedEmbedding: EmbeddingLayer {
    /// The per-field tables (width k each) and their gathering.
    public let rows: FullEmbedding
    /// Per field: the k x d projection, or nil where the field has none (k = d).
    public let projections: [DenseParameter?]
    /// The common output width d.
    public let dimension: Int
    /// Cores the gather, the scatter and the projection GEMMs may use.
    public var threads: Int {
        get { rows.threads }
        set { rows.threads = newValue }
    }
    private var fieldRows: [Matrix]
    private var fieldRowGradients: [Matrix]
    private var projected = Matrix(rows: 0, columns: 0)
    private var output = Matrix(rows: 0, columns: 0)
    private var fieldGradient = Matrix(rows: 0, columns: 0)
    private var rowsGradient = Matrix(rows: 0, columns: 0)
    private var rowOffsets: [Int]
    /// Per field, its per-distinct-row work space (empty when a field is multi-valued).
    private let distinctRowWork: [UniqueRowProjection]
    /// Whether forward and backward work once per distinct row of each field and batch
    /// (`UniqueRowProjection`) rather than once per batch row. On by default when every field is
    /// single-valued (mean-pooled multi-valued fields take the per-batch-row path); both paths
    /// compute the same values up to the order of additions.
    public var worksPerDistinctRow: Bool

    /// Tables of widths `widths` for fields of `cardinalities` (schema order), each projected to
    /// `dimension`; rows start N(0, standardDeviation^2), projections N(0, 1/k).
    public convenience init(
        cardinalities: [Int], widths: [Int], dimension: Int, categoricalCount: Int, names: [String],
        standardDeviation: Float = 0.01, random: inout SeededRandom
    ) {
        self.init(
            cardinalities: cardinalities, widths: widths, dimension: dimension, projecting: widths.map { $0 != dimension },
            categoricalCount: categoricalCount, names: names, standardDeviation: standardDeviation, random: &random)
    }

    /// The same, with a projection exactly for the fields where `projecting` is true (also where
    /// k = d: `MLETProjectedEmbedding` sets such a projection to a product of two maps).
    init(
        cardinalities: [Int], widths: [Int], dimension: Int, projecting: [Bool], categoricalCount: Int, names: [String],
        standardDeviation: Float = 0.01, random: inout SeededRandom
    ) {
        precondition(dimension >= 1 && widths.allSatisfy { $0 >= 1 }, "ProjectedEmbedding: widths must be positive")
        precondition(
            projecting.count == widths.count && zip(widths, projecting).allSatisfy { $0 == dimension || $1 },
            "ProjectedEmbedding: every field whose width is not d needs a projection")
        rows = FullEmbedding(
            cardinalities: cardinalities, dimensions: widths, categoricalCount: categoricalCount,
            names: names, standardDeviation: standardDeviation, random: &random)
        self.dimension = dimension
        projections = zip(zip(names, widths), projecting).map { field, projects in
            let (name, k) = field
            guard projects else { return nil }
            let value = Matrix.gaussian(rows: k, columns: dimension, standardDeviation: (1 / Float(k)).squareRoot(), random: &random)
            return DenseParameter(name: ParameterPath.projection(ofTable: name), value: value)
        }
        fieldRows = widths.map { Matrix(rows: 0, columns: $0) }
        fieldRowGradients = fieldRows
        var offsets: [Int] = []
        var offset = 0
        for k in widths {
            offsets.append(offset)
            offset += k
        }
        rowOffsets = offsets
        projected = Matrix(rows: 0, columns: dimension)
        output = Matrix(rows: 0, columns: dimension * widths.count)
        fieldGradient = Matrix(rows: 0, columns: dimension)
        rowsGradient = Matrix(rows: 0, columns: offset)
        let singleValued = categoricalCount == widths.count
        distinctRowWork =
            singleValued
            ? zip(cardinalities, widths).map { UniqueRowProjection(tableRows: $0, k: $1, d: dimension) } : []
        worksPerDistinctRow = singleValued
    }

    /// d for every field.
    public var outputDimensions: [Int] { Array(repeating: dimension, count: projections.count) }
    /// The per-field tables.
    public var tables: [EmbeddingTable] { rows.tables }
    /// The projections.
    public var denseParameters: [DenseParameter] { projections.compactMap { $0 } }
    /// Table rows x k plus k x d per projection.
    public var parameterCount: Int { rows.parameterCount + denseParameters.reduce(0) { $0 + $1.value.count } }

    /// Per field, the smaller of two equal functions: the rows times the projection folded into
    /// one n x d table (always, for MLET's k > d), or the n x k table and its k x d projection
    /// (when n k + k d < n d, as for AutoDim's narrow fields).
    public func inferenceForm() -> EmbeddingInferenceForm {
        Self.inferenceForm(tables: rows.tables, projections: projections.map { $0?.value }, dimension: dimension, threads: threads)
    }

    /// The inference form of `tables`, each followed by its projection to `dimension` (none
    /// where nil): a projection is kept where the narrow table plus the projection hold fewer
    /// values than their n x d product, and folded into the table otherwise.
    static func inferenceForm(
        tables fieldTables: [EmbeddingTable], projections: [Matrix?], dimension: Int,
        threads: Int
    ) -> EmbeddingInferenceForm {
        var tables: [EmbeddingTable] = []
        var kept: [Matrix] = []
        var keptNames: [String] = []
        for (table, projection) in zip(fieldTables, projections) {
            guard let projection else {
                tables.append(table)
                continue
            }
            let k = table.dimension
            if table.rows * k + k * dimension < table.rows * dimension {
                tables.append(table)
                kept.append(projection)
                keptNames.append(ParameterPath.projection(ofTable: table.name))
                continue
            }
            let factor = Matrix(rows: table.rows, columns: k, values: table.weights)
            var product = Matrix(rows: table.rows, columns: dimension)
            GEMM.multiply(factor, projection, into: &product, threads: threads)
            tables.append(EmbeddingTable(name: table.name, rows: table.rows, dimension: dimension, weights: product.values))
        }
        return EmbeddingInferenceForm(tables: tables, projections: kept, projectionNames: keptNames)
    }

    /// Gathers each field's rows and projects them to d.
    public func forward(_ batch: Batch, training: Bool) -> Matrix {
        if worksPerDistinctRow && !distinctRowWork.isEmpty { return forwardPerDistinctRow(batch) }
        let gathered = rows.forward(batch, training: training)
        output.resize(rows: batch.size)
        projected.resize(rows: batch.size)
        for (f, projection) in projections.enumerated() {
            gathered.copyColumns(rowOffsets[f], into: &fieldRows[f])
            if let projection {
                GEMM.multiply(fieldRows[f], projection.value, into: &projected, threads: threads)
                output.setColumns(f * dimension, from: projected)
            } else {
                output.setColumns(f * dimension, from: fieldRows[f])
            }
        }
        return output
    }

    /// Projection gradients (rows^T dOut) and row gradients (dOut P^T) per field.
    public func backward(_ outputGradient: Matrix, batch: Batch) {
        if worksPerDistinctRow && !distinctRowWork.isEmpty { return backwardPerDistinctRow(outputGradient, batch: batch) }
        rowsGradient.resize(rows: batch.size)
        for (f, projection) in projections.enumerated() {
            if let projection {
                outputGradient.copyColumns(f * dimension, into: &fieldGradient)
                GEMM.multiply(fieldRows[f], transposeA: true, fieldGradient, into: &projection.gradient, beta: 1, threads: threads)
                fieldRowGradients[f].resize(rows: batch.size)
                GEMM.multiply(fieldGradient, projection.value, transposeB: true, into: &fieldRowGradients[f], threads: threads)
                rowsGradient.setColumns(rowOffsets[f], from: fieldRowGradients[f])
            } else {
                outputGradient.copyColumns(f * dimension, into: &fieldGradient)
                rowsGradient.setColumns(rowOffsets[f], from: fieldGradient)
            }
        }
        rows.backward(rowsGradient, batch: batch)
    }

    /// `forward` with each field's k-wide work done once per distinct row, fields shared out
    /// over the cores.
    private func forwardPerDistinctRow(_ batch: Batch) -> Matrix {
        let size = batch.size
        let c = rows.categoricalCount
        let width = dimension * projections.count
        let d = dimension
        output.resize(rows: size)
        guard size > 0 else { return output }
        precondition(batch.ids.count >= size * c, "ProjectedEmbedding: the batch has \(batch.ids.count) ids for \(size) x \(c) fields")
        let context = UncheckedSendable((distinctRowWork, rows.tables, projections))
        output.withUnsafeMutableBufferPointer { out in
            batch.ids.withUnsafeBufferPointer { ids in
                guard let outBase = out.baseAddress, let idBase = ids.baseAddress else { return }
                let pointers = UncheckedSendable((outBase, idBase))
                Parallel.forEachClaimed(projections.count, threads: threads) { f in
                    let (work, tables, projections) = context.value
                    let (out, ids) = pointers.value
                    work[f].forward(
                        table: tables[f], projection: projections[f], ids: ids + f, idStride: c, count: size,
                        output: out + f * d, outputStride: width)
                }
            }
        }
        return output
    }

    /// `backward` for `forwardPerDistinctRow`.
    private func backwardPerDistinctRow(_ outputGradient: Matrix, batch: Batch) {
        let width = dimension * projections.count
        let d = dimension
        guard batch.size > 0 else { return }
        precondition(outputGradient.columns == width, "ProjectedEmbedding: gradient of \(outputGradient.columns) columns for \(width)")
        let context = UncheckedSendable((distinctRowWork, rows.tables, projections))
        outputGradient.withUnsafeBufferPointer { gradient in
            guard let base = gradient.baseAddress else { return }
            let pointer = UncheckedSendable(base)
            Parallel.forEachClaimed(projections.count, threads: threads) { f in
                let (work, tables, projections) = context.value
                work[f].backward(table: tables[f], projection: projections[f], gradient: pointer.value + f * d, gradientStride: width)
            }
        }
    }
}
