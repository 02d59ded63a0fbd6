/// A click-through-rate model: embeddings (any `EmbeddingLayer`), an interaction, dense layers,
/// and one logit per row. Forward and backward are written by hand for every model.
public protocol CTRModel: AnyObject {
    /// The model's embedding method (what MLET and AutoDim replace).
    var embedding: any EmbeddingLayer { get }
    /// Sparse-updated tables: the embedding's and the model's own first-order weights.
    var sparseTables: [EmbeddingTable] { get }
    /// Dense parameters: the model's layers and the embedding's projections.
    var denseParameters: [DenseParameter] { get }
    /// BatchNorm running statistics and dropout generators (saved with the weights).
    var trainingStates: [any TrainingState] { get }
    /// Logits for `batch`, batch x 1.
    func forward(_ batch: Batch, training: Bool) -> Matrix
    /// Accumulates every gradient from dLoss/dLogits (batch x 1).
    func backward(_ logitGradient: Matrix, batch: Batch)
    /// Sets how many threads the model's dense kernels use.
    func useThreads(_ threads: Int)
}

extension CTRModel {
    /// Forward and backward on `batch` (training mode), every gradient zeroed first; returns the
    /// loss, or throws `nonFiniteLoss` naming `step` before any gradient is touched.
    public func computeGradients(on batch: Batch, loss: SigmoidCrossEntropy, step: Int) throws(TrainingError) -> Float {
        let logits = forward(batch, training: true)
        let value = loss.loss(logits: logits, labels: batch.labels)
        guard value.isFinite else { throw .nonFiniteLoss(step: step, loss: value, checkpoint: nil) }
        for table in sparseTables { table.zeroGradient() }
        for parameter in denseParameters { parameter.zeroGradient() }
        backward(loss.gradient(logits: logits, labels: batch.labels), batch: batch)
        return value
    }

    /// Parameters in embedding tables (what compact embeddings shrink).
    public var embeddingParameterCount: Int { embedding.parameterCount }
    /// All parameters.
    public var totalParameterCount: Int {
        embedding.parameterCount
            + sparseTables.filter { table in !embedding.tables.contains { $0 === table } }.reduce(0) { $0 + $1.parameterCount }
            + denseParameters.reduce(0) { $0 + $1.value.count }
    }
}

/// Which model to build.
public enum ModelKind: String, Sendable, Codable, CaseIterable {
    /// Logistic regression on one-hot features and dense values.
    case lr
    /// Factorization machine: first order plus pairwise field interactions.
    case fm
    /// Wide & Deep: a linear (wide) part plus an MLP on embeddings and dense values.
    case wd
    /// DeepFM: FM plus an MLP sharing the embeddings.
    case deepfm
    /// DLRM: bottom MLP on dense values, pairwise dot interaction, top MLP.
    case dlrm

    /// Whether the model's interaction takes dot products of the fields' vectors (FM, DeepFM,
    /// DLRM), so that fields of other widths are projected to one width; W&D concatenates them.
    public var needsEqualWidths: Bool { [.fm, .deepfm, .dlrm].contains(self) }
}

/// Sizes of a model (the usual defaults of the papers' setups).
public struct ModelConfiguration: Sendable, Codable, Equatable {
    /// The model.
    public var kind: ModelKind
    /// Embedding width d.
    public var dimension: Int = 16
    /// Per-field embedding widths in schema order (nil: `dimension` for every field). Models
    /// whose interaction needs equal widths (FM, DeepFM, DLRM) project each field to
    /// `dimension`; Wide & Deep concatenates the fields as they are.
    public var fieldDimensions: [Int]?
    /// MLET: per-field inner widths k (schema order; each at least `dimension`). Each field is
    /// trained as an n x k table followed by a k x d linear map, multiplied into one n x d table
    /// for inference. Nil: the fields' tables are trained directly.
    public var innerDimensions: [Int]?
    /// Hidden widths of DeepFM's and Wide & Deep's MLP.
    public var mlp: [Int] = [400, 400, 400]
    /// DLRM's bottom MLP hidden widths (its last layer has width d).
    public var bottomMLP: [Int] = [512, 256]
    /// DLRM's top MLP hidden widths (its last layer has width 1).
    public var topMLP: [Int] = [512, 256]
    /// BatchNorm after each hidden Linear.
    public var batchNorm = false
    /// Dropout rate after each hidden activation.
    public var dropout: Float = 0

    /// A configuration with the defaults.
    public init(kind: ModelKind, dimension: Int = 16) {
        self.kind = kind
        self.dimension = dimension
    }
}
