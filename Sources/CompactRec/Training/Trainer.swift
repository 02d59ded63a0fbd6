/// Trains a `CTRModel` on a prepared dataset: shuffled batches, sparse embedding updates and
/// dense Adam, evaluation on validation with early stopping and best-weights restore, and test
/// metrics at the end. The trainer knows no embedding method by name.
public final class Trainer {
    /// The model being trained.
    public let model: any CTRModel
    /// The dataset.
    public let store: ColumnStore
    /// The settings.
    public let options: TrainingOptions
    let sparseOptimizer: SparseOptimizer
    let denseOptimizer: DenseOptimizer
    let loss = SigmoidCrossEntropy()
    private(set) var step = 0
    private var batch: Batch

    /// A trainer for `model` on `store`.
    public init(model: any CTRModel, store: ColumnStore, options: TrainingOptions) {
        self.model = model
        self.store = store
        self.options = options
        sparseOptimizer = SparseOptimizer(rule: options.sparseRule, tables: model.sparseTables,
                                          learningRate: options.embeddingLearningRate ?? options.learningRate, l2: options.embeddingL2)
        denseOptimizer = DenseOptimizer(rule: options.denseRule, parameters: model.denseParameters, learningRate: options.learningRate)
        batch = Batch(schema: store.schema)
        model.useThreads(options.threads)
    }

    /// One optimisation step on `batch`; returns its loss.
    func trainStep(_ batch: Batch) throws(TrainingError) -> Float {
        step += 1
        let logits = model.forward(batch, training: true)
        let value = loss.loss(logits: logits, labels: batch.labels)
        guard value.isFinite else { throw .nonFiniteLoss(step: step, loss: value) }
        for table in model.sparseTables { table.zeroGradient() }
        for parameter in model.denseParameters { parameter.zeroGradient() }
        model.backward(loss.gradient(logits: logits, labels: batch.labels), batch: batch)
        sparseOptimizer.apply(to: model.sparseTables)
        denseOptimizer.apply(to: model.denseParameters)
        return value
    }

    /// AUC and logloss of the model on `part`.
    public func evaluate(_ part: SplitPart) throws(TrainingError) -> Evaluation {
        var loader = BatchLoader(store: store, part: part, batchSize: options.batchSize)
        var scores: [Float] = []
        var labels: [Float] = []
        scores.reserveCapacity(loader.rowCount)
        labels.reserveCapacity(loader.rowCount)
        var evaluationBatch = Batch(schema: store.schema)
        while loader.next(into: &evaluationBatch) {
            let logits = model.forward(evaluationBatch, training: false)
            for b in 0..<evaluationBatch.size { scores.append(logits[b, 0]) }
            labels.append(contentsOf: evaluationBatch.labels)
        }
        do {
            let auc = try AUC.compute(scores: scores, labels: labels)
            let logloss = try LogLoss.fromLogits(scores, labels: labels)
            return Evaluation(auc: auc, logloss: logloss, rows: scores.count)
        } catch {
            throw .cannotEvaluate(part: part.name, reason: "\(error)")
        }
    }
}

/// Where training is, for progress bars and metrics logs.
public struct TrainingProgress: Sendable {
    /// Epoch (1-based).
    public var epoch: Int
    /// Steps taken in all.
    public var step: Int
    /// Training rows seen in this epoch, and in one epoch.
    public var rowsDone: Int, rowsPerEpoch: Int
    /// Mean training loss over the last steps.
    public var loss: Float
    /// Training samples per second so far.
    public var samplesPerSecond: Double
    /// The evaluation just made, if this report follows one.
    public var validation: Evaluation?
}

/// What a finished training run measured.
public struct TrainingReport: Sendable, Codable {
    /// Test metrics of the restored best model.
    public var test: Evaluation
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
    /// Trains for `options.epochs`, evaluating on validation and keeping the best weights.
    public func fit(progress: ((TrainingProgress) -> Void)? = nil) throws(TrainingError) -> TrainingReport {
        var loader = BatchLoader(store: store, part: .train, batchSize: options.batchSize, shuffleSeed: options.seed)
        var history: [Evaluation] = []
        var best: (evaluation: Evaluation, snapshot: WeightSnapshot)?
        var sinceBest = 0
        var trainingSeconds = 0.0
        var samples = 0
        var stoppedEarly = false
        var recentLoss: Float = 0
        let evaluateEvery = options.evaluateEvery ?? loader.batchesPerEpoch
        epochs: for epoch in 1...max(1, options.epochs) {
            loader.startEpoch()
            var rowsDone = 0
            while loader.next(into: &batch) {
                let started = monotonicSeconds()
                let value = try trainStep(batch)
                trainingSeconds += monotonicSeconds() - started
                samples += batch.size
                rowsDone += batch.size
                recentLoss = step == 1 ? value : 0.98 * recentLoss + 0.02 * value
                var report = TrainingProgress(epoch: epoch, step: step, rowsDone: rowsDone, rowsPerEpoch: loader.rowCount,
                                              loss: recentLoss, samplesPerSecond: Double(samples) / max(trainingSeconds, 1e-9))
                if step % evaluateEvery == 0 {
                    let evaluation = try evaluate(.validation)
                    history.append(evaluation)
                    report.validation = evaluation
                    if best.map({ evaluation.auc > $0.evaluation.auc }) ?? true {
                        best = (evaluation, WeightSnapshot(model))
                        sinceBest = 0
                    } else {
                        sinceBest += 1
                    }
                    progress?(report)
                    if let patience = options.patience, sinceBest >= patience {
                        stoppedEarly = true
                        break epochs
                    }
                } else {
                    progress?(report)
                }
            }
        }
        best?.snapshot.restore(into: model)
        return TrainingReport(test: try evaluate(.test), bestValidation: best?.evaluation, validationHistory: history,
                              steps: step, samplesPerSecond: Double(samples) / max(trainingSeconds, 1e-9), stoppedEarly: stoppedEarly)
    }
}

/// A copy of a model's weights (tables and dense parameters), for best-weights restore.
struct WeightSnapshot {
    let tables: [[Float]]
    let dense: [Matrix]

    init(_ model: any CTRModel) {
        tables = model.sparseTables.map(\.weights)
        dense = model.denseParameters.map(\.value)
    }

    func restore(into model: any CTRModel) {
        for (table, weights) in zip(model.sparseTables, tables) { table.weights = weights }
        for (parameter, value) in zip(model.denseParameters, dense) { parameter.value = value }
    }
}
