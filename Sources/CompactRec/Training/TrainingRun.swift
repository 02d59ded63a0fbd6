import CompactRecData

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A run directory: where a training run keeps its checkpoint, best weights, metrics log and
/// report, so it can be resumed, evaluated and read afterwards.
public struct TrainingRun: Sendable {
    /// The directory.
    public let directory: String
    /// What is trained.
    public let configuration: RunConfiguration
    /// Whether to continue from the directory's checkpoint.
    public let resume: Bool

    /// A run in `directory` (created if needed) of `configuration`, resumed if `resume`.
    public init(directory: String, configuration: RunConfiguration, resume: Bool) {
        self.directory = directory
        self.configuration = configuration
        self.resume = resume
    }

    /// How a run starts in its directory.
    public enum Start: Sendable {
        /// A new run; a directory that holds a previous run's checkpoint is refused.
        case new
        /// Continues the directory's checkpoint (which must exist).
        case resume
        /// Deletes a previous run's files first (`--force`), then starts anew.
        case replace
        /// Continues the checkpoint if there is one, else starts anew (a pipeline's `--resume`,
        /// whose later stages may not have begun).
        case resumeIfPresent
    }

    /// A run of `configuration` in `directory`, started as `start` says (`.replace` deletes the
    /// previous run's files now).
    public init(directory: String, configuration: RunConfiguration, start: Start) {
        let checkpoint = directory + "/checkpoint.bin"
        let resume =
            switch start {
            case .new, .replace: false
            case .resume: true
            case .resumeIfPresent: FileManager.default.fileExists(atPath: checkpoint)
            }
        self.init(directory: directory, configuration: configuration, resume: resume)
        if case .replace = start { removePreviousFiles() }
    }

    /// The latest checkpoint.
    public var checkpointPath: String { directory + "/checkpoint.bin" }
    /// The best weights so far.
    public var bestWeightsPath: String { directory + "/best.weights" }
    /// The metrics log (JSON lines).
    public var metricsLogPath: String { directory + "/metrics.jsonl" }
    /// The HTML report.
    public var reportPath: String { directory + "/report.html" }
    /// The final results (JSON), written when the run finishes.
    public var resultsPath: String { directory + "/results.json" }

    /// The files a run writes (what `--force` removes before starting over).
    public var files: [String] { [checkpointPath, bestWeightsPath, metricsLogPath, reportPath, resultsPath] }

    /// Refuses, before any work, to start a new run where a previous run's checkpoint is (what
    /// `prepare` would refuse later): for pipelines whose later stage would otherwise find out
    /// only after an earlier one ran.
    public func refuseExistingRun() throws(TrainingError) {
        guard !resume, FileManager.default.fileExists(atPath: checkpointPath) else { return }
        throw .runExists(directory: directory, step: (try? Checkpoint.read(from: checkpointPath))?.cursor.step ?? 0)
    }

    /// Creates the directory; unless resuming, refuses one that holds a checkpoint.
    func prepare() throws(TrainingError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .writeFailed(path: directory, reason: "\(error.localizedDescription)")
        }
        if resume {
            guard FileManager.default.fileExists(atPath: checkpointPath) else { throw .nothingToResume(directory: directory) }
        } else if FileManager.default.fileExists(atPath: checkpointPath) {
            let step = (try? Checkpoint.read(from: checkpointPath))?.cursor.step ?? 0
            throw .runExists(directory: directory, step: step)
        } else {
            // Files of a run that ended before its first checkpoint: nothing to resume.
            removePreviousFiles()
        }
    }

    /// Deletes a previous run's files in the directory (for `--force`), nothing else.
    public func removePreviousFiles() {
        for file in files { try? FileManager.default.removeItem(atPath: file) }
    }
}
