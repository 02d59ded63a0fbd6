import CompactRecData

/// Trains a `CTRModel` on a prepared dataset: shuffled batches, sparse embedding updates and
/// dense Adam, evaluation on validation with early stopping and best-weights restore, and test
/// metrics at the end. The trainer knows no embedding method by name.
public final class Trainer {
    /// The model being trained.
    public let model: any CTRModel
    /// What `model` was built from (the inference form's configuration derives from it).
    public let modelConfiguration: ModelConfiguration
    /// After `fit`: the best weights in inference form, as a model (the training model itself
    /// when the inference form is the trained one, e.g. for plain tables).
    public private(set) var bestModel: (any CTRModel)?
    /// After `fit`: the inference form of the best weights (what `best.weights` holds).
    public private(set) var bestInference: InferenceModel?
    /// The dataset.
    public let store: ColumnStore
    /// The settings.
    public let options: TrainingOptions
    /// What each training batch runs: the plain step, or a search's.
    public let schedule: any TrainingSchedule
    var sparseOptimizer: SparseOptimizer { schedule.trainingStep.sparseOptimizer }
    var denseOptimizer: DenseOptimizer { schedule.trainingStep.denseOptimizer }
    /// Where training is.
    public internal(set) var cursor = TrainerCursor()
    var step: Int { cursor.step }
    private var batch: Batch

    /// A trainer for `model`, built by `ModelFactory` from `configuration`, on `store`, taking
    /// the plain step (`PlainSchedule`) or `schedule`'s, which must step `model`.
    public init(
        model: any CTRModel, configuration: ModelConfiguration, store: ColumnStore, options: TrainingOptions,
        schedule: (any TrainingSchedule)? = nil
    ) {
        precondition(schedule.map { $0.trainingStep.model === model } ?? true, "Trainer: the schedule must step the trainer's model")
        self.model = model
        modelConfiguration = configuration
        self.store = store
        self.options = options
        self.schedule = schedule ?? PlainSchedule(TrainingStep(model: model, options: options))
        batch = Batch(schema: store.schema)
    }

    /// AUC and logloss of the model being trained on `part`.
    public func evaluate(_ part: SplitPart) throws(TrainingError) -> Evaluation {
        try Evaluation.measure(model, on: store, part: part, batchSize: options.batchSize)
    }

    /// The model `form` describes: the training model itself when the form is the trained one,
    /// else a model built for it.
    func model(holding form: InferenceModel, source: String) throws(TrainingError) -> any CTRModel {
        if form.isForm(of: modelConfiguration) {
            try form.weights.restore(into: model, source: source)
            return model
        }
        do {
            let built = try form.makeModel(store: store, source: source)
            built.useThreads(options.threads)
            return built
        } catch let error as TrainingError {
            throw error
        } catch {
            throw .badCheckpoint(path: source, reason: error.localizedDescription)
        }
    }
}

/// Where training is, for progress bars.
public struct TrainingProgress: Sendable {
    /// Epoch (1-based).
    public var epoch: Int
    /// Steps taken in all.
    public var step: Int
    /// Training rows seen in this epoch, and in one epoch.
    public var rowsDone: Int, rowsPerEpoch: Int
    /// Smoothed training loss.
    public var loss: Float
    /// Training samples per second so far.
    public var samplesPerSecond: Double
    /// The evaluation just made, if this report follows one.
    public var validation: Evaluation?
}

/// What a finished training run measured.
public struct TrainingReport: Sendable, Codable {
    /// Test metrics of the best weights in inference form (MLET folded); for a search (whose
    /// schedule keeps no best weights and measures no test rows), its final validation metrics.
    public var test: Evaluation
    /// Embedding parameters of the inference form (what is exported and served).
    public var embeddingParameters: Int
    /// All parameters of the inference form.
    public var totalParameters: Int
    /// Embedding parameters as trained (MLET's wide tables and maps).
    public var trainingEmbeddingParameters: Int
    /// Per embedded field (schema order): the effective rank of its inference table.
    public var effectiveRanks: [Double]
    /// Best validation metrics.
    public var bestValidation: Evaluation?
    /// Every validation evaluation, in order.
    public var validationHistory: [Evaluation]
    /// Steps taken.
    public var steps: Int
    /// Training samples per second (training steps only, not evaluation).
    public var samplesPerSecond: Double
    /// Whether early stopping ended the run.
    public var stoppedEarly: Bool
}

extension Trainer {
    /// Trains for `options.epochs`, evaluating on validation and keeping the best weights, then
    /// measures the best weights on test.
    ///
    /// With a `run`, every evaluation writes the best weights (when they improve) and a
    /// checkpoint, atomically, and every step can be followed in the run's metrics log; with
    /// `run.resume` training continues from the checkpoint and ends with the same weights as
    /// an uninterrupted run. `shouldStop` is polled after every step: when it returns true the
    /// trainer saves a checkpoint and throws `TrainingError.interrupted`.
    public func fit(
        run: TrainingRun? = nil, progress: ((TrainingProgress) -> Void)? = nil,
        shouldStop: () -> Bool = { false }
    ) throws(TrainingError) -> TrainingReport {
        var best: InferenceModel?
        var log: MetricsLogWriter?
        if let run {
            try run.prepare()
            if run.resume { best = try resume(from: run) }
            log = try MetricsLogWriter(path: run.metricsLogPath)
            var start = record(.start)
            start.model = run.configuration.model.kind.rawValue
            start.description = Self.describe(run.configuration)
            start.resumed = run.resume
            try log?.append(start)
        }
        var checkpointSaved = run?.resume ?? false
        var loader = BatchLoader(store: store, part: .train, batchSize: options.batchSize, shuffleSeed: options.seed)
        let evaluateEvery = options.evaluateEvery ?? loader.batchesPerEpoch
        let epochs = max(1, options.epochs)
        training: while !cursor.stoppedEarly && cursor.epoch <= epochs {
            loader.startEpoch(cursor.epoch)
            schedule.trainingStep.setLearningRates(options.learningRates(epoch: cursor.epoch))
            loader.skip(batches: cursor.batchesDone)
            while loader.next(into: &batch) {
                let started = monotonicSeconds()
                let value: Float
                do {
                    cursor.step += 1
                    let position = StepPosition(
                        step: step, epoch: cursor.epoch, samplesBefore: cursor.samples,
                        plannedSamples: epochs * loader.rowCount)
                    value = try schedule.step(on: batch, at: position)
                } catch {
                    guard case .nonFiniteLoss(let failedStep, let failedLoss, _) = error else { throw error }
                    throw .nonFiniteLoss(step: failedStep, loss: failedLoss, checkpoint: checkpointSaved ? run?.checkpointPath : nil)
                }
                cursor.trainingSeconds += monotonicSeconds() - started
                cursor.samples += batch.size
                cursor.batchesDone += 1
                cursor.smoothedLoss = step == 1 ? value : 0.98 * cursor.smoothedLoss + 0.02 * value
                cursor.lossSum += Double(value)
                cursor.lossCount += 1
                if step % options.logEvery == 0 || step % evaluateEvery == 0 { try logTraining(to: log) }
                var report = TrainingProgress(
                    epoch: cursor.epoch, step: step, rowsDone: min(cursor.batchesDone * options.batchSize, loader.rowCount),
                    rowsPerEpoch: loader.rowCount, loss: cursor.smoothedLoss,
                    samplesPerSecond: cursor.samplesPerSecond)
                if step % evaluateEvery == 0 {
                    report.validation = try evaluateAndSave(run: run, log: log, best: &best)
                    checkpointSaved = checkpointSaved || run != nil
                    progress?(report)
                    if cursor.stoppedEarly { break training }
                } else {
                    progress?(report)
                }
                if shouldStop() {
                    if let run { try saveCheckpoint(run) }
                    throw .interrupted(step: step, checkpoint: run?.checkpointPath)
                }
            }
            cursor.epoch += 1
            cursor.batchesDone = 0
        }
        // The weights after the last step count too, even off the evaluation schedule.
        if !cursor.stoppedEarly, step > 0, cursor.historySteps.last != step {
            try logTraining(to: log)
            _ = try evaluateAndSave(run: run, log: log, best: &best)
        }
        // A search's product is its final state: its supernet is measured as it is.
        let form = schedule.keepsBestWeights ? best ?? InferenceModel(model, configuration: modelConfiguration) : nil
        let final =
            try form.map { form throws(TrainingError) in try model(holding: form, source: run?.bestWeightsPath ?? "best weights") } ?? model
        bestModel = final
        bestInference = form
        // A search measures no test rows: its report's `test` is its final validation evaluation.
        let test =
            try schedule.keepsBestWeights || cursor.history.isEmpty
            ? Evaluation.measure(final, on: store, part: schedule.keepsBestWeights ? .test : .validation, batchSize: options.batchSize)
            : cursor.history[cursor.history.count - 1]
        let embeddingParameters = form?.embeddingParameterCount ?? model.embeddingParameterCount
        let totalParameters = form?.totalParameterCount ?? model.totalParameterCount
        let report = TrainingReport(
            test: test, embeddingParameters: embeddingParameters, totalParameters: totalParameters,
            trainingEmbeddingParameters: model.embeddingParameterCount,
            effectiveRanks: form == nil ? [] : final.embedding.tables.map(EffectiveRank.of),
            bestValidation: cursor.best, validationHistory: cursor.history, steps: step,
            samplesPerSecond: cursor.samplesPerSecond, stoppedEarly: cursor.stoppedEarly)
        if let log {
            var end = record(.end)
            (end.auc, end.logloss, end.samplesPerSecond, end.samples) = (test.auc, test.logloss, report.samplesPerSecond, cursor.samples)
            end.model = run?.configuration.model.kind.rawValue
            end.embeddingParams = embeddingParameters
            end.totalParams = totalParameters
            end.modelBytes = totalParameters * MemoryLayout<Float>.size
            end.stoppedEarly = cursor.stoppedEarly
            try log.append(end)
        }
        return report
    }

    /// Evaluates on validation, keeps the weights if they are the best so far, updates early
    /// stopping, logs, and (with a run) writes the best weights and a checkpoint.
    private func evaluateAndSave(run: TrainingRun?, log: MetricsLogWriter?, best: inout InferenceModel?) throws(TrainingError) -> Evaluation
    {
        let evaluation = try evaluate(.validation)
        cursor.history.append(evaluation)
        cursor.historySteps.append(step)
        let improved = cursor.best.map { evaluation.auc > $0.auc } ?? true
        if improved {
            if schedule.keepsBestWeights { best = InferenceModel(model, configuration: modelConfiguration) }
            cursor.best = evaluation
            cursor.bestStep = step
            cursor.sinceBest = 0
        } else {
            cursor.sinceBest += 1
        }
        if let patience = options.patience, cursor.sinceBest >= patience { cursor.stoppedEarly = true }
        var line = record(.evaluation)
        (line.auc, line.logloss, line.best) = (evaluation.auc, evaluation.logloss, improved)
        try log?.append(line)
        if let run {
            if improved, let best {
                var inference = run.configuration
                inference.model = best.configuration
                try WeightsFile(configuration: inference, step: step, validation: evaluation, weights: best.weights)
                    .write(to: run.bestWeightsPath)
            }
            try saveCheckpoint(run)
        }
        return evaluation
    }

    /// Restores the checkpoint of `run` into the model, the optimizers and the cursor; returns
    /// the best weights so far (from `best.weights`, in inference form).
    private func resume(from run: TrainingRun) throws(TrainingError) -> InferenceModel? {
        let checkpoint = try Checkpoint.read(from: run.checkpointPath)
        let differences = run.configuration.differencesBlockingResume(from: checkpoint.configuration)
        guard differences.isEmpty else { throw .resumeMismatch(path: run.checkpointPath, differences: differences) }
        try checkpoint.weights.restore(into: model, source: run.checkpointPath)
        guard sparseOptimizer.restore(checkpoint.sparseState), denseOptimizer.restore(checkpoint.denseState) else {
            throw .badCheckpoint(path: run.checkpointPath, reason: "its optimizer state does not fit the model")
        }
        try schedule.restore(checkpointState: checkpoint.scheduleState, source: run.checkpointPath)
        cursor = checkpoint.cursor
        guard schedule.keepsBestWeights, let bestStep = cursor.bestStep else { return nil }
        let file = try WeightsFile.read(from: run.bestWeightsPath)
        var form = InferenceModel(model, configuration: modelConfiguration)
        guard file.header.step == bestStep, file.weights.hasShapes(of: form.weights) else {
            throw .badCheckpoint(
                path: run.bestWeightsPath,
                reason: "these weights are from step \(file.header.step), "
                    + "the checkpoint's best is from step \(bestStep)")
        }
        // A weights file from before names lists the values in the form's order: give them the
        // form's names, so that a model file written from them is named too.
        var weights = file.weights
        if weights.tableNames == nil { (weights.tableNames, weights.denseNames) = (form.weights.tableNames, form.weights.denseNames) }
        form.weights = weights
        return form
    }

    private func saveCheckpoint(_ run: TrainingRun) throws(TrainingError) {
        try Checkpoint(
            configuration: run.configuration, cursor: cursor, weights: ModelWeights(model),
            sparseState: sparseOptimizer.state, denseState: denseOptimizer.state,
            scheduleState: try schedule.checkpointState()
        ).write(to: run.checkpointPath)
    }

    private func record(_ event: MetricsRecord.Event) -> MetricsRecord {
        var line = MetricsRecord(event: event, step: step, epoch: min(cursor.epoch, max(1, options.epochs)), time: wallClockSeconds())
        line.samples = cursor.samples
        return line
    }

    private func logTraining(to log: MetricsLogWriter?) throws(TrainingError) {
        guard let log, cursor.lossCount > 0 else { return }
        var line = record(.train)
        line.loss = cursor.lossSum / Double(cursor.lossCount)
        line.samplesPerSecond = cursor.samplesPerSecond
        try log.append(line)
        cursor.lossSum = 0
        cursor.lossCount = 0
    }

    /// One line naming the run's model, embedding and main options.
    public static func describe(_ configuration: RunConfiguration) -> String {
        let model = configuration.model
        let options = configuration.options
        var parts = ["\(model.kind.rawValue)", "\(model.embedding.summary) embeddings d = \(model.dimension)"]
        if model.kind == .dcnv2 { parts.append("\(model.crossLayers) cross layers") }
        if [.wd, .deepfm, .dcnv2].contains(model.kind) { parts.append("MLP \(model.mlp.map(String.init).joined(separator: "-"))") }
        if model.kind == .dlrm {
            parts.append(
                "bottom \(model.bottomMLP.map(String.init).joined(separator: "-")), top \(model.topMLP.map(String.init).joined(separator: "-"))"
            )
        }
        if let search = configuration.search {
            parts.append(
                "AutoDim search (\(search.levels.rawValue)\(search.secondOrder ? ", second order" : ""), "
                    + "candidates \(search.candidates.map(String.init).joined(separator: "/")))")
        }
        parts.append("batch \(options.batchSize)")
        parts.append("lr \(options.learningRate)" + (options.learningRateDecay.map { " x \($0) per epoch" } ?? ""))
        parts.append("\(options.epochs) epoch\(options.epochs == 1 ? "" : "s")")
        parts.append("seed \(options.seed)")
        parts.append("dataset \(configuration.dataset.directory)")
        return parts.joined(separator: ", ")
    }
}
