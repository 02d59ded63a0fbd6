import CompactRecData

/// Wide & Deep (Cheng et al. 2016): a linear model on the raw features (wide) plus an MLP on
/// the embeddings and dense values (deep); the logit is their sum. The deep part concatenates
/// field vectors, so fields may have different widths.
public final class WideAndDeep: CTRModel {
    /// Field embeddings.
    public let embedding: any EmbeddingLayer
    /// The wide part.
    public let linear: FirstOrderTerm
    public let deep: DeepPart
    private var logits = Matrix(rows: 0, columns: 1)

    /// A Wide & Deep model with `embedding` and an MLP of `configuration.mlp`.
    public init(
        schema: Schema, cardinalities: [Int], embedding: any EmbeddingLayer, configuration: ModelConfiguration,
        random: inout SeededRandom
    ) {
        self.embedding = embedding
        linear = FirstOrderTerm(
            cardinalities: cardinalities, names: schema.vocabularyFields,
            categoricalCount: schema.categorical.count, denseCount: schema.dense.count, random: &random)
        deep = DeepPart(
            embeddingWidth: embedding.outputWidth, denseCount: schema.dense.count, configuration: configuration, random: &random)
    }

    /// Embedding tables and wide weights.
    public var sparseTables: [EmbeddingTable] { embedding.tables + linear.weights.tables }
    /// MLP, dense wide weights, the embedding's projections.
    public var denseParameters: [DenseParameter] { linear.parameters + deep.parameters + embedding.denseParameters }

    /// The MLPs' running statistics and dropout generators.
    public var trainingStates: [any TrainingState] { deep.mlp.states }

    /// Kernel threads.
    public func useThreads(_ threads: Int) {
        embedding.threads = threads
        linear.useThreads(threads)
        deep.useThreads(threads)
    }

    /// Wide + deep.
    public func forward(_ batch: Batch, training: Bool) -> Matrix {
        let wide = linear.forward(batch, training: training)
        let vectors = embedding.forward(batch, training: training)
        let deepLogits = deep.forward(vectors: vectors, dense: batch.dense, training: training)
        logits.resize(rows: batch.size)
        for b in 0..<batch.size { logits[b, 0] = wide[b, 0] + deepLogits[b, 0] }
        return logits
    }

    /// Gradients of both parts.
    public func backward(_ logitGradient: Matrix, batch: Batch) {
        linear.backward(logitGradient, batch: batch)
        embedding.backward(deep.backward(logitGradient), batch: batch)
    }
}
