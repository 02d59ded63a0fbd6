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
    /// The weights' step (its optimizers run on `options.threads` too).
    private let trainingStep: TrainingStep

    /// A search for a `configuration.kind` model (its `dimension` becomes the largest candidate).
    public init(configuration: ModelConfiguration, store: ColumnStore, options: TrainingOptions,
                searchOptions: DimensionSearchOptions) throws(DataError) {
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
        configuration.fieldDimensions = nil
        configuration.innerDimensions = nil
        let schema = store.schema
        var built: DimensionSearchEmbedding?
        model = try ModelFactory.make(configuration, store: store, seed: options.seed) { cardinalities, random in
            let embedding = DimensionSearchEmbedding(cardinalities: cardinalities, candidates: searchOptions.candidates,
                                                     tables: searchOptions.candidateTables, unification: searchOptions.unification,
                                                     mixedScale: searchOptions.mixedScale,
                                                     categoricalCount: schema.categorical.count, names: schema.vocabularyFields,
                                                     seed: options.seed, random: &random)
            built = embedding
            return embedding
        }
        guard let built else { throw .invalidOption("the model has no embedding layer to search") }
        embedding = built
        self.store = store
        self.options = options
        self.searchOptions = searchOptions
        trainingStep = TrainingStep(model: model, options: options)
    }

    /// Runs the search for `options.epochs` epochs of the training rows; `progress` is called
    /// after every step.
    public func run(progress: ((TrainingProgress) -> Void)? = nil) throws(TrainingError) -> DimensionSearchResult {
        var trainBatches = BatchLoader(store: store, part: .train, batchSize: options.batchSize, shuffleSeed: options.seed)
        var validationBatches = BatchLoader(store: store, part: .validation, batchSize: options.batchSize,
                                            shuffleSeed: options.seed &+ 0x5EA4C)
        let biLevel = searchOptions.levels == .biLevel
        guard trainBatches.rowCount > 0 else { throw .cannotEvaluate(part: "train", reason: "the split has no rows to search on") }
        guard !biLevel || validationBatches.rowCount > 0 else {
            throw .cannotEvaluate(part: "validation", reason: "bi-level search trains alpha on validation rows and there are none; prepare with a validation split or use --one-level")
        }
        let epochs = max(1, options.epochs)
        let planned = epochs * trainBatches.rowCount
        let warmUpSamples = Int(searchOptions.warmUpFraction * Double(planned))
        let snapshotEvery = max(1, epochs * trainBatches.batchesPerEpoch / 200)
        var batch = Batch(schema: store.schema)
        var validationBatch = Batch(schema: store.schema)
        var validationEpoch = 1
        var samples = 0, steps = 0
        var seconds = 0.0
        var smoothedLoss: Float = 0
        var history = [snapshot(samples: 0)]
        for epoch in 1...epochs {
            trainBatches.startEpoch(epoch)
            trainingStep.setLearningRates(options.learningRates(epoch: epoch))
            var rowsDone = 0
            while trainBatches.next(into: &batch) {
                let started = monotonicSeconds()
                steps += 1
                embedding.temperature = searchOptions.temperatureSchedule.temperature(samplesSeen: samples, plannedSamples: planned)
                let searchesArchitecture = samples >= warmUpSamples
                if biLevel && searchesArchitecture {
                    if !validationBatches.next(into: &validationBatch) {
                        validationEpoch += 1
                        validationBatches.startEpoch(validationEpoch)
                        _ = validationBatches.next(into: &validationBatch)
                    }
                }
                let value: Float
                if biLevel && searchOptions.secondOrder && searchesArchitecture {
                    // DARTS order: the architecture step at the current weights, then the weights.
                    _ = try SecondOrderArchitectureStep.run(model: model, embedding: embedding, loss: trainingStep.loss, trainBatch: batch,
                                                            validationBatch: validationBatch,
                                                            virtualStep: searchOptions.virtualStep ?? trainingStep.denseOptimizer.learningRate,
                                                            step: steps)
                    updateArchitecture()
                    embedding.accumulatesArchitectureGradient = false
                    value = try trainingStep.run(on: batch, step: steps)
                } else {
                    // Weights (and, one-level, the architecture) on the training batch.
                    embedding.accumulatesArchitectureGradient = !biLevel && searchesArchitecture
                    embedding.architecture.zeroGradient()
                    value = try trainingStep.run(on: batch, step: steps)
                    if biLevel && searchesArchitecture {
                        // The architecture on a validation batch, at the weights just updated.
                        embedding.accumulatesArchitectureGradient = true
                        requireWeightGradients(false)
                        defer { requireWeightGradients(true) }
                        _ = try trainingStep.computeGradients(on: validationBatch, step: steps)
                    }
                    if searchesArchitecture { updateArchitecture() }
                }
                seconds += monotonicSeconds() - started
                samples += batch.size
                rowsDone += batch.size
                smoothedLoss = steps == 1 ? value : 0.98 * smoothedLoss + 0.02 * value
                if steps % snapshotEvery == 0 { history.append(snapshot(samples: samples)) }
                progress?(TrainingProgress(epoch: epoch, step: steps, rowsDone: rowsDone, rowsPerEpoch: trainBatches.rowCount,
                                           loss: smoothedLoss, samplesPerSecond: seconds > 0 ? Double(samples) / seconds : 0))
            }
        }
        if history.last?.samples != samples { history.append(snapshot(samples: samples)) }
        let validation = try Evaluation.measure(model, on: store, part: .validation, batchSize: options.batchSize)
        let cardinalities = store.manifest.fields.compactMap(\.cardinality)
        return DimensionSearchResult(fields: store.schema.vocabularyFields, cardinalities: cardinalities,
                                     candidates: embedding.candidates, widths: embedding.chosenWidths,
                                     alpha: (0..<cardinalities.count).map { f in embedding.candidates.indices.map { embedding.architecture.value[f, $0] } },
                                     history: history, steps: steps, samplesPerSecond: seconds > 0 ? Double(samples) / seconds : 0,
                                     secondsPerEpoch: seconds / Double(epochs), validation: validation, options: searchOptions)
    }

    /// Turns the weights' gradients off for the architecture step (which needs only dLoss/dalpha,
    /// so the layers skip their weight-gradient products and the tables their scatter), or back on.
    private func requireWeightGradients(_ required: Bool) {
        SecondOrderArchitectureStep.setWeightGradients(model, required: required)
    }

    /// One SGD step of the architecture weights.
    private func updateArchitecture() {
        let rate = searchOptions.architectureLearningRate
        let architecture = embedding.architecture
        for f in 0..<architecture.value.rows {
            for m in 0..<architecture.value.columns { architecture.value[f, m] -= rate * architecture.gradient[f, m] }
        }
    }

    /// The current beliefs.
    private func snapshot(samples: Int) -> DimensionSearchSnapshot {
        DimensionSearchSnapshot(samples: samples, temperature: embedding.temperature, probabilities: embedding.candidateProbabilities)
    }
}
