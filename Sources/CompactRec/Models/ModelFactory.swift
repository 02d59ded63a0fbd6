/// Builds a model for a prepared dataset: sizes every table from the dataset's cardinalities.
public enum ModelFactory {
    /// The embedding methods the CLI offers.
    public enum EmbeddingMethod: String, Sendable, Codable, CaseIterable {
        /// One plain table per field (FDE).
        case plain
        /// Multi-layer embedding training: an n x k table and a k x d map per field, folded
        /// into an n x d table for inference (`ModelConfiguration.innerDimensions`).
        case mlet
    }

    /// A `configuration.kind` model with embeddings of width `configuration.dimension`: MLET's
    /// table-then-projection when `configuration.innerDimensions` is set (trained towards
    /// `configuration.fieldDimensions` where also given), else plain tables (of
    /// `configuration.fieldDimensions` widths where given).
    public static func make(_ configuration: ModelConfiguration, store: ColumnStore,
                            seed: UInt64) throws(DataError) -> any CTRModel {
        try make(configuration, schema: store.schema, cardinalities: store.manifest.fields.compactMap(\.cardinality),
                 seed: seed, source: store.directory)
    }

    /// The same model for fields `schema` whose tables have `cardinalities` rows (schema order),
    /// without a dataset (a model file's model); `source` names the data in messages.
    public static func make(_ configuration: ModelConfiguration, schema: Schema, cardinalities: [Int],
                            seed: UInt64, source: String) throws(DataError) -> any CTRModel {
        guard configuration.dimension >= 1 else { throw .invalidOption("--dim must be at least 1") }
        var random = SeededRandom(seed: seed, stream: 0x30DE1)
        let widths = configuration.fieldDimensions ?? cardinalities.map { _ in configuration.dimension }
        guard widths.count == cardinalities.count, widths.allSatisfy({ $0 >= 1 }) else {
            throw .invalidOption("per-field widths: \(widths.count) given, the dataset has \(cardinalities.count) embedded fields; each must be at least 1")
        }
        let needsEqualWidths = configuration.kind.needsEqualWidths
        let tableNames = schema.vocabularyFields.map(ParameterPath.embedding)
        let embedding: any EmbeddingLayer
        if let inner = configuration.innerDimensions {
            guard configuration.kind != .lr else {
                throw .invalidOption("logistic regression has no embeddings for MLET to train; use --model fm, wd, deepfm or dlrm")
            }
            if configuration.fieldDimensions != nil {
                guard needsEqualWidths else {
                    throw .invalidOption("--dims with --embedding mlet needs a model that projects every field to --dim (fm, deepfm, dlrm); "
                                         + "Wide & Deep concatenates fields of their own widths: train it with plain tables")
                }
                guard inner.count == cardinalities.count, zip(inner, widths).allSatisfy({ $0 >= $1 }) else {
                    throw .invalidOption("MLET inner widths: \(inner.count) given for \(cardinalities.count) embedded fields; "
                                         + "each must be at least its field's width in --dims (the largest is \(widths.max() ?? 0))")
                }
                embedding = MLETProjectedEmbedding(cardinalities: cardinalities, innerWidths: inner, widths: widths,
                                                   dimension: configuration.dimension, categoricalCount: schema.categorical.count,
                                                   names: tableNames, random: &random)
            } else {
                guard inner.count == cardinalities.count, inner.allSatisfy({ $0 >= configuration.dimension }) else {
                    throw .invalidOption("MLET inner widths: \(inner.count) given for \(cardinalities.count) embedded fields; "
                                         + "each must be at least --dim (\(configuration.dimension))")
                }
                embedding = ProjectedEmbedding(cardinalities: cardinalities, widths: inner, dimension: configuration.dimension,
                                               categoricalCount: schema.categorical.count, names: tableNames, random: &random)
            }
        } else if needsEqualWidths && widths.contains(where: { $0 != configuration.dimension }) {
            embedding = ProjectedEmbedding(cardinalities: cardinalities, widths: widths, dimension: configuration.dimension,
                                           categoricalCount: schema.categorical.count, names: tableNames, random: &random)
        } else {
            embedding = FullEmbedding(cardinalities: cardinalities, dimensions: widths,
                                      categoricalCount: schema.categorical.count, names: tableNames, random: &random)
        }
        return try assemble(configuration, embedding: embedding, schema: schema, cardinalities: cardinalities, source: source,
                            random: &random)
    }

    /// A `configuration.kind` model around the embedding layer `makeEmbedding` builds (AutoDim's
    /// search supernet): the layers draw from the same seeded stream as `make`'s.
    public static func make(_ configuration: ModelConfiguration, store: ColumnStore, seed: UInt64,
                            embedding makeEmbedding: (_ cardinalities: [Int], _ random: inout SeededRandom) -> any EmbeddingLayer)
        throws(DataError) -> any CTRModel {
        guard configuration.kind != .lr else {
            throw .invalidOption("logistic regression has no embeddings to search; use --model fm, wd, deepfm or dlrm")
        }
        var random = SeededRandom(seed: seed, stream: 0x30DE1)
        let cardinalities = store.manifest.fields.compactMap(\.cardinality)
        let embedding = makeEmbedding(cardinalities, &random)
        return try assemble(configuration, embedding: embedding, schema: store.schema, cardinalities: cardinalities,
                            source: store.directory, random: &random)
    }

    /// The model of `configuration.kind` around `embedding`, whose parameters must have
    /// distinct path names (`ParameterPath`).
    private static func assemble(_ configuration: ModelConfiguration, embedding: any EmbeddingLayer, schema: Schema,
                                 cardinalities: [Int], source: String, random: inout SeededRandom) throws(DataError) -> any CTRModel {
        let model = try build(configuration, embedding: embedding, schema: schema, cardinalities: cardinalities, source: source,
                              random: &random)
        var seen = Set<String>()
        for name in model.sparseTables.map(\.name) + model.denseParameters.map(\.name) where !seen.insert(name).inserted {
            throw .invalidOption("two of the model's parameters would be named \(name) (a field of \(source) is named like one of "
                                 + "the model's own weights); rename that field in the data or its schema")
        }
        return model
    }

    private static func build(_ configuration: ModelConfiguration, embedding: any EmbeddingLayer, schema: Schema,
                              cardinalities: [Int], source: String, random: inout SeededRandom) throws(DataError) -> any CTRModel {
        switch configuration.kind {
        case .lr:
            return LogisticRegression(schema: schema, cardinalities: cardinalities, random: &random)
        case .fm:
            return FactorizationMachine(schema: schema, cardinalities: cardinalities, embedding: embedding, random: &random)
        case .wd:
            return WideAndDeep(schema: schema, cardinalities: cardinalities, embedding: embedding, configuration: configuration, random: &random)
        case .deepfm:
            return DeepFM(schema: schema, cardinalities: cardinalities, embedding: embedding, configuration: configuration, random: &random)
        case .dlrm:
            guard embedding.outputDimensions.count + (schema.dense.isEmpty ? 0 : 1) >= 2 else {
                throw .invalidOption("DLRM's interaction takes dot products of pairs of vectors, and \(source) has "
                                     + "one embedded field and no dense features; use --model fm, wd or deepfm")
            }
            return DLRM(schema: schema, embedding: embedding, configuration: configuration, random: &random)
        }
    }
}
