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
