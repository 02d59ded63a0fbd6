import ArgumentParser
import CompactRec
import Foundation

/// `compactrec train`: trains a model on a prepared dataset and reports test metrics.
struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a CTR model on a prepared dataset and report its test metrics.",
        discussion: """
            Trains on the train rows (shuffled each epoch), evaluates on validation after each \
            epoch (or every --evaluate-every steps), keeps the weights with the best validation \
            AUC (stopping after --patience evaluations without improvement), and reports AUC and \
            logloss on the test rows. Embedding tables are updated sparsely (only the rows a \
            batch used). Not yet available: checkpoints and --resume, --config, --dims, reports.
            """
    )

    @Argument(help: "A directory written by compactrec prepare.")
    var dataset: String

    @Option(help: "Model: \(ModelKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: ModelKind = .deepfm

    @Option(help: "Embedding method: \(ModelFactory.EmbeddingMethod.allCases.map(\.rawValue).joined(separator: ", ")).")
    var embedding: ModelFactory.EmbeddingMethod = .plain

    @Option(help: "Embedding width d.")
    var dim = 16

    @Option(help: "Hidden widths of DeepFM's / Wide&Deep's MLP, comma-separated.")
    var mlp = "400,400,400"

    @Option(help: "Rows per step.")
    var batchSize = 4096

    @Option(help: "Passes over the training rows.")
    var epochs = 1

    @Option(help: "Learning rate (Adam for dense layers, lazy Adam for embedding rows).")
    var lr: Float = 1e-3

    @Option(help: "Threads for the kernels (default: all cores).")
    var threads = Parallel.defaultThreads

    @Option(help: "Seed of initialisation and shuffling.")
    var seed: UInt64 = 1

    @Option(help: "Evaluate on validation every N steps (default: once per epoch).")
    var evaluateEvery: Int?

    @Option(help: "Stop after this many evaluations without a better validation AUC.")
    var patience = 2

    @Flag(help: "Print the test metrics as one JSON object.")
    var json = false

    @Flag(help: "No progress bar.")
    var quiet = false

    func validate() throws {
        guard batchSize >= 1, epochs >= 1, threads >= 1, patience >= 1 else {
            throw ValidationError("--batch-size, --epochs, --threads and --patience must be at least 1")
        }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number") }
        guard parsedMLP != nil else { throw ValidationError("--mlp must be positive widths separated by commas, e.g. 400,400,400") }
    }

    var parsedMLP: [Int]? {
        let widths = mlp.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !widths.isEmpty, widths.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return widths.compactMap { $0 }
    }

    func run() async throws {
        let store = try ColumnStore(directory: dataset)
        var configuration = ModelConfiguration(kind: model, dimension: dim)
        configuration.mlp = parsedMLP ?? configuration.mlp
        let network = try ModelFactory.make(configuration, method: embedding, store: store, seed: seed)
        var options = TrainingOptions()
        options.epochs = epochs
        options.batchSize = batchSize
        options.learningRate = lr
        options.threads = threads
        options.seed = seed
        options.evaluateEvery = evaluateEvery
        options.patience = patience
        let bar = ProgressBar(label: "train", unit: .items("samples"), enabled: quiet ? false : nil)
        let trainer = Trainer(model: network, store: store, options: options)
        let report = try trainer.fit { progress in
            let total = progress.rowsPerEpoch * epochs
            let done = (progress.epoch - 1) * progress.rowsPerEpoch + progress.rowsDone
            var note = "loss \(ProgressBar.fixed(Double(progress.loss), 4))"
            if let validation = progress.validation { note += ", validation AUC \(ProgressBar.fixed(validation.auc, 4))" }
            bar.update(done: done, total: total, note: note)
        }
        bar.finish()
        let result = TrainResult(
            auc: report.test.auc, logloss: report.test.logloss,
            embeddingParams: network.embeddingParameterCount, totalParams: network.totalParameterCount,
            modelBytes: network.totalParameterCount * MemoryLayout<Float>.size,
            samplesPerSecond: report.samplesPerSecond, testRows: report.test.rows, steps: report.steps,
            bestValidationAUC: report.bestValidation?.auc, stoppedEarly: report.stoppedEarly)
        if json {
            print(try jsonString(result))
            return
        }
        print("\(model.rawValue), \(embedding.rawValue) embeddings d = \(dim): test AUC \(ProgressBar.fixed(result.auc, 4)), "
              + "logloss \(ProgressBar.fixed(result.logloss, 4)) on \(result.testRows) rows")
        print("  embedding parameters \(result.embeddingParams), total \(result.totalParams) (\(result.modelBytes / 1_000_000) MB as Float32)")
        print("  \(result.steps) steps, \(Int(result.samplesPerSecond)) training samples/s"
              + (result.stoppedEarly ? ", stopped early" : "")
              + (result.bestValidationAUC.map { ", best validation AUC \(ProgressBar.fixed($0, 4))" } ?? ""))
    }
}

/// What `train --json` prints: test-split metrics and sizes.
struct TrainResult: Encodable {
    var auc: Double
    var logloss: Double
    var embeddingParams: Int
    var totalParams: Int
    var modelBytes: Int
    var samplesPerSecond: Double
    var testRows: Int
    var steps: Int
    var bestValidationAUC: Double?
    var stoppedEarly: Bool

    enum CodingKeys: String, CodingKey {
        case auc, logloss, steps
        case embeddingParams = "embedding_params"
        case totalParams = "total_params"
        case modelBytes = "model_bytes"
        case samplesPerSecond = "samples_per_second"
        case testRows = "test_rows"
        case bestValidationAUC = "best_validation_auc"
        case stoppedEarly = "stopped_early"
    }
}

extension ModelKind: ExpressibleByArgument {}
extension ModelFactory.EmbeddingMethod: ExpressibleByArgument {}
