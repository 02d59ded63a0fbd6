import CompactRecData

/// DLRM (Naumov et al. 2019): a bottom MLP maps the dense values to a vector of width d, the
/// pairwise dot products of that vector and the field embeddings form the interaction, and a
/// top MLP reads the bottom vector with the dot products to give the logit.
///
/// Without dense features (Avazu, MovieLens, libFM data) there is no bottom MLP, as in DLRM's
/// reference: the interaction is the pairwise dots of the field embeddings alone, and the top
/// MLP reads just those, `logit = top(<e_i, e_j> for j < i)`.
public final class DLRM: CTRModel {
    /// Field embeddings (equal widths d).
    public let embedding: any EmbeddingLayer
    /// The bottom MLP, nil when the data has no dense features.
    public let bottom: MLP?
    let interaction: DotInteraction
    public let top: MLP

    /// A DLRM with `embedding` (width d for every field), bottom MLP `bottomMLP` + [d] (none
    /// when `schema` has no dense fields) and top MLP `topMLP` + [1]. The interaction needs two
    /// vectors at least: the dense vector and one field, or two fields (`ModelFactory` checks).
    public init(schema: Schema, embedding: any EmbeddingLayer, configuration: ModelConfiguration, random: inout SeededRandom) {
        precondition(Set(embedding.outputDimensions).count <= 1, "DLRM needs equal field widths (add a projection)")
        self.embedding = embedding
        let d = embedding.outputDimensions.first ?? configuration.dimension
        let hasDense = !schema.dense.isEmpty
        bottom =
            hasDense
            ? MLP(
                inputs: schema.dense.count, hidden: configuration.bottomMLP + [d], outputs: nil,
                batchNorm: configuration.batchNorm, dropout: 0, name: "bottom_mlp", random: &random)
            : nil
        let fields = embedding.outputDimensions.count + (hasDense ? 1 : 0)
        interaction = DotInteraction(fields: fields, dimension: d, includeSelf: false)
        let pairs = fields * (fields - 1) / 2
        top = MLP(
            inputs: (hasDense ? d : 0) + pairs, hidden: configuration.topMLP, outputs: 1, batchNorm: configuration.batchNorm,
            dropout: configuration.dropout, name: "top_mlp", random: &random)
    }

    /// The embedding tables.
    public var sparseTables: [EmbeddingTable] { embedding.tables }
    /// Both MLPs and the embedding's projections.
    public var denseParameters: [DenseParameter] { (bottom?.parameters ?? []) + top.parameters + embedding.denseParameters }

    /// The MLPs' running statistics and dropout generators.
    public var trainingStates: [any TrainingState] { (bottom?.states ?? []) + top.states }

    /// Kernel threads.
    public func useThreads(_ threads: Int) {
        embedding.threads = threads
        bottom?.threads = threads
        interaction.threads = threads
        top.threads = threads
    }

    /// Bottom MLP, dot interaction (whose output `[dense | pairs]` is the top MLP's input), top
    /// MLP.
    public func forward(_ batch: Batch, training: Bool) -> Matrix {
        let vectors = embedding.forward(batch, training: training)
        guard let bottom else { return top.forward(interaction.forward(vectors, training: training), training: training) }
        let dense = bottom.forward(batch.dense, training: training)
        return top.forward(interaction.forward(dense: dense, vectors: vectors, training: training), training: training)
    }

    /// Gradients through the top MLP, the interaction, the bottom MLP and the embeddings (the
    /// dense input itself needs none).
    public func backward(_ logitGradient: Matrix, batch: Batch) {
        let topGradient = top.backward(logitGradient)
        guard let bottom else {
            embedding.backward(interaction.backward(topGradient), batch: batch)
            return
        }
        let gradients = interaction.backward(concatenatedGradient: topGradient)
        bottom.accumulateParameterGradients(gradients.dense)
        embedding.backward(gradients.vectors, batch: batch)
    }
}
