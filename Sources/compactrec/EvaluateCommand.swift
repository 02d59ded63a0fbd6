import ArgumentParser
import CompactRec
import CompactRecData
import CompactRecInference
import Foundation

/// `compactrec evaluate`: AUC and logloss of a trained run's best weights on a dataset part.
struct EvaluateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure a trained run's best weights (AUC, logloss) on a prepared dataset.",
        discussion: """
            Reads best.weights from a run directory (or a .weights file), rebuilds the model it \
            describes, and reports AUC and logloss on the chosen part of the dataset the run was \
            trained on, or of --dataset: another dataset prepared with the same vocabularies \
            (same fields and cardinalities).
            """
    )

    @Argument(help: "A run directory written by compactrec train, or a best.weights file.")
    var run: String

    @Option(help: "The prepared dataset (default: the one the run was trained on).")
    var dataset: String?

    @Option(help: "Which rows: test, validation or train.")
    var part: PartName = .test

    @Option(help: "Rows per forward batch.")
    var batchSize = 4096

    @Option(help: "Threads for the kernels (default: all cores).")
    var threads = Parallel.defaultThreads

    @Flag(help: "Print one JSON object.")
    var json = false

    /// The parts a user can name.
    enum PartName: String, ExpressibleByArgument, CaseIterable {
        case train, validation, test
        var part: SplitPart {
            switch self {
            case .train: .train
            case .validation: .validation
            case .test: .test
            }
        }
    }

    func validate() throws {
        guard batchSize >= 1, threads >= 1 else { throw ValidationError("--batch-size and --threads must be at least 1") }
    }

    func run() async throws {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: run, isDirectory: &isDirectory)
        let weightsPath = exists && isDirectory.boolValue ? run + "/best.weights" : run
        let file = try WeightsFile.read(from: weightsPath)
        let configuration = file.header.configuration
        let store = try ColumnStore(directory: dataset ?? configuration.dataset.directory)
        let identity = DatasetIdentity(store)
        guard identity.fields == configuration.dataset.fields, identity.cardinalities == configuration.dataset.cardinalities else {
            throw DataError.invalidOption(
                "\(store.directory) does not have the fields and vocabulary sizes of the dataset "
                    + "\(configuration.dataset.directory) the run was trained on; prepare it with the same vocabularies")
        }
        let model = try ModelFactory.make(configuration.model, store: store, seed: configuration.options.seed)
        model.useThreads(threads)
        try file.weights.restore(into: model, source: weightsPath)
        let started = Date()
        let evaluation = try Evaluation.measure(model, on: store, part: part.part, batchSize: batchSize)
        let seconds = Date().timeIntervalSince(started)
        let result = EvaluateResult(
            auc: evaluation.auc, logloss: evaluation.logloss, rows: evaluation.rows, part: part.rawValue,
            embeddingParams: model.embeddingParameterCount, totalParams: model.totalParameterCount,
            modelBytes: model.totalParameterCount * MemoryLayout<Float>.size,
            samplesPerSecond: Double(evaluation.rows) / max(seconds, 1e-9), step: file.header.step)
        if json {
            print(try jsonString(result))
            return
        }
        print("\(Trainer.describe(configuration))")
        print(
            "  weights from step \(file.header.step)"
                + (file.header.validation.map { " (validation AUC \(ProgressBar.fixed($0.auc, 4)))" } ?? ""))
        print(
            "  \(part.rawValue): AUC \(ProgressBar.fixed(evaluation.auc, 4)), logloss \(ProgressBar.fixed(evaluation.logloss, 4)) "
                + "on \(evaluation.rows) rows (\(Int(result.samplesPerSecond)) samples/s)")
    }
}

/// What `evaluate --json` prints.
struct EvaluateResult: Encodable {
    var auc: Double
    var logloss: Double
    var rows: Int
    var part: String
    var embeddingParams: Int
    var totalParams: Int
    var modelBytes: Int
    var samplesPerSecond: Double
    var step: Int

    enum CodingKeys: String, CodingKey {
        case auc, logloss, rows, part, step
        case embeddingParams = "embedding_params"
        case totalParams = "total_params"
        case modelBytes = "model_bytes"
        case samplesPerSecond = "samples_per_second"
    }
}
