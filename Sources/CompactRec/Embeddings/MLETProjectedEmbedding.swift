import CompactRecData

/// MLET for per-field widths: each field is trained as an n x k table, a k x d_f map (MLET's
/// inner map) and, where d_f differs from the common width d, the d_f x d projection that
/// equal-width interactions (FM, DeepFM, DLRM) need.
///
/// This is how AutoDim's or MDE's chosen widths d_f are retrained with MLET's wide tables: the
/// inference form multiplies each table by its inner map into an n x d_f table and keeps the
/// projection, so the model served is exactly the plain model of those widths (a
/// `ProjectedEmbedding`), while training sees the wider factorisation that MLET finds easier to
/// optimise.
///
/// Training computes each field's k x d map as the product of the inner map and the projection
/// and hands it to a `ProjectedEmbedding` of widths k; the gradient of that product is then
/// split into the two factors' gradients. The product is recomputed at every forward pass, so
/// it always reflects the two trained factors.
///
/// Initialisation: rows N(0, standardDeviation^2), inner maps N(0, 1/k), projections
/// N(0, 1/d_f): the vectors start with the per-entry variance of a plain table of width d.
public final class MLETProjectedEmbedding: EmbeddingLayer {
    /// The wide tables (width k per field) with, per field, the product map k -> d, which
    /// `forward` sets from the two factors (so it is stale after an optimizer step until then).
    let product: ProjectedEmbedding
    /// Per field, MLET's k x d_f inner map, or nil where k = d_f.
    public let innerMaps: [DenseParameter?]
    /// Per field, the d_f x d projection to the common width, or nil where d_f = d.
    public let projections: [DenseParameter?]
    /// Per field, the width d_f of its inference table.
    public let widths: [Int]
    /// The common output width d.
    public var dimension: Int { product.dimension }
    /// Cores the gather, the scatter and the products may use.
    public var threads: Int {
        get { product.threads }
        set { product.threads = newValue }
    }

    /// Fields of `cardinalities` (schema order) trained as tables of `innerWidths` (k, at least
    /// the field's width) times maps to `widths` (d_f), projected to `dimension` where d_f
    /// differs from it.
    public init(
        cardinalities: [Int], innerWidths: [Int], widths: [Int], dimension: Int, categoricalCount: Int, names: [String],
        standardDeviation: Float = 0.01, random: inout SeededRandom
    ) {
        precondition(
            innerWidths.count == widths.count && zip(innerWidths, widths).allSatisfy { $0 >= $1 && $1 >= 1 },
            "MLETProjectedEmbedding: every inner width must be at least its field's width")
        let projecting = zip(innerWidths, widths).map { k, width in k != width || width != dimension }
        product = ProjectedEmbedding(
            cardinalities: cardinalities, widths: innerWidths, dimension: dimension, projecting: projecting,
            categoricalCount: categoricalCount, names: names, standardDeviation: standardDeviation,
            random: &random)
        innerMaps = zip(names, zip(innerWidths, widths)).map { name, pair in
            let (k, width) = pair
            guard k != width else { return nil }
            return DenseParameter(
                name: "\(name).mlet",
                value: .gaussian(
                    rows: k, columns: width,
                    standardDeviation: (1 / Float(k)).squareRoot(), random: &random))
        }
        projections = zip(names, widths).map { name, width in
            guard width != dimension else { return nil }
            return DenseParameter(
                name: ParameterPath.projection(ofTable: name),
                value: .gaussian(
                    rows: width, columns: dimension,
                    standardDeviation: (1 / Float(width)).squareRoot(),
                    random: &random))
        }
        self.widths = widths
    }

    /// d for every field.
    public var outputDimensions: [Int] { product.outputDimensions }
    /// The wide per-field tables.
    public var tables: [EmbeddingTable] { product.tables }
    /// The inner maps, then the projections.
    public var denseParameters: [DenseParameter] { innerMaps.compactMap { $0 } + projections.compactMap { $0 } }
    /// Table rows x k plus the inner maps and projections.
    public var parameterCount: Int {
        product.rows.parameterCount + denseParameters.reduce(0) { $0 + $1.value.count }
    }

    /// Per field, the table times its inner map (n x d_f) with its projection kept, or folded
    /// into an n x d table where that is smaller: the plain model of widths `widths`.
    public func inferenceForm() -> EmbeddingInferenceForm {
        let narrow = zip(product.tables, innerMaps).map { table, innerMap -> EmbeddingTable in
            guard let innerMap else { return table }
            var folded = Matrix(rows: table.rows, columns: innerMap.value.columns)
            GEMM.multiply(
                Matrix(rows: table.rows, columns: table.dimension, values: table.weights), innerMap.value, into: &folded,
                threads: threads)
            return EmbeddingTable(name: table.name, rows: table.rows, dimension: folded.columns, weights: folded.values)
        }
        return ProjectedEmbedding.inferenceForm(
            tables: narrow, projections: projections.map { $0?.value }, dimension: dimension,
            threads: threads)
    }

    /// Sets each field's k x d map to the product of its factors, then runs the wide tables.
    public func forward(_ batch: Batch, training: Bool) -> Matrix {
        for f in widths.indices {
            guard let map = product.projections[f] else { continue }
            switch (innerMaps[f], projections[f]) {
            case (let innerMap?, let projection?): GEMM.multiply(innerMap.value, projection.value, into: &map.value)
            case (let innerMap?, nil): map.value = innerMap.value
            case (nil, let projection?): map.value = projection.value
            case (nil, nil): break
            }
        }
        return product.forward(batch, training: training)
    }

    /// Row gradients as for any projected table; the product map's gradient G is split into
    /// G P^T for the inner map and M^T G for the projection.
    public func backward(_ outputGradient: Matrix, batch: Batch) {
        for map in product.projections { map?.zeroGradient() }
        product.backward(outputGradient, batch: batch)
        for f in widths.indices {
            guard let map = product.projections[f] else { continue }
            switch (innerMaps[f], projections[f]) {
            case (let innerMap?, let projection?):
                GEMM.multiply(map.gradient, projection.value, transposeB: true, into: &innerMap.gradient, beta: 1)
                GEMM.multiply(innerMap.value, transposeA: true, map.gradient, into: &projection.gradient, beta: 1)
            case (let innerMap?, nil): Self.accumulate(map.gradient, into: &innerMap.gradient)
            case (nil, let projection?): Self.accumulate(map.gradient, into: &projection.gradient)
            case (nil, nil): break
            }
        }
    }

    /// `target += source` for the small maps (k x d values).
    private static func accumulate(_ source: Matrix, into target: inout Matrix) {
        for i in 0..<source.rows {
            for j in 0..<source.columns { target[i, j] += source[i, j] }
        }
    }
}
