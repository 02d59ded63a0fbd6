import CompactRecData

/// Everything that determines a training run: the model with its embedding method, the training
/// options and the dataset it reads. Checkpoints and weight files carry it, so `--resume` can
/// refuse a run that would not continue the same training, and `evaluate` can rebuild the model.
public struct RunConfiguration: Codable, Sendable, Equatable {
    /// Model kind, sizes and embedding method.
    public var model: ModelConfiguration
    /// Training settings.
    public var options: TrainingOptions
    /// The dataset trained on.
    public var dataset: DatasetIdentity
    /// For an AutoDim search's run, its settings (the model's embedding is then the search's
    /// supernet); nil for training.
    public var search: DimensionSearchOptions?

    /// A configuration of `model` trained with `options` on `dataset` (or, with `search`,
    /// searched).
    public init(
        model: ModelConfiguration, options: TrainingOptions, dataset: DatasetIdentity,
        search: DimensionSearchOptions? = nil
    ) {
        self.model = model
        self.options = options
        self.dataset = dataset
        self.search = search
    }

    /// Settings a resumed run may change without changing what it trains: the number of epochs,
    /// threads, learning rates and patience. (With equal threads and learning rates the resumed
    /// run ends with the same weights as an uninterrupted one.)
    public func differencesBlockingResume(from other: RunConfiguration) -> [String] {
        var differences: [String] = []
        if model.embedding != other.model.embedding { differences.append("the embedding method") }
        var (mine, theirs) = (model, other.model)
        (mine.embedding, theirs.embedding) = (.plainTables, .plainTables)
        if mine != theirs { differences.append("the model configuration") }
        if search != other.search {
            differences.append(
                other.search == nil
                    ? "the run: the checkpoint is a training run's, not a search's"
                    : search == nil
                        ? "the run: the checkpoint is a search's; continue it with compactrec search --resume"
                        : "the search settings (--candidates, --alpha-lr, --one-level, --second-order, ...)")
        }
        if dataset.rows != other.dataset.rows || dataset.cardinalities != other.dataset.cardinalities
            || dataset.fields != other.dataset.fields
        {
            differences.append("the dataset")
        }
        let (a, b) = (options, other.options)
        if search != nil, a.epochs != b.epochs {
            differences.append("--epochs (\(b.epochs) in the checkpoint: a search's temperature and warm-up follow its planned length)")
        }
        if a.batchSize != b.batchSize { differences.append("--batch-size (\(b.batchSize) in the checkpoint)") }
        if a.seed != b.seed { differences.append("--seed (\(b.seed) in the checkpoint)") }
        if a.denseRule != b.denseRule || a.sparseRule != b.sparseRule { differences.append("the optimizers") }
        if a.embeddingL2 != b.embeddingL2 { differences.append("--l2 (\(b.embeddingL2) in the checkpoint)") }
        if a.evaluateEvery != b.evaluateEvery { differences.append("--evaluate-every") }
        return differences
    }
}

/// Which dataset a run used: enough to recognise it again (and to find it for `evaluate`).
public struct DatasetIdentity: Codable, Sendable, Equatable {
    /// The dataset directory as given to `train`.
    public var directory: String
    /// Rows in all parts.
    public var rows: Int
    /// Field names with embeddings (schema order).
    public var fields: [String]
    /// Their embedding rows.
    public var cardinalities: [Int]

    /// The identity of `store`.
    public init(_ store: ColumnStore) {
        directory = store.directory
        rows = store.rows
        fields = store.manifest.fields.filter { $0.cardinality != nil }.map(\.name)
        cardinalities = store.manifest.fields.compactMap(\.cardinality)
    }
}
