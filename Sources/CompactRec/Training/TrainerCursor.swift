import CompactRecData

/// Where a training run is: the position in the data, the counters and the early-stopping
/// state. Saved in every checkpoint, so a resumed run picks up exactly where this one was.
public struct TrainerCursor: Codable, Sendable, Equatable {
    /// The epoch in progress (1-based).
    public var epoch = 1
    /// Batches of that epoch already trained on.
    public var batchesDone = 0
    /// Optimisation steps taken.
    public var step = 0
    /// Training samples seen.
    public var samples = 0
    /// Seconds spent in training steps (not evaluation).
    public var trainingSeconds = 0.0
    /// Exponentially smoothed training loss (the progress bar's).
    public var smoothedLoss: Float = 0
    /// Sum and count of step losses since the last metrics-log `train` line.
    public var lossSum = 0.0, lossCount = 0
    /// Every validation evaluation so far, with the step it was made at.
    public var history: [Evaluation] = []
    /// Steps of those evaluations.
    public var historySteps: [Int] = []
    /// The best validation evaluation and its step (its weights are in `best.weights`).
    public var best: Evaluation?
    /// Step of `best`.
    public var bestStep: Int?
    /// Evaluations since the best one.
    public var sinceBest = 0
    /// Whether early stopping has ended training.
    public var stoppedEarly = false

    /// A cursor at the start of training.
    public init() {}

    /// Training samples per second so far.
    public var samplesPerSecond: Double { Double(samples) / max(trainingSeconds, 1e-9) }
}
