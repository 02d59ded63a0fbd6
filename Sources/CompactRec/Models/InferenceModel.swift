/// A trained model in the form that is evaluated at the end of training, written to
/// `best.weights` and exported: the embedding's inference form (MLET's table and map multiplied
/// into one n x d table; AutoDim's narrow tables with their projections) and the model's other
/// weights as they are.
///
/// Its `configuration` is an ordinary plain-embedding configuration, so `ModelFactory` builds
/// the model these weights load into: an MLET model of width d becomes, byte for byte, the same
/// kind of model as one trained with plain tables of width d.
public struct InferenceModel: Sendable {
    /// What `ModelFactory.make` builds for these weights (never MLET).
    public var configuration: ModelConfiguration
    /// The values, in the order of that model's tables and parameters.
    public var weights: ModelWeights
    /// Parameters of the embedding tables and kept projections.
    public var embeddingParameterCount: Int
    /// All parameters.
    public var totalParameterCount: Int

    /// The inference form of `model`, which `configuration` describes.
    ///
    /// Every model lists its embedding's tables first among its sparse tables and its
    /// embedding's projections last among its dense parameters; the rest carry over unchanged.
    public init(_ model: any CTRModel, configuration: ModelConfiguration) {
        let embedding = model.embedding
        let form = embedding.inferenceForm()
        let sparse = model.sparseTables
        let dense = model.denseParameters
        let tableCount = embedding.tables.count
        let projectionCount = embedding.denseParameters.count
        precondition(zip(sparse, embedding.tables).allSatisfy { $0 === $1 } && dense.count >= projectionCount
                     && zip(dense.suffix(projectionCount), embedding.denseParameters).allSatisfy { $0 === $1 },
                     "InferenceModel: the model must list its embedding's tables first and its projections last")
        let tables = form.tables + sparse.dropFirst(tableCount)
        weights = ModelWeights(tables: tables.map { ($0.rows, $0.dimension, $0.weights) },
                               dense: dense.dropLast(projectionCount).map(\.value) + form.projections,
                               states: model.trainingStates.map(\.stateWords))
        var inference = configuration
        inference.innerDimensions = nil
        inference.fieldDimensions = form.widths.allSatisfy { $0 == configuration.dimension } ? nil : form.widths
        self.configuration = inference
        embeddingParameterCount = form.parameterCount
        totalParameterCount = weights.tables.reduce(0) { $0 + $1.values.count } + weights.dense.reduce(0) { $0 + $1.count }
    }

    /// Whether the inference form is the trained model itself (nothing folded, nothing dropped):
    /// then the weights load back into the training model.
    public func isForm(of configuration: ModelConfiguration) -> Bool { self.configuration == configuration }

    /// The model of `configuration` on `store`'s fields, holding these weights.
    public func makeModel(store: ColumnStore, source: String) throws -> any CTRModel {
        let model = try ModelFactory.make(configuration, store: store, seed: 0)
        try weights.restore(into: model, source: source)
        return model
    }
}
