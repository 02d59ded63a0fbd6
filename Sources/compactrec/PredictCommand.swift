import ArgumentParser
import CompactRec
import CompactRecData
import CompactRecInference
import Foundation

/// `compactrec predict`: click probabilities for a file of raw rows.
struct PredictCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Score raw rows (in the format the model was trained on) with a model file; write a CSV of click probabilities.",
        discussion: """
            Reads --input as the training data was read (the model file records the format and \\
            its settings); the label column may be left out (Criteo's 39-column test.txt, an \\
            Avazu or schema-described file without the label column). Categorical values are \\
            mapped with the training vocabularies: unseen values (and values rarer than \\
            --min-count at prepare time) go to the field's OOV row, empty ones to its missing \\
            row; dense values get the training transform. Streams the input on all cores.

            Output: a header line, then for each data row its line number in the input, its \\
            label if the input has labels, and the click probability: line,label,score or \\
            line,score. Written atomically. A malformed row stops it with FILE:LINE: reason.

            Example:
              compactrec predict --model deepfm.crmodel --input test.txt --output scores.csv
            """
    )

    @Option(help: "A model file written by compactrec export or train --output NAME.crmodel.")
    var model: String

    @Option(help: "Raw rows in the training format (for movielens: the folder).")
    var input: String

    @Option(help: "The CSV file to write.")
    var output: String

    @Option(help: "Threads to use (default: all cores).")
    var threads = Parallel.defaultThreads

    @Option(help: "Rows per forward pass on each thread.")
    var batchSize = 4096

    @Flag(help: "Print one JSON object.")
    var json = false

    @Flag(help: "No progress bar.")
    var quiet = false

    func validate() throws {
        guard threads >= 1, batchSize >= 1 else { throw ValidationError("--threads and --batch-size must be at least 1") }
    }

    func run() async throws {
        let predictor = try Predictor(path: model)
        let bar = ProgressBar(label: "predict", unit: .bytes, enabled: quiet || json ? false : nil)
        let report = try FilePrediction.run(predictor, input: input, output: output, threads: threads, batchSize: batchSize) {
            done, total, rows in
            bar.update(done: done, total: total, note: "\(rows) rows")
        }
        bar.finish()
        if json {
            print(try jsonString(PredictResult(report: report, output: output)))
            return
        }
        print(
            "Scored \(report.rows) rows\(report.labeled ? " (labeled)" : "") into \(output) in \(ProgressBar.fixed(report.seconds, 2)) s "
                + "(\(Int(report.rowsPerSecond)) rows/s, \(threads) threads)")
    }
}

/// What `predict --json` prints.
struct PredictResult: Encodable {
    var rows: Int
    var labeled: Bool
    var seconds: Double
    var rowsPerSecond: Double
    var inputBytes: Int
    var output: String

    init(report: FilePrediction.Report, output: String) {
        rows = report.rows
        labeled = report.labeled
        seconds = report.seconds
        rowsPerSecond = report.rowsPerSecond
        inputBytes = report.inputBytes
        self.output = output
    }

    enum CodingKeys: String, CodingKey {
        case rows, labeled, seconds, output
        case rowsPerSecond = "rows_per_second"
        case inputBytes = "input_bytes"
    }
}
