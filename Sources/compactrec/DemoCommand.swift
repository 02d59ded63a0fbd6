import ArgumentParser
import CompactRec
import CompactRecData
import CompactRecInference
import Foundation

/// `compactrec demo`: the whole pipeline on embedded defaults, in a temporary directory.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate teacher data, prepare it, train DeepFM on it and compare its test AUC with the oracle's.",
        discussion: """
            Writes everything to a temporary directory (removed afterwards unless --directory \
            is given): synthetic rows in Criteo's layout from a hidden teacher model, the \
            prepared dataset, and a training run (checkpoint, best weights, metrics log, HTML \
            report). Prints the dataset's summary, the trained model's test AUC and logloss, \
            and the teacher's oracle AUC on the same rows: the ceiling a model approaches.
            """
    )

    @Option(help: "Rows of teacher data to generate.")
    var rows = 500_000

    @Option(help: "Seed of the teacher and the split.")
    var seed: UInt64 = 1

    @Option(help: "Keep the files in this directory instead of a temporary one.")
    var directory: String?

    @Option(help: "Model to train: \(ModelKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: ModelKind = .deepfm

    @Option(help: "Training epochs.")
    var epochs = 2

    @Option(help: "Threads for training (default: all cores).")
    var threads = Parallel.defaultThreads

    @Flag(help: "No progress bars.")
    var quiet = false

    func validate() throws {
        guard rows >= 1000 else { throw ValidationError("--rows must be at least 1000 (the split needs validation and test rows)") }
        guard epochs >= 1, threads >= 1 else { throw ValidationError("--epochs and --threads must be at least 1") }
    }

    func run() async throws {
        let workDirectory = directory ?? (NSTemporaryDirectory() + "compactrec-demo-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        defer { if directory == nil { try? FileManager.default.removeItem(atPath: workDirectory) } }

        let dataPath = workDirectory + "/teacher.tsv"
        var configuration = TeacherConfiguration(rows: rows, seed: seed)
        configuration.splitSeed = seed
        let generator = try TeacherGenerator(configuration: configuration)
        let generateBar = ProgressBar(label: "generate", unit: .items("rows"), enabled: quiet ? false : nil)
        let generated = try generator.write(to: dataPath) { done, total in generateBar.update(done: done, total: total) }
        generateBar.finish()
        print(
            "1. generated \(generated.rows) teacher rows (\(generated.bytes / 1_000_000) MB, Criteo layout) "
                + "in \(ProgressBar.fixed(generated.seconds, 2)) s: \(dataPath)")

        var options = PrepareOptions()
        options.split = .random(seed: seed)
        // Values seen fewer than 3 times in training share the field's OOV row: most of the
        // teacher's long tail, which 400k rows cannot teach anyway (4x smaller tables, same AUC or better).
        options.minCount = 3
        options.replaceExisting = true
        let prepareBar = ProgressBar(label: "prepare ", unit: .bytes, enabled: quiet ? false : nil)
        let prepared = try Preparer.prepare(
            format: CriteoFormat(), formatName: "criteo", inputs: [dataPath],
            output: workDirectory + "/prepared", options: options
        ) { progress in
            if progress.stage == "reading" { prepareBar.update(done: progress.done, total: progress.total) }
        }
        prepareBar.finish()
        print(
            "2. prepared it in \(ProgressBar.fixed(prepared.seconds, 2)) s "
                + "(\(ProgressBar.fixed(Double(prepared.inputBytes) / 1e6 / prepared.seconds, 1)) MB/s, --min-count 3): \(workDirectory)/prepared"
        )

        let summary = try DatasetSummary(store: ColumnStore(directory: workDirectory + "/prepared"), top: 0)
        print(
            "3. dataset: "
                + summary.parts.map { "\($0.name) \($0.rows) rows (click rate \(ProgressBar.fixed($0.clickRate * 100, 1))%)" }
                .joined(separator: ", "))
        let embeddingRows = summary.fields.compactMap { $0.cardinality }.reduce(0, +)
        print(
            "   \(summary.fields.count) fields, \(embeddingRows) embedding rows in all "
                + "(\(ProgressBar.fixed(Double(embeddingRows * 16 * 4) / 1e6, 1)) MB of Float32 tables at d = 16)")
        let truth = generated.truth
        let noise = truth.categorical.filter { $0.usefulRank == TeacherRank.noise }.map { $0.name }
        print("   teacher: useful rank per field " + truth.categorical.map { "\($0.name)=\($0.usefulRank)" }.joined(separator: " "))
        print("   pure-noise fields: \(noise.joined(separator: ", "))")
        let store = try ColumnStore(directory: workDirectory + "/prepared")
        var trainingOptions = TrainingOptions()
        trainingOptions.epochs = epochs
        trainingOptions.threads = threads
        trainingOptions.seed = seed
        trainingOptions.evaluateEvery = DemoCommand.evaluationsPerEpoch(
            trainRows: store.rowIndices(of: .train).count,
            batchSize: trainingOptions.batchSize)
        let runConfiguration = RunConfiguration(
            model: ModelConfiguration(kind: model, dimension: 16),
            options: trainingOptions, dataset: DatasetIdentity(store))
        print("4. training: \(Trainer.describe(runConfiguration))")
        let run = TrainingRun(directory: workDirectory + "/run", configuration: runConfiguration, resume: false)
        run.removePreviousFiles()
        let outcome = try TrainingSession(run: run, store: store, quiet: quiet).train()
        let result = outcome.result
        print(
            "   \(result.steps) steps at \(Int(result.samplesPerSecond)) samples/s; "
                + "\(ProgressBar.fixed(Double(result.embeddingParams) / 1e6, 2)) M embedding parameters, "
                + "\(ProgressBar.fixed(Double(result.modelBytes) / 1e6, 1)) MB model")
        print("5. test split (\(result.testRows) rows):")
        print("   \(model.rawValue.padding(8)) AUC \(ProgressBar.fixed(result.auc, 4)), logloss \(ProgressBar.fixed(result.logloss, 4))")
        if let auc = truth.oracle.random.auc, let logloss = truth.oracle.random.logloss {
            print(
                "   oracle   AUC \(ProgressBar.fixed(auc, 4)), logloss \(ProgressBar.fixed(logloss, 4)) "
                    + "(the teacher's own probabilities: no model beats this in expectation)")
            print(
                "   gap to the oracle: \(ProgressBar.fixed(auc - result.auc, 4)) AUC. Most of it is data, not training: the "
                    + "teacher's ids follow Zipf laws over up to a million values, so most are seen a few times or never in "
                    + "\(store.rowIndices(of: .train).count) training rows (docs/BENCHMARKS.md: a PyTorch DeepFM on the same rows "
                    + "reaches the same AUC, and more rows narrow the gap).")
        }
        if directory != nil {
            print(
                "Files: \(workDirectory) (report: \(run.reportPath)). "
                    + "Next: compactrec evaluate \(run.directory), or compactrec train \(workDirectory)/prepared --help.")
        }
    }

    /// Two evaluations per epoch: early stopping and the report's AUC chart get some points.
    static func evaluationsPerEpoch(trainRows: Int, batchSize: Int) -> Int {
        max(1, (trainRows + batchSize - 1) / batchSize / 2)
    }
}
