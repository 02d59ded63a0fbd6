import CompactRecData

/// A trained model in the form that is evaluated at the end of training, written to
/// `best.weights` and exported: the embedding's inference form (MLET's table and map multiplied
/// into one n x d table; AutoDim's narrow tables with their projections) and the model's other
/// weights as they are.
///
/// Its `configuration`'s embedding method is the inference form's (plain tables for FDE, MLET
/// and mixed widths; the quotient-remainder trick's two tables per field), so `ModelFactory`
/// builds the model these weights load into: an MLET model of width d becomes, byte for byte,
/// the same kind of model as one trained with plain tables of width d.
public struct InferenceModel: Sendable {
    /// What `ModelFactory.make` builds for these weights (never MLET or a search supernet).
    public var configuration: ModelConfiguration
    /// The values, named as that model's tables and parameters.
    public var weights: ModelWeights
    /// Parameters of the embedding tables and kept projections.
    public var embeddingParameterCount: Int
    /// All parameters.
    public var totalParameterCount: Int

    /// The inference form of `model`, which `configuration` describes: the embedding's tables
    /// and parameters are replaced by its inference form's, the rest carry over unchanged; every
    /// value keeps its path name, so the model `configuration` builds takes them by name.
    public init(_ model: any CTRModel, configuration: ModelConfiguration) {
        let embedding = model.embedding
        let form = embedding.inferenceForm()
        let embeddingTables = Set(embedding.tables.map(ObjectIdentifier.init))
        let embeddingParameters = Set(embedding.denseParameters.map(ObjectIdentifier.init))
        let tables = form.tables + model.sparseTables.filter { !embeddingTables.contains(ObjectIdentifier($0)) }
        let dense =
            model.denseParameters.filter { !embeddingParameters.contains(ObjectIdentifier($0)) }.map { ($0.name, $0.value) }
            + zip(form.projectionNames, form.projections).map { ($0, $1) }
        weights = ModelWeights(
            tables: tables.map { ($0.name, $0.rows, $0.dimension, $0.weights) }, dense: dense,
            states: model.trainingStates.map(\.stateWords))
        var inference = configuration
        inference.embedding = form.inferenceMethod(dimension: configuration.dimension)
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
