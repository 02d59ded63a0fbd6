import CompactRecData
import Foundation

/// Settings of AutoDim's search stage.
public struct DimensionSearchOptions: Sendable, Codable, Equatable {
    /// How the architecture weights are trained.
    public enum Levels: String, Sendable, Codable, CaseIterable {
        /// DARTS-style bi-level: a weights step on a training batch, then an architecture step
        /// on a validation batch (AutoDim).
        case biLevel = "bi-level"
        /// One level: weights and architecture updated together from the same training batch
        /// (the paper's AD-s baseline).
        case oneLevel = "one-level"
    }

    /// Candidate widths per field (the paper's {2, 8, 16, 24, 32}).
    public var candidates = [2, 8, 16, 24, 32]
    /// Shared or separate candidate tables.
    public var candidateTables = DimensionSearchEmbedding.CandidateTables.shared
    /// Linear maps or zero padding to the largest width.
    public var unification = DimensionSearchEmbedding.Unification.linear
    /// The Gumbel-softmax temperature schedule.
    public var temperatureSchedule = TemperatureSchedule.published
    /// Learning rate of the architecture weights' SGD.
    public var architectureLearningRate: Float = 1e-3
    /// Bi-level (AutoDim) or one-level (AD-s).
    public var levels = Levels.biLevel
    /// Bi-level only: the architecture gradient to first order (alpha's gradient at the current
    /// weights) or DARTS's second-order approximation through a virtual weights step.
    public var secondOrder = false
    /// The virtual step's size xi (default: the weights' learning rate).
    public var virtualStep: Float?
    /// Fraction of the search's training samples, in [0, 1), during which only the weights are
    /// trained (no architecture steps; alpha stays where it starts): a common DARTS remedy for
    /// the head start of candidates that train fastest. 0 (the paper's search) by default.
    public var warmUpFraction = 0.0
    /// The scale of the mixed vectors the model is fed (`DimensionSearchEmbedding`'s
    /// `mixedScale`): `unit` (the paper's search, whose BatchNorm without scale and shift feeds
    /// the model unit-variance vectors) by default; a fixed factor or a learned scale brings
    /// them nearer a plain table's scale, which FM's and DeepFM's dot products need.
    public var mixedScale = DimensionSearchEmbedding.MixedScale.unit

    /// The defaults.
    public init() {}
}

/// How the search's beliefs stood at one point: for the chart of alpha over the search.
public struct DimensionSearchSnapshot: Sendable, Codable, Equatable {
    /// Training samples seen.
    public var samples: Int
    /// Gumbel-softmax temperature.
    public var temperature: Float
    /// Per field, `softmax(alpha_f)` over the candidates.
    public var probabilities: [[Float]]
}

/// What a search found.
public struct DimensionSearchResult: Sendable, Codable, Equatable {
    /// Embedded field names, schema order.
    public var fields: [String]
    /// Their cardinalities (table rows).
    public var cardinalities: [Int]
    /// The candidate widths.
    public var candidates: [Int]
    /// Per field, the chosen width (argmax of alpha).
    public var widths: [Int]
    /// The final architecture weights, fields x candidates.
    public var alpha: [[Float]]
    /// Snapshots over the search (the last is the final state).
    public var history: [DimensionSearchSnapshot]
    /// Steps (training batches) taken.
    public var steps: Int
    /// Training samples per second of the search (weights and architecture steps together).
    public var samplesPerSecond: Double
    /// Seconds per search epoch (the search's time divided by its epochs).
    public var secondsPerEpoch: Double
    /// The supernet's validation metrics at the end (deterministic mixing).
    public var validation: Evaluation
    /// The settings.
    public var options: DimensionSearchOptions

    /// Embedding parameters of a model with the chosen widths: the tables, plus with
    /// `projected` (a model whose interaction needs one width, `ModelKind.needsEqualWidths`)
    /// each narrower field's projection to the largest candidate.
    public func chosenEmbeddingParameters(projected: Bool) -> Int {
        DimensionBaselines.parameterCount(cardinalities: cardinalities, widths: widths, width: candidates.max() ?? 0, projected: projected)
    }
}

/// AutoDim's search stage: trains the supernet (`DimensionSearchEmbedding` inside an ordinary
/// model) with its weights on training batches and its architecture weights on validation
/// batches (or on the same training batch, one-level), then reads the choice off alpha.
public final class DimensionSearch {
    /// The supernet model.
    public let model: any CTRModel
    /// Its embedding.
    public let embedding: DimensionSearchEmbedding
    /// The dataset.
    public let store: ColumnStore
    /// Training settings (epochs, batch size, learning rates, threads, seed).
    public let options: TrainingOptions
    /// Search settings.
    public let searchOptions: DimensionSearchOptions
    /// The supernet's configuration: the model's, at the largest candidate width.
    public let configuration: ModelConfiguration
    /// The weights' step (its optimizers run on `options.threads` too).
    private let trainingStep: TrainingStep

    /// A search for a `configuration.kind` model (its `dimension` becomes the largest candidate).
    public init(
        configuration: ModelConfiguration, store: ColumnStore, options: TrainingOptions,
        searchOptions: DimensionSearchOptions
    ) throws(DataError) {
        guard !searchOptions.candidates.isEmpty, searchOptions.candidates.allSatisfy({ $0 >= 1 }) else {
            throw .invalidOption("--candidates must be positive widths, e.g. 2,8,16,24,32")
        }
        guard searchOptions.architectureLearningRate > 0, searchOptions.architectureLearningRate.isFinite else {
            throw .invalidOption("--alpha-lr must be positive")
        }
        guard searchOptions.warmUpFraction >= 0, searchOptions.warmUpFraction < 1 else {
            throw .invalidOption("--alpha-warmup must be a fraction of the search in [0, 1)")
        }
        var configuration = configuration
        configuration.dimension = searchOptions.candidates.max() ?? configuration.dimension
        configuration.embedding = .search(searchOptions)
        let built: any CTRModel
        do { built = try ModelFactory.make(configuration, store: store, seed: options.seed) } catch {
            throw .invalidOption(error.localizedDescription)
        }
        guard let supernet = built.embedding as? DimensionSearchEmbedding else {
            throw .invalidOption("the model has no embedding layer to search")
        }
        model = built
        embedding = supernet
        self.configuration = configuration
        self.store = store
        self.options = options
        self.searchOptions = searchOptions
        trainingStep = TrainingStep(model: model, options: options)
    }

    /// Runs the search for `options.epochs` epochs of the training rows through the ordinary
    /// `Trainer` with an `ArchitectureSearchSchedule`: with a `run`, the search gets a
    /// checkpoint at every evaluation, `--resume` (`run.resume`: the same widths and alpha as an
    /// uninterrupted search), the metrics log and interruption exactly as training does.
    /// `progress` is called after every step; `shouldStop` as `Trainer.fit` polls it. The
    /// supernet is evaluated on validation after each epoch (no early stopping: the search runs
    /// all its epochs).
    public func run(
        run: TrainingRun? = nil, progress: ((TrainingProgress) -> Void)? = nil,
        shouldStop: () -> Bool = { false }
    ) throws(TrainingError) -> DimensionSearchResult {
        let schedule = try ArchitectureSearchSchedule(
            trainingStep: trainingStep, embedding: embedding, store: store,
            trainingOptions: options, searchOptions: searchOptions)
        var trainingOptions = options
        trainingOptions.patience = nil
        let trainer = Trainer(model: model, configuration: configuration, store: store, options: trainingOptions, schedule: schedule)
        let report = try trainer.fit(run: run, progress: progress, shouldStop: shouldStop)
        var history = schedule.history
        let samples = trainer.cursor.samples
        if history.last?.samples != samples { history.append(schedule.snapshot(samples: samples)) }
        // The trainer evaluates the final weights last, on validation.
        let validation: Evaluation
        if let last = report.validationHistory.last {
            validation = last
        } else {
            validation = try Evaluation.measure(model, on: store, part: .validation, batchSize: options.batchSize)
        }
        let cardinalities = store.manifest.fields.compactMap(\.cardinality)
        return DimensionSearchResult(
            fields: store.schema.vocabularyFields, cardinalities: cardinalities,
            candidates: embedding.candidates, widths: embedding.chosenWidths,
            alpha: (0..<cardinalities.count).map { f in embedding.candidates.indices.map { embedding.architecture.value[f, $0] } },
            history: history, steps: report.steps, samplesPerSecond: report.samplesPerSecond,
            secondsPerEpoch: trainer.cursor.trainingSeconds / Double(max(1, options.epochs)),
            validation: validation, options: searchOptions)
    }
}
