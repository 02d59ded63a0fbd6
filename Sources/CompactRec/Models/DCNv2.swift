import CompactRecData

/// DCN-v2 (Wang et al. 2021, "DCN V2: Improved Deep & Cross Network"), stacked structure: the
/// field embeddings concatenated with the dense values form `x_0` (width
/// `D = embedding.outputWidth + dense fields`), a `CrossNetwork` of full-rank cross layers
/// computes explicit feature crosses `x_L`, and an MLP on `x_L` gives the logit.
///
///     logit = MLP(CrossNetwork(x_0)),   x_0 = [e_1, ..., e_F, dense]
///
/// The fields are concatenated, so they may have different widths (as in Wide & Deep). There is
/// no first-order term: the cross network's residual path already carries `x_0` through. The
/// dense values are data, so the backward pass gives the embedding only the embedding columns of
/// dL/dx_0.
public final class DCNv2: CTRModel {
    /// Field embeddings (any widths).
    public let embedding: any EmbeddingLayer
    /// The cross layers over `x_0` (named `"cross"`).
    public let cross: CrossNetwork
    /// The MLP from the cross network's output to the logit (named `"mlp"`).
    public let mlp: MLP
    /// Columns of `x_0` that are field vectors (the rest are dense values).
    private let embeddingWidth: Int
    /// Dense values per row.
    private let denseCount: Int
    /// `x_0` when there are dense values (without them it is the embedding's output itself).
    private var input: Matrix
    /// The embedding columns of dL/dx_0 when there are dense values.
    private var embeddingGradient: Matrix

    /// A DCN-v2 over `schema`'s fields with `embedding`, `crossLayers` cross layers and an MLP of
    /// `configuration.mlp` (with its batch normalisation and dropout) to one logit. Draws from
    /// `random` the cross layers' weights, then the MLP's.
    public init(
        schema: Schema, embedding: any EmbeddingLayer, configuration: ModelConfiguration, crossLayers: Int,
        random: inout SeededRandom
    ) {
        precondition(crossLayers >= 0, "DCNv2 needs a non-negative number of cross layers, got \(crossLayers)")
        let embeddingWidth = embedding.outputWidth
        let denseCount = schema.dense.count
        let width = embeddingWidth + denseCount
        precondition(width > 0, "DCNv2 needs at least one embedding or dense column")
        self.embedding = embedding
        self.embeddingWidth = embeddingWidth
        self.denseCount = denseCount
        cross = CrossNetwork(width: width, layers: crossLayers, name: "cross", random: &random)
        mlp = MLP(
            inputs: width, hidden: configuration.mlp, outputs: 1, batchNorm: configuration.batchNorm,
            dropout: configuration.dropout, name: "mlp", random: &random)
        input = Matrix(rows: 0, columns: width)
        embeddingGradient = Matrix(rows: 0, columns: embeddingWidth)
    }

    /// The embedding tables.
    public var sparseTables: [EmbeddingTable] { embedding.tables }
    /// Cross layers, MLP, the embedding's projections.
    public var denseParameters: [DenseParameter] { cross.parameters + mlp.parameters + embedding.denseParameters }

    /// The MLP's running statistics and dropout generators.
    public var trainingStates: [any TrainingState] { mlp.states }

    /// Kernel threads.
    public func useThreads(_ threads: Int) {
        embedding.threads = threads
        cross.threads = threads
        mlp.threads = threads
    }

    /// `x_0 = [field vectors | dense values]`, the cross network, the MLP.
    public func forward(_ batch: Batch, training: Bool) -> Matrix {
        let vectors = embedding.forward(batch, training: training)
        guard denseCount > 0 else {
            // x_0 is the field vectors alone: no copy.
            return mlp.forward(cross.forward(vectors, training: training), training: training)
        }
        precondition(batch.dense.columns == denseCount, "DCNv2 expects \(denseCount) dense values, the batch has \(batch.dense.columns)")
        input.resize(rows: vectors.rows)
        input.setColumns(0, from: vectors)
        input.setColumns(embeddingWidth, from: batch.dense)
        return mlp.forward(cross.forward(input, training: training), training: training)
    }

    /// Gradients of the MLP, the cross layers and the embeddings (the dense values' columns of
    /// dL/dx_0 are dropped).
    public func backward(_ logitGradient: Matrix, batch: Batch) {
        let inputGradient = cross.backward(mlp.backward(logitGradient))
        guard denseCount > 0 else {
            embedding.backward(inputGradient, batch: batch)
            return
        }
        inputGradient.copyColumns(0, into: &embeddingGradient)
        embedding.backward(embeddingGradient, batch: batch)
    }
}
