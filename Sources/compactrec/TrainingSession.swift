import CompactRec
import CompactRecData
import CompactRecInference
import Foundation
import Synchronization

/// Set by SIGINT (Ctrl-C) during training: the trainer then saves a checkpoint and stops.
private let interruptRequested = Atomic<Bool>(false)

/// Ctrl-C during a training loop (`train`, `search`): the loop polls `shouldStop`, saves a
/// checkpoint and throws `TrainingError.interrupted`, which says how to resume.
enum Interruption {
    /// Runs `body` with SIGINT turned into its `shouldStop` answer, restoring the default after.
    static func watching<T>(_ body: (_ shouldStop: @escaping () -> Bool) throws -> T) rethrows -> T {
        interruptRequested.store(false, ordering: .relaxed)
        signal(SIGINT) { _ in interruptRequested.store(true, ordering: .relaxed) }
        defer { signal(SIGINT, SIG_DFL) }
        return try body { interruptRequested.load(ordering: .relaxed) }
    }
}

/// One training run from the command line: builds the model, trains it with a progress bar,
/// handles Ctrl-C, and writes the run's results and report. Shared by `train` and `demo`.
struct TrainingSession {
    let run: TrainingRun
    let store: ColumnStore
    let quiet: Bool
    /// Sets the fresh model's weights before training (AutoDim's `--warm-start`); nil keeps
    /// the seeded initialisation.
    var initialize: ((any CTRModel) -> Void)? = nil

    /// What a finished run gives the commands.
    struct Outcome {
        let result: TrainResult
        let configuration: RunConfiguration
        let directory: String
        /// The best weights in inference form (what best.weights holds), the step they are
        /// from and their validation metrics: what a model file is made of.
        let inference: InferenceModel
        let step: Int
        let validation: Evaluation?

        /// The human-readable summary on stdout.
        func printSummary() {
            let model = configuration.model
            let fieldWidths = model.embedding.fieldWidths
            var widths =
                fieldWidths.map { " (per-field widths \(Set($0).sorted().map(String.init).joined(separator: "/")), projected)" } ?? ""
            if let inner = model.embedding.innerWidths {
                widths +=
                    ", k = \(Set(inner).sorted().map(String.init).joined(separator: "/")) folded into "
                    + (fieldWidths == nil ? "d" : "the per-field widths")
            }
            if case .quotientRemainder(let method) = model.embedding { widths += ", c = \(method.collisions)" }
            print(
                "\(model.kind.rawValue), \(model.embedding.kind?.rawValue ?? "search") embeddings d = \(model.dimension)\(widths): "
                    + "test AUC \(ProgressBar.fixed(result.auc, 4)), logloss \(ProgressBar.fixed(result.logloss, 4)) on \(result.testRows) rows"
            )
            print(
                "  embedding parameters \(result.embeddingParams), total \(result.totalParams) "
                    + "(\(ProgressBar.fixed(Double(result.modelBytes) / 1e6, 1)) MB as Float32)"
                    + (result.trainingEmbeddingParams != result.embeddingParams
                        ? "; \(result.trainingEmbeddingParams) embedding parameters while training" : ""))
            if let rank = result.effectiveRank {
                print("  mean effective rank of the embedding tables \(ProgressBar.fixed(rank, 2)) (of at most \(model.dimension))")
            }
            print(
                "  \(result.steps) steps, \(Int(result.samplesPerSecond)) training samples/s"
                    + (result.stoppedEarly ? ", stopped early" : "")
                    + (result.bestValidationAUC.map { ", best validation AUC \(ProgressBar.fixed($0, 4))" } ?? ""))
            print("  run directory: \(directory) (best.weights, checkpoint.bin, metrics.jsonl, report.html, results.json)")
        }
    }

    /// Trains; on Ctrl-C saves a checkpoint and throws `TrainingError.interrupted`.
    func train() throws -> Outcome {
        let configuration = run.configuration
        let network = try ModelFactory.make(configuration.model, store: store, seed: configuration.options.seed)
        if !run.resume { initialize?(network) }
        let trainer = Trainer(model: network, configuration: configuration.model, store: store, options: configuration.options)
        let bar = ProgressBar(label: "train", unit: .items("samples"), enabled: quiet ? false : nil)
        let epochs = configuration.options.epochs
        let report: TrainingReport
        do {
            report = try Interruption.watching { shouldStop in
                try trainer.fit(
                    run: run,
                    progress: { progress in
                        let total = progress.rowsPerEpoch * epochs
                        let done = (progress.epoch - 1) * progress.rowsPerEpoch + progress.rowsDone
                        var note = "loss \(ProgressBar.fixed(Double(progress.loss), 4))"
                        if let validation = progress.validation { note += ", validation AUC \(ProgressBar.fixed(validation.auc, 4))" }
                        bar.update(done: done, total: total, note: note)
                    }, shouldStop: shouldStop)
            }
        } catch {
            bar.finish()
            writeReport()
            throw error
        }
        bar.finish()
        let result = TrainResult(
            auc: report.test.auc, logloss: report.test.logloss,
            embeddingParams: report.embeddingParameters, totalParams: report.totalParameters,
            modelBytes: report.totalParameters * MemoryLayout<Float>.size, samplesPerSecond: report.samplesPerSecond,
            trainingEmbeddingParams: report.trainingEmbeddingParameters,
            effectiveRank: report.effectiveRanks.isEmpty ? nil : report.effectiveRanks.reduce(0, +) / Double(report.effectiveRanks.count),
            effectiveRanks: Dictionary(uniqueKeysWithValues: zip(configuration.dataset.fields, report.effectiveRanks)),
            testRows: report.test.rows, steps: report.steps,
            bestValidationAUC: report.bestValidation?.auc, stoppedEarly: report.stoppedEarly, runDirectory: run.directory)
        try AtomicFile.write(Array(try jsonString(result).utf8) + [UInt8(ascii: "\n")], to: run.resultsPath)
        writeReport()
        guard let inference = trainer.bestInference else {
            throw TrainingError.cannotEvaluate(part: "validation", reason: "training kept no weights")
        }
        return Outcome(
            result: result, configuration: configuration, directory: run.directory, inference: inference,
            step: trainer.cursor.bestStep ?? report.steps, validation: report.bestValidation)
    }

    /// Renders report.html from the metrics log; a failure is a warning, never a lost run.
    private func writeReport() { Self.writeReport(for: run) }

    /// Renders `run`'s report.html; a failure is a warning, never a lost run.
    static func writeReport(for run: TrainingRun) {
        do {
            try RunReport.write(for: run)
        } catch {
            warn("no report written: \(error.localizedDescription)")
        }
    }
}

/// What `train --json` prints: test-split metrics and sizes.
struct TrainResult: Codable {
    var auc: Double
    var logloss: Double
    var embeddingParams: Int
    var totalParams: Int
    var modelBytes: Int
    var samplesPerSecond: Double
    /// Embedding parameters as trained (MLET's wide tables and maps); `embeddingParams` counts
    /// the inference form that is written and served.
    var trainingEmbeddingParams: Int
    /// Mean over fields of the inference tables' effective rank, and per field.
    var effectiveRank: Double?
    var effectiveRanks: [String: Double]
    var testRows: Int
    var steps: Int
    var bestValidationAUC: Double?
    var stoppedEarly: Bool
    var runDirectory: String

    enum CodingKeys: String, CodingKey {
        case auc, logloss, steps
        case embeddingParams = "embedding_params"
        case totalParams = "total_params"
        case modelBytes = "model_bytes"
        case samplesPerSecond = "samples_per_second"
        case testRows = "test_rows"
        case trainingEmbeddingParams = "training_embedding_params"
        case effectiveRank = "effective_rank"
        case effectiveRanks = "effective_ranks"
        case bestValidationAUC = "best_validation_auc"
        case stoppedEarly = "stopped_early"
        case runDirectory = "run_directory"
    }
}
