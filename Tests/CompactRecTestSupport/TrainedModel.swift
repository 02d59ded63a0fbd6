import CompactRec
import CompactRecData
import CompactRecInference
import Foundation

/// A small model trained on teacher data, with its raw rows, prepared dataset, run directory
/// and model file: what the export, prediction and server tests start from.
public struct TrainedModel {
    /// The temporary directory holding everything (the caller removes it).
    public let directory: String
    /// The raw rows (Criteo layout, 8 categorical fields).
    public var rawFile: String { directory + "/teacher.tsv" }
    /// The prepared dataset.
    public let store: ColumnStore
    /// The trainer after `fit`.
    public let trainer: Trainer
    /// The run (directory, configuration).
    public let run: TrainingRun
    /// The test report of the run.
    public let report: TrainingReport
    /// The model file of the run's best weights.
    public let modelFile: ModelFile
    /// Where `modelFile` is written.
    public var modelPath: String { directory + "/model.crmodel" }

    /// Generates `rows` teacher rows, prepares them (recording the reader settings, as the CLI
    /// does) and trains `configuration` for one epoch in a run directory; writes the model file.
    public init(
        _ configuration: ModelConfiguration, rows: Int = 20_000,
        evaluateEvery: Int? = nil
    ) throws {
        directory = NSTemporaryDirectory() + "compactrec-export-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var teacher = TeacherConfiguration(rows: rows, seed: 3, fields: 8)
        teacher.splitSeed = 42
        _ = try TeacherGenerator(configuration: teacher).write(to: directory + "/teacher.tsv")
        var prepare = PrepareOptions()
        prepare.input = InputSettings(format: .criteo)
        _ = try Preparer.prepare(
            format: CriteoFormat(categoricalCount: 8), formatName: "criteo", inputs: [directory + "/teacher.tsv"],
            output: directory + "/prepared", options: prepare)
        store = try ColumnStore(directory: directory + "/prepared")
        var options = TrainingOptions()
        (options.batchSize, options.epochs, options.threads, options.learningRate) = (512, 1, 2, 3e-3)
        options.evaluateEvery = evaluateEvery
        run = TrainingRun(
            directory: directory + "/run",
            configuration: RunConfiguration(model: configuration, options: options, dataset: DatasetIdentity(store)),
            resume: false)
        trainer = Trainer(
            model: try ModelFactory.make(configuration, store: store, seed: 1), configuration: configuration, store: store, options: options
        )
        report = try trainer.fit(run: run)
        modelFile = try ModelFile.export(from: run.directory)
        try modelFile.write(to: directory + "/model.crmodel")
    }

    /// A small DeepFM (d = 8, MLP 32-16).
    public static var deepFM: ModelConfiguration {
        var configuration = ModelConfiguration(kind: .deepfm, dimension: 8)
        configuration.mlp = [32, 16]
        return configuration
    }

    /// The first `count` raw rows of the teacher file as named values (what a JSON request
    /// holds), without their labels; empty values left out, integers as numbers.
    public func namedRows(_ count: Int) throws -> [[String: FeatureValue]] {
        let lines = try String(contentsOfFile: rawFile, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let names = store.schema.dense + store.schema.categorical
        return lines.prefix(count).map { line in
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false).dropFirst()
            var row: [String: FeatureValue] = [:]
            for (name, value) in zip(names, columns) where !value.isEmpty {
                row[name] = store.schema.dense.contains(name) ? .number(Double(value) ?? .nan) : .text(String(value))
            }
            return row
        }
    }

    /// The JSON body of a scoring request for `rows`: `{"rows": [...]}`.
    public static func requestBody(_ rows: [[String: FeatureValue]]) -> String {
        let encoded = rows.map { row in
            "{"
                + row.sorted { $0.key < $1.key }.map { key, value in
                    let text: String =
                        switch value {
                        case .number(let x): "\(x)"
                        case .text(let s): "\"\(s)\""
                        case .texts(let list): "[" + list.map { "\"\($0)\"" }.joined(separator: ",") + "]"
                        case .missing, .unsupported: "null"
                        }
                    return "\"\(key)\": \(text)"
                }.joined(separator: ", ") + "}"
        }
        return "{\"rows\": [" + encoded.joined(separator: ",\n") + "]}"
    }

    /// The in-memory evaluation's logits of the best model on `part`, by dataset row.
    public func evaluationLogits(_ part: SplitPart) -> [Int: Float] {
        guard let model = trainer.bestModel else { return [:] }
        var loader = BatchLoader(store: store, part: part, batchSize: 4096)
        let rows = store.rowIndices(of: part)
        var batch = Batch(schema: store.schema)
        var logits: [Int: Float] = [:]
        var next = 0
        while loader.next(into: &batch) {
            for value in model.forward(batch, training: false).values {
                logits[rows[next]] = value
                next += 1
            }
        }
        return logits
    }
}
