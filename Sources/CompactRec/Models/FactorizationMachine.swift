import CompactRecData

/// Factorization machine: first-order weights plus the pairwise interactions of the fields'
/// embeddings, sum over field pairs of <v_f, v_g>.
public final class FactorizationMachine: CTRModel {
    /// Field embeddings (any method with equal widths).
    public let embedding: any EmbeddingLayer
    /// First-order weights.
    public let linear: FirstOrderTerm
    let interaction: FMInteraction
    private var logits = Matrix(rows: 0, columns: 1)

    /// An FM with `embedding` over the fields of `schema`.
    public init(schema: Schema, cardinalities: [Int], embedding: any EmbeddingLayer, random: inout SeededRandom) {
        precondition(Set(embedding.outputDimensions).count <= 1, "FM needs equal field widths (add a projection)")
        self.embedding = embedding
        linear = FirstOrderTerm(
            cardinalities: cardinalities, names: schema.vocabularyFields,
            categoricalCount: schema.categorical.count, denseCount: schema.dense.count, random: &random)
        interaction = FMInteraction(fields: embedding.outputDimensions.count, dimension: embedding.outputDimensions.first ?? 0)
    }

    /// Embedding tables and first-order weights.
    public var sparseTables: [EmbeddingTable] { embedding.tables + linear.weights.tables }
    /// Dense weights, bias and the embedding's projections.
    public var denseParameters: [DenseParameter] { linear.parameters + embedding.denseParameters }

    /// None: no BatchNorm or dropout.
    public var trainingStates: [any TrainingState] { [] }

    /// Kernel threads.
    public func useThreads(_ threads: Int) {
        embedding.threads = threads
        linear.useThreads(threads)
        interaction.threads = threads
    }

    /// First order + pairwise term.
    public func forward(_ batch: Batch, training: Bool) -> Matrix {
        let first = linear.forward(batch, training: training)
        let pairs = interaction.forward(embedding.forward(batch, training: training), training: training)
        logits.resize(rows: batch.size)
        for b in 0..<batch.size { logits[b, 0] = first[b, 0] + pairs[b, 0] }
        return logits
    }

    /// Gradients of both terms.
    public func backward(_ logitGradient: Matrix, batch: Batch) {
        linear.backward(logitGradient, batch: batch)
        embedding.backward(interaction.backward(logitGradient), batch: batch)
    }
}
