import CompactRecData

/// What every embedding method provides to every model: per-field vectors for a batch, their
/// backward pass, parameters, and the plain-table inference form.
///
/// Models never see the method: they receive one `Matrix` of batch x (sum of field widths), the
/// fields' vectors side by side in schema order (categorical fields, then multi-valued fields,
/// each mean-pooled), and pass its gradient back. MLET, mixed dimensions and AutoDim plug in by
/// conforming to this protocol.
public protocol EmbeddingLayer: AnyObject {
    /// Output width of each field, in schema order (categorical, then multi-valued).
    var outputDimensions: [Int] { get }
    /// The field vectors of `batch`, batch x outputDimensions.sum().
    func forward(_ batch: Batch, training: Bool) -> Matrix
    /// Accumulates gradients from dLoss/dOutput (batch x outputDimensions.sum()).
    func backward(_ outputGradient: Matrix, batch: Batch)
    /// Tables updated sparsely (only the rows a batch used).
    var tables: [EmbeddingTable] { get }
    /// Dense parameters (projections), updated every step.
    var denseParameters: [DenseParameter] { get }
    /// Embedding parameters counted as the method trains them.
    var parameterCount: Int { get }
    /// Cores the gather, the scatter and any projections may use (any count gives the same
    /// result).
    var threads: Int { get set }
    /// The form inference uses (what is evaluated at the end of training, exported and served):
    /// the same function of the ids, stored as small as the method allows.
    func inferenceForm() -> EmbeddingInferenceForm
}

/// An embedding layer's inference form: per-field tables, and the k -> d projections kept where
/// a table narrower than d plus its projection is smaller than the folded n x d table; or, for a
/// method that is its own inference form (the quotient-remainder trick), its tables and that
/// method.
///
/// `ModelFactory` builds exactly this structure from `method` (by default plain tables of
/// `widths`: a `FullEmbedding`, or a `ProjectedEmbedding` where some width differs from d in a
/// model that needs equal widths), so the weights load into it by name as they are.
public struct EmbeddingInferenceForm {
    /// Per field, the width of its inference table.
    public var widths: [Int]
    /// Per field, its table.
    public var tables: [EmbeddingTable]
    /// The kept projections, in field order (one per field whose width differs from d in a
    /// projected layer).
    public var projections: [Matrix]
    /// Their path names (`ParameterPath.projection(ofTable:)`), as the plain layer the form
    /// loads into names them.
    public var projectionNames: [String]
    /// The method whose layer these weights load into; nil: plain tables of `widths`.
    public var method: EmbeddingMethod?

    /// A form of `tables` (their widths) and the kept `projections` named `projectionNames`,
    /// loaded into `method`'s layer (nil: plain tables).
    public init(tables: [EmbeddingTable], projections: [Matrix], projectionNames: [String], method: EmbeddingMethod? = nil) {
        precondition(projections.count == projectionNames.count, "EmbeddingInferenceForm: a name per projection")
        widths = tables.map(\.dimension)
        self.tables = tables
        self.projections = projections
        self.projectionNames = projectionNames
        self.method = method
    }

    /// The method the inference model is built with, for a model of width `dimension`.
    public func inferenceMethod(dimension: Int) -> EmbeddingMethod {
        method ?? .plain(PlainEmbeddingMethod(widths: widths.allSatisfy { $0 == dimension } ? nil : widths))
    }

    /// Values in the tables and projections.
    public var parameterCount: Int { tables.reduce(0) { $0 + $1.parameterCount } + projections.reduce(0) { $0 + $1.count } }
}

extension EmbeddingLayer {
    /// Total output width.
    public var outputWidth: Int { outputDimensions.reduce(0, +) }
}
