import CompactRecData

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// AutoDim's step, run by the ordinary `Trainer`: the supernet's weights on each training batch
/// and its architecture weights alpha on a validation batch (DARTS's bi-level alternation, first
/// or second order), or both from the training batch (one-level, the paper's AD-s).
///
/// Before each step the Gumbel-softmax temperature is set from the share of the planned samples
/// already seen (`TemperatureSchedule`); during the first `warmUpFraction` of them only the
/// weights train. Alpha takes a plain SGD step, `alpha -= alphaLR * dLoss/dalpha`. Everything
/// the search changes besides the weights and the optimizers' state, alpha, the noise generator,
/// the BatchNorms' running statistics, the validation batches' position and the snapshots of
/// alpha over the search, is the schedule's checkpoint state, so a resumed search chooses the
/// same widths with the same alpha as an uninterrupted one.
public final class ArchitectureSearchSchedule: TrainingSchedule {
    /// The weights' step.
    public let trainingStep: TrainingStep
    /// The supernet's embedding.
    public let embedding: DimensionSearchEmbedding
    /// The search's settings.
    public let options: DimensionSearchOptions
    /// Snapshots of the search's beliefs: at the start, then every `snapshotEvery` steps.
    public private(set) var history: [DimensionSearchSnapshot]
    private var validationBatches: BatchLoader
    private var validationEpoch = 1
    private var validationBatchesDone = 0
    private var validationBatch: Batch
    private let snapshotEvery: Int

    /// The schedule of a search stepping `trainingStep` (whose model's embedding is `embedding`)
    /// over `trainingOptions.epochs` epochs of `store`'s training rows, drawing validation
    /// batches of the same size in an order of their own. Throws when a part the search needs
    /// has no rows.
    public init(
        trainingStep: TrainingStep, embedding: DimensionSearchEmbedding, store: ColumnStore,
        trainingOptions: TrainingOptions, searchOptions: DimensionSearchOptions
    ) throws(TrainingError) {
        self.trainingStep = trainingStep
        self.embedding = embedding
        options = searchOptions
        let trainBatches = BatchLoader(store: store, part: .train, batchSize: trainingOptions.batchSize)
        validationBatches = BatchLoader(
            store: store, part: .validation, batchSize: trainingOptions.batchSize,
            shuffleSeed: trainingOptions.seed &+ 0x5EA4C)
        guard trainBatches.rowCount > 0 else { throw .cannotEvaluate(part: "train", reason: "the split has no rows to search on") }
        guard searchOptions.levels != .biLevel || validationBatches.rowCount > 0 else {
            throw .cannotEvaluate(
                part: "validation",
                reason: "bi-level search trains alpha on validation rows and there are none; "
                    + "prepare with a validation split or use --one-level")
        }
        validationBatch = Batch(schema: store.schema)
        snapshotEvery = max(1, max(1, trainingOptions.epochs) * trainBatches.batchesPerEpoch / 200)
        history = []
        history = [snapshot(samples: 0)]
    }

    /// A search's product is its final alpha, not its best supernet.
    public var keepsBestWeights: Bool { false }

    /// Sets the temperature, then (after the warm-up) takes the architecture step as the levels
    /// and order say, and the weights step.
    public func step(on batch: Batch, at position: StepPosition) throws(TrainingError) -> Float {
        let biLevel = options.levels == .biLevel
        embedding.temperature = options.temperatureSchedule.temperature(
            samplesSeen: position.samplesBefore,
            plannedSamples: position.plannedSamples)
        let warmUpSamples = Int(options.warmUpFraction * Double(position.plannedSamples))
        let searchesArchitecture = position.samplesBefore >= warmUpSamples
        if biLevel && searchesArchitecture { nextValidationBatch() }
        let value: Float
        if biLevel && options.secondOrder && searchesArchitecture {
            // DARTS order: the architecture step at the current weights, then the weights.
            _ = try SecondOrderArchitectureStep.run(
                model: trainingStep.model, embedding: embedding, loss: trainingStep.loss,
                trainBatch: batch, validationBatch: validationBatch,
                virtualStep: options.virtualStep ?? trainingStep.denseOptimizer.learningRate,
                step: position.step)
            updateArchitecture()
            embedding.accumulatesArchitectureGradient = false
            value = try trainingStep.run(on: batch, step: position.step)
        } else {
            // Weights (and, one-level, the architecture) on the training batch.
            embedding.accumulatesArchitectureGradient = !biLevel && searchesArchitecture
            embedding.architecture.zeroGradient()
            value = try trainingStep.run(on: batch, step: position.step)
            if biLevel && searchesArchitecture {
                // The architecture on a validation batch, at the weights just updated.
                embedding.accumulatesArchitectureGradient = true
                SecondOrderArchitectureStep.setWeightGradients(trainingStep.model, required: false)
                defer { SecondOrderArchitectureStep.setWeightGradients(trainingStep.model, required: true) }
                _ = try trainingStep.computeGradients(on: validationBatch, step: position.step)
            }
            if searchesArchitecture { updateArchitecture() }
        }
        if position.step % snapshotEvery == 0 { history.append(snapshot(samples: position.samplesBefore + batch.size)) }
        return value
    }

    /// The beliefs now, after `samples` training samples.
    public func snapshot(samples: Int) -> DimensionSearchSnapshot {
        DimensionSearchSnapshot(samples: samples, temperature: embedding.temperature, probabilities: embedding.candidateProbabilities)
    }

    /// The next validation batch, starting the validation rows' next epoch when they run out.
    private func nextValidationBatch() {
        if validationBatches.next(into: &validationBatch) {
            validationBatchesDone += 1
            return
        }
        validationEpoch += 1
        validationBatches.startEpoch(validationEpoch)
        _ = validationBatches.next(into: &validationBatch)
        validationBatchesDone = 1
    }

    /// One SGD step of the architecture weights.
    private func updateArchitecture() {
        let rate = options.architectureLearningRate
        let architecture = embedding.architecture
        for f in 0..<architecture.value.rows {
            for m in 0..<architecture.value.columns { architecture.value[f, m] -= rate * architecture.gradient[f, m] }
        }
    }

    /// What a checkpoint keeps of the schedule.
    struct State: Codable {
        var search: DimensionSearchEmbedding.SearchState
        /// The Gumbel-softmax temperature of the last step (bit pattern), which the final
        /// snapshot and evaluation read.
        var temperatureBits: UInt32?
        var validationEpoch: Int
        var validationBatchesDone: Int
        var history: [DimensionSearchSnapshot]
    }

    /// The state as JSON.
    public func checkpointState() throws(TrainingError) -> String? {
        try jsonText(
            State(
                search: embedding.searchState, temperatureBits: embedding.temperature.bitPattern, validationEpoch: validationEpoch,
                validationBatchesDone: validationBatchesDone, history: history))
    }

    /// Restores a search's state; refuses a training run's checkpoint or one of another supernet.
    public func restore(checkpointState: String?, source: String) throws(TrainingError) {
        guard let checkpointState else {
            throw .badCheckpoint(path: source, reason: "it is a training run's checkpoint, not a search's")
        }
        let state: State
        do throws(DataError) {
            state = try decodeJSON(checkpointState, path: source)
        } catch {
            throw .badCheckpoint(path: source, reason: error.reason)
        }
        guard state.validationEpoch >= 1, state.validationBatchesDone >= 0, embedding.restore(state.search) else {
            throw .badCheckpoint(path: source, reason: "its search state does not fit this search's supernet")
        }
        if let bits = state.temperatureBits { embedding.temperature = Float(bitPattern: bits) }
        validationEpoch = state.validationEpoch
        validationBatchesDone = state.validationBatchesDone
        validationBatches.startEpoch(validationEpoch)
        validationBatches.skip(batches: validationBatchesDone)
        history = state.history
    }
}
