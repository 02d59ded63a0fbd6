import CompactRecData

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
    /// DCN-v2: a cross network with full-rank cross matrices, stacked with an MLP.
    case dcnv2

    /// Whether the model's interaction takes dot products of the fields' vectors (FM, DeepFM,
    /// DLRM), so that fields of other widths are projected to one width; Wide & Deep and DCN-v2
    /// concatenate them.
    public var needsEqualWidths: Bool { [.fm, .deepfm, .dlrm].contains(self) }
}

/// Sizes of a model (the usual defaults of the papers' setups) and its embedding method.
public struct ModelConfiguration: Sendable, Codable, Equatable {
    /// The model.
    public var kind: ModelKind
    /// Embedding width d: the width of every field's vector, or the width fields of other
    /// widths are projected to where the interaction needs equal widths.
    public var dimension: Int = 16
    /// How the fields are embedded: plain tables (of d, or per-field widths), MLET, the
    /// quotient-remainder trick, AutoDim's search supernet.
    public var embedding: EmbeddingMethod = .plainTables
    /// Hidden widths of DeepFM's, Wide & Deep's and DCN-v2's MLP.
    public var mlp: [Int] = [400, 400, 400]
    /// DLRM's bottom MLP hidden widths (its last layer has width d).
    public var bottomMLP: [Int] = [512, 256]
    /// DLRM's top MLP hidden widths (its last layer has width 1).
    public var topMLP: [Int] = [512, 256]
    /// DCN-v2's cross layers.
    public var crossLayers = 3
    /// BatchNorm after each hidden Linear.
    public var batchNorm = false
    /// Dropout rate after each hidden activation.
    public var dropout: Float = 0

    /// A configuration with the defaults.
    public init(kind: ModelKind, dimension: Int = 16, embedding: EmbeddingMethod = .plainTables) {
        self.kind = kind
        self.dimension = dimension
        self.embedding = embedding
    }

    private enum CodingKeys: String, CodingKey {
        case kind, dimension, embedding, mlp, bottomMLP, topMLP, crossLayers, batchNorm, dropout
        /// Written before the embedding method was a value (checkpoint 3, model file 2).
        case fieldDimensions, innerDimensions
    }

    /// Decodes a configuration; one written before `embedding` existed has per-field widths
    /// (`fieldDimensions`) and MLET's inner widths (`innerDimensions`) instead, which map to
    /// the same method.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(ModelKind.self, forKey: .kind)
        dimension = try container.decode(Int.self, forKey: .dimension)
        if let embedding = try container.decodeIfPresent(EmbeddingMethod.self, forKey: .embedding) {
            self.embedding = embedding
        } else {
            let widths = try container.decodeIfPresent([Int].self, forKey: .fieldDimensions)
            if let inner = try container.decodeIfPresent([Int].self, forKey: .innerDimensions) {
                embedding = .mlet(MLETEmbeddingMethod(innerWidths: inner, widths: widths))
            } else {
                embedding = .plain(PlainEmbeddingMethod(widths: widths))
            }
        }
        mlp = try container.decode([Int].self, forKey: .mlp)
        bottomMLP = try container.decode([Int].self, forKey: .bottomMLP)
        topMLP = try container.decode([Int].self, forKey: .topMLP)
        crossLayers = try container.decodeIfPresent(Int.self, forKey: .crossLayers) ?? 3
        batchNorm = try container.decode(Bool.self, forKey: .batchNorm)
        dropout = try container.decode(Float.self, forKey: .dropout)
    }

    /// Encodes every setting (the embedding method as a value).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(dimension, forKey: .dimension)
        try container.encode(embedding, forKey: .embedding)
        try container.encode(mlp, forKey: .mlp)
        try container.encode(bottomMLP, forKey: .bottomMLP)
        try container.encode(topMLP, forKey: .topMLP)
        try container.encode(crossLayers, forKey: .crossLayers)
        try container.encode(batchNorm, forKey: .batchNorm)
        try container.encode(dropout, forKey: .dropout)
    }
}
