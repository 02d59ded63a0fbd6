import CompactRecData

/// DeepFM (Guo et al. 2017): an FM and an MLP sharing the field embeddings; the MLP reads the
/// embeddings concatenated with the dense values; the logit is the sum of both parts.
public final class DeepFM: CTRModel {
    /// Field embeddings (equal widths).
    public let embedding: any EmbeddingLayer
    /// First-order weights.
    public let linear: FirstOrderTerm
    let interaction: FMInteraction
    public let deep: DeepPart
    private var logits = Matrix(rows: 0, columns: 1)
    private var embeddingGradient = Matrix(rows: 0, columns: 0)

    /// A DeepFM with `embedding` over `schema`'s fields and an MLP of `configuration.mlp`.
    public init(
        schema: Schema, cardinalities: [Int], embedding: any EmbeddingLayer, configuration: ModelConfiguration,
        random: inout SeededRandom
    ) {
        precondition(Set(embedding.outputDimensions).count <= 1, "DeepFM needs equal field widths (add a projection)")
        self.embedding = embedding
        linear = FirstOrderTerm(
            cardinalities: cardinalities, names: schema.vocabularyFields,
            categoricalCount: schema.categorical.count, denseCount: schema.dense.count, random: &random)
        interaction = FMInteraction(fields: embedding.outputDimensions.count, dimension: embedding.outputDimensions.first ?? 0)
        deep = DeepPart(
            embeddingWidth: embedding.outputWidth, denseCount: schema.dense.count, configuration: configuration, random: &random)
        embeddingGradient = Matrix(rows: 0, columns: embedding.outputWidth)
    }

    /// Embedding tables and first-order weights.
    public var sparseTables: [EmbeddingTable] { embedding.tables + linear.weights.tables }
    /// MLP, dense first-order weights, the embedding's projections.
    public var denseParameters: [DenseParameter] { linear.parameters + deep.parameters + embedding.denseParameters }

    /// The MLPs' running statistics and dropout generators.
    public var trainingStates: [any TrainingState] { deep.mlp.states }

    /// Kernel threads.
    public func useThreads(_ threads: Int) {
        embedding.threads = threads
        linear.useThreads(threads)
        interaction.threads = threads
        deep.useThreads(threads)
    }

    /// First order + FM + MLP.
    public func forward(_ batch: Batch, training: Bool) -> Matrix {
        let first = linear.forward(batch, training: training)
        let vectors = embedding.forward(batch, training: training)
        let pairs = interaction.forward(vectors, training: training)
        let deepLogits = deep.forward(vectors: vectors, dense: batch.dense, training: training)
        logits.resize(rows: batch.size)
        for b in 0..<batch.size { logits[b, 0] = first[b, 0] + pairs[b, 0] + deepLogits[b, 0] }
        return logits
    }

    /// Gradients of all three parts; the embeddings get the FM's and the MLP's.
    public func backward(_ logitGradient: Matrix, batch: Batch) {
        linear.backward(logitGradient, batch: batch)
        let fromFM = interaction.backward(logitGradient)
        // Into a workspace of our own: mutating the deep part's returned matrix would copy it.
        deep.backward(logitGradient).copyColumns(0, into: &embeddingGradient)
        fromFM.addColumns(0, to: &embeddingGradient)
        embedding.backward(embeddingGradient, batch: batch)
    }
}
