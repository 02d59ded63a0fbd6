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
    /// The plain per-field tables that inference uses (what is exported and served).
    func inferenceTables() -> [EmbeddingTable]
}

extension EmbeddingLayer {
    /// Total output width.
    public var outputWidth: Int { outputDimensions.reduce(0, +) }
}
