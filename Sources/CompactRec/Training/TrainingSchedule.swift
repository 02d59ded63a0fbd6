import CompactRecData

/// Where a training step falls in its run, for schedules whose step depends on it (AutoDim's
/// Gumbel-softmax temperature falls with the samples seen; its warm-up ends at a share of them).
public struct StepPosition: Sendable, Equatable {
    /// The step being taken (1-based, over the whole run).
    public var step: Int
    /// Its epoch (1-based).
    public var epoch: Int
    /// Training samples seen before this step.
    public var samplesBefore: Int
    /// Training samples the whole run will see (epochs x training rows).
    public var plannedSamples: Int

    /// A position.
    public init(step: Int, epoch: Int, samplesBefore: Int, plannedSamples: Int) {
        self.step = step
        self.epoch = epoch
        self.samplesBefore = samplesBefore
        self.plannedSamples = plannedSamples
    }
}

/// What the trainer runs on each training batch: the plain step (`PlainSchedule`) or a
/// multi-stage method's step, such as AutoDim's alternation of a weights step on a training
/// batch with an architecture step on a validation batch (`ArchitectureSearchSchedule`).
///
/// The trainer owns everything around the step, once for every schedule: epochs and shuffling,
/// learning-rate decay, evaluation, early stopping, best weights, checkpoints and `--resume`, the
/// metrics log, progress and interruption. A schedule adds only its step and the state that
/// step keeps beyond the model's weights and the optimizers (checkpointed with them, so a
/// resumed run continues bit for bit).
public protocol TrainingSchedule: AnyObject {
    /// The weights' step: its model and optimizers are what checkpoints save and restore.
    var trainingStep: TrainingStep { get }
    /// Whether evaluations keep the best weights by validation AUC, write them to
    /// `best.weights` and measure test metrics on them (training a model), or the run's product
    /// is its final state (a search, whose supernet is never shipped).
    var keepsBestWeights: Bool { get }
    /// One step on `batch` at `position`; returns the training loss, or throws
    /// `TrainingError.nonFiniteLoss` naming the step.
    func step(on batch: Batch, at position: StepPosition) throws(TrainingError) -> Float
    /// The schedule's own state as JSON text, for checkpoints (nil: it has none).
    func checkpointState() throws(TrainingError) -> String?
    /// Restores what `checkpointState` returned; `source` names the checkpoint in errors.
    func restore(checkpointState: String?, source: String) throws(TrainingError)
}

/// The ordinary step: forward, backward and both optimizers on each training batch.
public final class PlainSchedule: TrainingSchedule {
    /// The step.
    public let trainingStep: TrainingStep

    /// The plain schedule of `trainingStep`.
    public init(_ trainingStep: TrainingStep) {
        self.trainingStep = trainingStep
    }

    /// Training keeps its best weights.
    public var keepsBestWeights: Bool { true }

    /// One `TrainingStep`.
    public func step(on batch: Batch, at position: StepPosition) throws(TrainingError) -> Float {
        try trainingStep.run(on: batch, step: position.step)
    }

    /// None beyond the weights and optimizers.
    public func checkpointState() -> String? { nil }

    /// Refuses a checkpoint that a schedule with state (a search) wrote.
    public func restore(checkpointState: String?, source: String) throws(TrainingError) {
        guard checkpointState == nil else {
            throw .badCheckpoint(path: source, reason: "it is a search's checkpoint; continue it with compactrec search --resume")
        }
    }
}
