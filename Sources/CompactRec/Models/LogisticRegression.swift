import CompactRecData

/// Logistic regression: logit = bias + sum of one weight per category value + w . dense.
public final class LogisticRegression: CTRModel {
    /// Unused by the logit but kept so every model has an embedding method to report on.
    public let embedding: any EmbeddingLayer
    /// The weights.
    public let linear: FirstOrderTerm

    /// LR over the fields of `schema` with `cardinalities` (schema order).
    public init(schema: Schema, cardinalities: [Int], random: inout SeededRandom) {
        linear = FirstOrderTerm(
            cardinalities: cardinalities, names: schema.vocabularyFields,
            categoricalCount: schema.categorical.count, denseCount: schema.dense.count, random: &random)
        embedding = linear.weights
    }

    /// The per-value weights.
    public var sparseTables: [EmbeddingTable] { linear.weights.tables }
    /// Dense weights and bias.
    public var denseParameters: [DenseParameter] { linear.parameters }
    /// None: no BatchNorm or dropout.
    public var trainingStates: [any TrainingState] { [] }

    /// Kernel threads.
    public func useThreads(_ threads: Int) {
        linear.useThreads(threads)
    }
    /// Logits.
    public func forward(_ batch: Batch, training: Bool) -> Matrix { linear.forward(batch, training: training) }
    /// Gradients.
    public func backward(_ logitGradient: Matrix, batch: Batch) { linear.backward(logitGradient, batch: batch) }
}
