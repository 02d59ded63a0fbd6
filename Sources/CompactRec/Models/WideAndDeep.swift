/// Wide & Deep (Cheng et al. 2016): a linear model on the raw features (wide) plus an MLP on
/// the embeddings and dense values (deep); the logit is their sum. The deep part concatenates
/// field vectors, so fields may have different widths.
public final class WideAndDeep: CTRModel {
    /// Field embeddings.
    public let embedding: any EmbeddingLayer
    /// The wide part.
    public let linear: FirstOrderTerm
    let mlp: MLP
    private var mlpInput = Matrix(rows: 0, columns: 0)
    private var embeddingGradient = Matrix(rows: 0, columns: 0)
    private var logits = Matrix(rows: 0, columns: 1)

    /// A Wide & Deep model with `embedding` and an MLP of `configuration.mlp`.
    public init(schema: Schema, cardinalities: [Int], embedding: any EmbeddingLayer, configuration: ModelConfiguration,
                random: inout SeededRandom) {
        self.embedding = embedding
        linear = FirstOrderTerm(cardinalities: cardinalities, names: schema.vocabularyFields,
                                categoricalCount: schema.categorical.count, denseCount: schema.dense.count, random: &random)
        let inputs = embedding.outputWidth + schema.dense.count
        mlp = MLP(inputs: inputs, hidden: configuration.mlp, outputs: 1, batchNorm: configuration.batchNorm,
                  dropout: configuration.dropout, random: &random)
        mlpInput = Matrix(rows: 0, columns: inputs)
        embeddingGradient = Matrix(rows: 0, columns: embedding.outputWidth)
    }

    /// Embedding tables and wide weights.
    public var sparseTables: [EmbeddingTable] { embedding.tables + linear.weights.tables }
    /// MLP, dense wide weights, the embedding's projections.
    public var denseParameters: [DenseParameter] { linear.parameters + mlp.parameters + embedding.denseParameters }

    /// Wide + deep.
    public func forward(_ batch: Batch, training: Bool) -> Matrix {
        let wide = linear.forward(batch, training: training)
        let vectors = embedding.forward(batch, training: training)
        mlpInput.resize(rows: batch.size)
        mlpInput.setColumns(0, from: vectors)
        mlpInput.setColumns(vectors.columns, from: batch.dense)
        let deep = mlp.forward(mlpInput, training: training)
        logits.resize(rows: batch.size)
        for b in 0..<batch.size { logits[b, 0] = wide[b, 0] + deep[b, 0] }
        return logits
    }

    /// Gradients of both parts.
    public func backward(_ logitGradient: Matrix, batch: Batch) {
        linear.backward(logitGradient, batch: batch)
        mlp.backward(logitGradient).copyColumns(0, into: &embeddingGradient)
        embedding.backward(embeddingGradient, batch: batch)
    }
}
