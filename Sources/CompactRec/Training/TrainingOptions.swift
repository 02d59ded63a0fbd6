import CompactRecData

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
    /// Both learning rates are multiplied by this after each epoch (nil: 1, constant rates).
    /// Adam's steps stay as large late in training as early, so a run plateaus with its
    /// validation AUC jittering; a per-epoch decay lets the last epochs settle.
    public var learningRateDecay: Float?

    /// The dense and embedding learning rates during `epoch` (1-based).
    public func learningRates(epoch: Int) -> (dense: Float, embedding: Float) {
        var factor: Float = 1
        for _ in 1..<max(epoch, 1) { factor *= learningRateDecay ?? 1 }
        return (learningRate * factor, (embeddingLearningRate ?? learningRate) * factor)
    }
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
    /// Write a `train` line to the metrics log every this many steps.
    public var logEvery = 10

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

    /// AUC and logloss of `model` (in inference mode) on the `part` rows of `store`.
    public static func measure(
        _ model: any CTRModel, on store: ColumnStore, part: SplitPart,
        batchSize: Int = 4096
    ) throws(TrainingError) -> Evaluation {
        var loader = BatchLoader(store: store, part: part, batchSize: batchSize)
        var scores: [Float] = []
        var labels: [Float] = []
        scores.reserveCapacity(loader.rowCount)
        labels.reserveCapacity(loader.rowCount)
        var batch = Batch(schema: store.schema)
        while loader.next(into: &batch) {
            let logits = model.forward(batch, training: false)
            for b in 0..<batch.size { scores.append(logits[b, 0]) }
            labels.append(contentsOf: batch.labels)
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

/// Errors that stop training, or keep it from starting or resuming.
public enum TrainingError: Error, LocalizedError, Sendable, Equatable {
    /// The loss became NaN or infinite at `step`; `checkpoint` is the last good checkpoint.
    case nonFiniteLoss(step: Int, loss: Float, checkpoint: String?)
    /// A split part has no rows (or only one class), so it cannot be evaluated.
    case cannotEvaluate(part: String, reason: String)
    /// A checkpoint or weights file is missing, corrupt, newer or does not fit the model.
    case badCheckpoint(path: String, reason: String)
    /// A run file could not be written.
    case writeFailed(path: String, reason: String)
    /// `--resume` found no checkpoint in the run directory.
    case nothingToResume(directory: String)
    /// The run directory already holds a run and neither resuming nor replacing was asked for.
    case runExists(directory: String, step: Int)
    /// The checkpoint was made with settings a resumed run may not change.
    case resumeMismatch(path: String, differences: [String])
    /// Training was interrupted at `step`; its state is in `checkpoint`.
    case interrupted(step: Int, checkpoint: String?)

    /// A run file that could not be read (`badCheckpoint`) or written (`writeFailed`).
    public init(_ error: FileError) {
        switch error {
        case .unreadable(let path, let reason): self = .badCheckpoint(path: path, reason: reason)
        case .writeFailed(let path, let reason): self = .writeFailed(path: path, reason: reason)
        }
    }

    /// The message.
    public var errorDescription: String? {
        switch self {
        case .nonFiniteLoss(let step, let loss, let checkpoint):
            "the training loss became \(loss) at step \(step), so training stopped. "
                + (checkpoint.map { "The last good checkpoint is kept in \($0): continue it with --resume and a lower --lr. " }
                    ?? "Lower --lr. ")
                + "If it recurs, check the data for extreme dense values"
        case .cannotEvaluate(let part, let reason):
            "cannot evaluate on the \(part) rows: \(reason)"
        case .badCheckpoint(let path, let reason):
            "\(path): \(reason)"
        case .writeFailed(let path, let reason):
            "\(path): cannot write: \(reason)"
        case .nothingToResume(let directory):
            "--resume: \(directory) holds no checkpoint.bin; run without --resume to start a new run there"
        case .runExists(let directory, let step):
            "\(directory) already holds a run (checkpoint at step \(step)); pass --resume to continue it, "
                + "--force to start over (deleting its checkpoint, weights and logs), or choose another --output"
        case .resumeMismatch(let path, let differences):
            "cannot resume from \(path): this run changes \(differences.joined(separator: ", ")). "
                + "Resume with the checkpoint's settings, or start a new run with --force or another --output"
        case .interrupted(let step, let checkpoint):
            "interrupted at step \(step)"
                + (checkpoint.map { "; the run's state is saved in \($0): continue with the same command and --resume" } ?? "")
        }
    }
}

extension AtomicFile {
    /// Writes a run file (checkpoint, weights, search results) atomically; a failure is a
    /// `TrainingError.writeFailed`.
    public static func writeRunFile(_ bytes: [UInt8], to path: String) throws(TrainingError) {
        do { try write(bytes, to: path) } catch { throw TrainingError(error) }
    }

    /// Reads a whole run file; a missing, empty or unreadable one is a
    /// `TrainingError.badCheckpoint` (`what` names its kind in the message).
    public static func readRunFile(_ path: String, what: String) throws(TrainingError) -> [UInt8] {
        do { return try read(path, what: what) } catch { throw TrainingError(error) }
    }
}
