/// "Table, then projection": each field's rows have their own width k, and a learned linear map
/// k -> d brings every field to the common width d that an interaction (FM, DeepFM's FM part,
/// DLRM's dot products) needs.
///
/// Mixed dimensions and AutoDim's retraining use it with k < d for some fields (a field whose k
/// already equals d keeps its rows as they are, with no projection); MLET uses it with k > d
/// and folds the map into the rows for inference. Either way the inference form is a plain
/// n x d table per field: each row times its field's projection.
public final class ProjectedEmbedding: EmbeddingLayer {
    /// The per-field tables (width k each) and their gathering.
    public let rows: FullEmbedding
    /// Per field: the k x d projection, or nil where k = d.
    public let projections: [DenseParameter?]
    /// The common output width d.
    public let dimension: Int
    /// Cores the projection GEMMs may use.
    public var threads = 1
    private var fieldRows: [Matrix]
    private var fieldRowGradients: [Matrix]
    private var projected = Matrix(rows: 0, columns: 0)
    private var output = Matrix(rows: 0, columns: 0)
    private var fieldGradient = Matrix(rows: 0, columns: 0)
    private var rowsGradient = Matrix(rows: 0, columns: 0)
    private var rowOffsets: [Int]

    /// Tables of widths `widths` for fields of `cardinalities` (schema order), each projected to
    /// `dimension`; rows start N(0, standardDeviation^2), projections Glorot-uniform.
    public init(cardinalities: [Int], widths: [Int], dimension: Int, categoricalCount: Int, names: [String],
                standardDeviation: Float = 0.01, random: inout SeededRandom) {
        precondition(dimension >= 1 && widths.allSatisfy { $0 >= 1 }, "ProjectedEmbedding: widths must be positive")
        rows = FullEmbedding(cardinalities: cardinalities, dimensions: widths, categoricalCount: categoricalCount,
                             names: names, standardDeviation: standardDeviation, random: &random)
        self.dimension = dimension
        projections = zip(names, widths).map { name, k in
            guard k != dimension else { return nil }
            let limit = (6 / Float(k + dimension)).squareRoot()
            return DenseParameter(name: "\(name).projection", value: .uniform(rows: k, columns: dimension, limit: limit, random: &random))
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
    }

    /// d for every field.
    public var outputDimensions: [Int] { Array(repeating: dimension, count: projections.count) }
    /// The per-field tables.
    public var tables: [EmbeddingTable] { rows.tables }
    /// The projections.
    public var denseParameters: [DenseParameter] { projections.compactMap { $0 } }
    /// Table rows x k plus k x d per projection.
    public var parameterCount: Int { rows.parameterCount + denseParameters.reduce(0) { $0 + $1.value.count } }

    /// Each field's rows times its projection: n x d tables.
    public func inferenceTables() -> [EmbeddingTable] {
        zip(rows.tables, projections).map { table, projection in
            guard let projection else { return table }
            let folded = Matrix(rows: table.rows, columns: table.dimension, values: table.weights)
            var product = Matrix(rows: table.rows, columns: dimension)
            GEMM.multiply(folded, projection.value, into: &product, threads: threads)
            return EmbeddingTable(name: table.name, rows: table.rows, dimension: dimension, weights: product.storage)
        }
    }

    /// Gathers each field's rows and projects them to d.
    public func forward(_ batch: Batch, training: Bool) -> Matrix {
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
}
