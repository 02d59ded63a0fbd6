#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Settings of a training run.
public struct TrainingOptions: Sendable, Codable, Equatable {
    /// Passes over the training rows.
    public var epochs = 1
    /// Rows per step.
    public var batchSize = 4096
    /// Learning rate of the dense parameters (Adam by default).
    public var learningRate: Float = 1e-3
    /// Learning rate of the embedding tables (default: the dense one).
    public var embeddingLearningRate: Float?
    /// The dense update rule.
    public var denseRule: DenseUpdateRule = .adam
    /// The embedding update rule (sparse: only rows a batch used).
    public var sparseRule: SparseUpdateRule = .lazyAdam
    /// L2 penalty on the embedding rows a batch used.
    public var embeddingL2: Float = 0
    /// Seed of initialisation and shuffling.
    public var seed: UInt64 = 1
    /// Threads for the kernels.
    public var threads = Parallel.defaultThreads
    /// Evaluate on validation every this many steps (nil: at the end of each epoch).
    public var evaluateEvery: Int?
    /// Stop after this many evaluations without a better validation AUC (nil: never).
    public var patience: Int? = 2

    /// The defaults.
    public init() {}
}

/// Metrics of a model on one split part.
public struct Evaluation: Sendable, Codable, Equatable {
    /// Exact ROC AUC.
    public var auc: Double
    /// Mean binary cross-entropy.
    public var logloss: Double
    /// Rows evaluated.
    public var rows: Int
}

/// Errors that stop training.
public enum TrainingError: Error, LocalizedError, Sendable, Equatable {
    /// The loss became NaN or infinite.
    case nonFiniteLoss(step: Int, loss: Float)
    /// A split part has no rows (or only one class), so it cannot be evaluated.
    case cannotEvaluate(part: String, reason: String)

    /// The message.
    public var errorDescription: String? {
        switch self {
        case .nonFiniteLoss(let step, let loss):
            "the training loss became \(loss) at step \(step); training stopped and the best weights so far were kept. "
                + "Lower --lr, or check the data for extreme dense values"
        case .cannotEvaluate(let part, let reason):
            "cannot evaluate on the \(part) rows: \(reason)"
        }
    }
}
