import ArgumentParser
import CompactRec
import Foundation

/// `compactrec demo`: the whole pipeline on embedded defaults, in a temporary directory.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate teacher data, prepare it and summarise it (training joins with the next release).",
        discussion: """
            Writes everything to a temporary directory (removed afterwards unless --keep): \
            synthetic rows in Criteo's layout from a hidden teacher model, the prepared dataset, \
            and prints its summary beside the teacher's oracle AUC, the ceiling a trained model \
            approaches.
            """
    )

    @Option(help: "Rows of teacher data to generate.")
    var rows = 500_000

    @Option(help: "Seed of the teacher and the split.")
    var seed: UInt64 = 1

    @Option(help: "Keep the files in this directory instead of a temporary one.")
    var directory: String?

    func run() async throws {
        let workDirectory = directory ?? (NSTemporaryDirectory() + "compactrec-demo-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        defer { if directory == nil { try? FileManager.default.removeItem(atPath: workDirectory) } }

        let dataPath = workDirectory + "/teacher.tsv"
        var configuration = TeacherConfiguration(rows: rows, seed: seed)
        configuration.splitSeed = seed
        let generator = try TeacherGenerator(configuration: configuration)
        let generateBar = ProgressBar(label: "generate", unit: .items("rows"))
        let generated = try generator.write(to: dataPath) { done, total in generateBar.update(done: done, total: total) }
        generateBar.finish()
        print("1. generated \(generated.rows) teacher rows (\(generated.bytes / 1_000_000) MB, Criteo layout) "
              + "in \(ProgressBar.fixed(generated.seconds, 2)) s: \(dataPath)")

        var options = PrepareOptions()
        options.split = .random(seed: seed)
        options.replaceExisting = true
        let prepareBar = ProgressBar(label: "prepare ", unit: .bytes)
        let prepared = try Preparer.prepare(format: CriteoFormat(), formatName: "criteo", inputs: [dataPath],
                                            output: workDirectory + "/prepared", options: options) { progress in
            if progress.stage == "reading" { prepareBar.update(done: progress.done, total: progress.total) }
        }
        prepareBar.finish()
        print("2. prepared it in \(ProgressBar.fixed(prepared.seconds, 2)) s "
              + "(\(ProgressBar.fixed(Double(prepared.inputBytes) / 1e6 / prepared.seconds, 1)) MB/s): \(workDirectory)/prepared")

        let summary = try DatasetSummary(store: ColumnStore(directory: workDirectory + "/prepared"), top: 0)
        print("3. dataset: " + summary.parts.map { "\($0.name) \($0.rows) rows (click rate \(ProgressBar.fixed($0.clickRate * 100, 1))%)" }
            .joined(separator: ", "))
        let embeddingRows = summary.fields.compactMap { $0.cardinality }.reduce(0, +)
        print("   \(summary.fields.count) fields, \(embeddingRows) embedding rows in all "
              + "(\(ProgressBar.fixed(Double(embeddingRows * 16 * 4) / 1e6, 1)) MB of Float32 tables at d = 16)")
        let truth = generated.truth
        let noise = truth.categorical.filter { $0.usefulRank == TeacherRank.noise }.map { $0.name }
        print("   teacher: useful rank per field " + truth.categorical.map { "\($0.name)=\($0.usefulRank)" }.joined(separator: " "))
        print("   pure-noise fields: \(noise.joined(separator: ", "))")
        if let auc = truth.oracle.random.auc, let logloss = truth.oracle.random.logloss {
            print("4. oracle on the test split: AUC \(ProgressBar.fixed(auc, 4)), logloss \(ProgressBar.fixed(logloss, 4)) "
                  + "(the teacher's own probabilities: no model beats this in expectation)")
        }
        print("Next: training (compactrec train) arrives with the training issue; "
              + "until then, explore with compactrec inspect on a --directory you keep.")
    }
}
