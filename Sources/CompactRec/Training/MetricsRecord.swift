import CompactRecData

/// One line of a run's metrics log (`metrics.jsonl`, JSON lines): what happened at a step.
///
/// A log is a `start` line, `train` lines (smoothed loss and speed, every few steps),
/// `evaluation` lines (validation metrics at each evaluation) and, if the run finished, an `end`
/// line with the test metrics. A resumed run appends a new `start` line with `"resumed": true`
/// and goes on from its checkpoint's step. Keys are snake_case; absent values are omitted.
public struct MetricsRecord: Codable, Sendable, Equatable {
    /// What kind of line this is.
    public enum Event: String, Codable, Sendable {
        /// A run (or a resumed run) started.
        case start
        /// Training progress.
        case train
        /// A validation evaluation.
        case evaluation
        /// The run finished; test metrics.
        case end
    }

    /// The kind of line.
    public var event: Event
    /// Optimisation steps taken so far.
    public var step: Int
    /// Epoch (1-based) the step belongs to.
    public var epoch: Int
    /// Seconds since the Unix epoch when the line was written.
    public var time: Double
    /// Training samples seen so far.
    public var samples: Int?
    /// `train`: mean training loss since the previous `train` line.
    public var loss: Double?
    /// `train`, `end`: training samples per second so far.
    public var samplesPerSecond: Double?
    /// `evaluation`, `end`: AUC (validation for `evaluation`, test for `end`).
    public var auc: Double?
    /// `evaluation`, `end`: logloss on the same rows.
    public var logloss: Double?
    /// `evaluation`: whether this is the best validation AUC so far (its weights were kept).
    public var best: Bool?
    /// `start`: the model kind (`deepfm`, ...), `end`: the same.
    public var model: String?
    /// `start`: a one-line description of the run (model, embedding, sizes, options).
    public var description: String?
    /// `start`: whether this run continues from a checkpoint.
    public var resumed: Bool?
    /// `end`: embedding parameters, total parameters and model bytes.
    public var embeddingParams: Int?, totalParams: Int?, modelBytes: Int?
    /// `end`: whether early stopping ended training.
    public var stoppedEarly: Bool?

    /// A line of `event` at `step` of `epoch`, stamped with `time`.
    public init(event: Event, step: Int, epoch: Int, time: Double) {
        self.event = event
        self.step = step
        self.epoch = epoch
        self.time = time
    }

    enum CodingKeys: String, CodingKey {
        case event, step, epoch, time, samples, loss, auc, logloss, best, model, description, resumed
        case samplesPerSecond = "samples_per_second"
        case embeddingParams = "embedding_params"
        case totalParams = "total_params"
        case modelBytes = "model_bytes"
        case stoppedEarly = "stopped_early"
    }
}
