import CompactRecData

/// Builds a model for a prepared dataset: sizes every table from the dataset's cardinalities.
///
/// The embedding layer comes from the configuration's method (`EmbeddingMethod`), which checks
/// itself against the model and the fields and builds its layer: the factory has no branch per
/// method, only one per model.
public enum ModelFactory {
    /// A `configuration.kind` model with `configuration.embedding`'s layer for `store`'s fields.
    public static func make(_ configuration: ModelConfiguration, store: ColumnStore, seed: UInt64) throws(ModelError) -> any CTRModel {
        try make(
            configuration, schema: store.schema, cardinalities: store.manifest.fields.compactMap(\.cardinality),
            seed: seed, source: store.directory)
    }

    /// The same model for fields `schema` whose tables have `cardinalities` rows (schema order),
    /// without a dataset (a model file's model); `source` names the data in messages.
    public static func make(
        _ configuration: ModelConfiguration, schema: Schema, cardinalities: [Int],
        seed: UInt64, source: String
    ) throws(ModelError) -> any CTRModel {
        guard configuration.dimension >= 1 else {
            throw .invalidSetting(.dim, reason: "is \(configuration.dimension); it must be at least 1")
        }
        guard configuration.kind != .dcnv2 || configuration.crossLayers >= 1 else {
            throw .invalidSetting(.crossLayers, reason: "is \(configuration.crossLayers); DCN-v2 needs at least 1")
        }
        let context = EmbeddingContext(
            model: configuration.kind, dimension: configuration.dimension, cardinalities: cardinalities,
            fields: schema.vocabularyFields, categoricalCount: schema.categorical.count, seed: seed)
        let method = configuration.embedding.definition
        try method.validate(in: context)
        var random = SeededRandom(seed: seed, stream: 0x30DE1)
        let embedding = method.makeLayer(in: context, random: &random)
        let model = try build(
            configuration, embedding: embedding, schema: schema, cardinalities: cardinalities, source: source,
            random: &random)
        var seen = Set<String>()
        for name in model.sparseTables.map(\.name) + model.denseParameters.map(\.name) where !seen.insert(name).inserted {
            throw .parameterNameCollision(name: name, source: source)
        }
        return model
    }

    /// The model of `configuration.kind` around `embedding`: the one place a new model is added.
    private static func build(
        _ configuration: ModelConfiguration, embedding: any EmbeddingLayer, schema: Schema,
        cardinalities: [Int], source: String, random: inout SeededRandom
    ) throws(ModelError) -> any CTRModel {
        switch configuration.kind {
        case .lr:
            return LogisticRegression(schema: schema, cardinalities: cardinalities, random: &random)
        case .fm:
            return FactorizationMachine(schema: schema, cardinalities: cardinalities, embedding: embedding, random: &random)
        case .wd:
            return WideAndDeep(
                schema: schema, cardinalities: cardinalities, embedding: embedding, configuration: configuration, random: &random)
        case .deepfm:
            return DeepFM(schema: schema, cardinalities: cardinalities, embedding: embedding, configuration: configuration, random: &random)
        case .dlrm:
            guard embedding.outputDimensions.count + (schema.dense.isEmpty ? 0 : 1) >= 2 else {
                throw .invalidSetting(
                    .model,
                    reason: "DLRM's interaction takes dot products of pairs of vectors, and \(source) has "
                        + "one embedded field and no dense features; use the fm, wd, deepfm or dcnv2 model")
            }
            return DLRM(schema: schema, embedding: embedding, configuration: configuration, random: &random)
        case .dcnv2:
            return DCNv2(
                schema: schema, embedding: embedding, configuration: configuration, crossLayers: configuration.crossLayers,
                random: &random)
        }
    }
}
