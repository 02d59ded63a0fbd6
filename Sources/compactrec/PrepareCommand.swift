import ArgumentParser
import CompactRec
import CompactRecData
import CompactRecInference

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `compactrec prepare`: raw CTR files to a prepared, memory-mappable dataset directory.
struct PrepareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Turn raw CTR data into a prepared dataset directory for training.",
        discussion: """
            Reads the raw files once, streaming, on all cores; builds each categorical field's \
            vocabulary from the training rows (values seen fewer than --min-count times map to \
            the field's OOV id), applies the dense transform, splits rows 80/10/10 and writes \
            columnar binary files plus dataset.json. Memory is bounded by the vocabularies, not \
            the file size. Output appears only when complete.

            Examples:
              compactrec prepare --format criteo --output criteo-prepared train.txt
              compactrec prepare --format avazu --split sequential --output avazu-prepared train.csv
              compactrec prepare --format movielens --output ml --rating-threshold 4 ml-1m/
              compactrec prepare --format schema --schema my.yaml --output mine data.csv
            """
    )

    @Option(help: "Input format: \(InputFormatName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: InputFormatName

    @Option(help: "Directory to create for the prepared dataset.")
    var output: String

    @Option(help: "Schema file (YAML or JSON) describing the columns, for --format schema.")
    var schema: String?

    @Option(help: "Minimum occurrences in training rows for a value to get its own id.")
    var minCount = 1

    @Option(help: "random (80/10/10 by --seed) or sequential (last 10% test, the 10% before validation).")
    var split: SplitKind = .random

    @Option(help: "Seed of the random split.")
    var seed: UInt64 = 42

    @Flag(help: "Skip malformed rows and report how many, by reason, instead of stopping at the first.")
    var skipBadRows = false

    @Option(help: "Dense transform: log1p (log(1 + max(x, 0))) or none.")
    var denseTransform: DenseTransform = .log1p

    @Option(
        help:
            "Model input for a missing dense value, after the transform. The default 0 is also log1p's value for a count of 0; a value the transform never produces (e.g. -1) keeps 'missing' apart from 'zero'."
    )
    var denseMissingValue: Float = 0

    @Option(help: "MovieLens: ratings at or above this are clicks (label 1).")
    var ratingThreshold = 4

    @Option(help: "Criteo layout: number of categorical columns (26 in Criteo-Kaggle; teacher data made with generate --fields N has N).")
    var categoricalFields = 26

    @Option(help: "libFM: number of fields (default: from the first line).")
    var libfmFields: Int?

    @Option(
        help: "libFM: libsvm (feature:value, the k-th feature is field k) or libffm (field:feature:value); default: from the first line.")
    var libfmLayout: LibFMFormat.Layout?

    @Option(help: "Threads to use (default: all cores).")
    var threads: Int = Parallel.defaultThreads

    @Flag(help: "Replace the output directory if it exists.")
    var force = false

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    @Flag(help: "No progress bar.")
    var quiet = false

    @Argument(help: "Input files (for movielens: the folder holding u.data or ratings.dat).")
    var inputs: [String]

    enum SplitKind: String, ExpressibleByArgument, CaseIterable {
        case random, sequential
    }

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard minCount >= 1 else { throw ValidationError("--min-count must be at least 1") }
        guard denseMissingValue.isFinite else { throw ValidationError("--dense-missing-value must be a finite number") }
        if format == .schema && schema == nil { throw ValidationError("--format schema needs --schema FILE") }
        if format != .schema && schema != nil { throw ValidationError("--schema is only used with --format schema") }
    }

    func run() async throws {
        let (reader, files) = try InputFormat.make(
            format, inputs: inputs, schemaPath: schema, ratingThreshold: ratingThreshold,
            categoricalFields: categoricalFields, libFMFields: libfmFields, libFMLayout: libfmLayout)
        var options = PrepareOptions()
        options.input = InputSettings(
            format: format, delimitedSchema: try schema.map { path throws(DataError) in try DelimitedSchemaFile.load(path: path) },
            ratingThreshold: format == .movielens ? ratingThreshold : nil, libFMLayout: libfmLayout)
        options.minCount = minCount
        options.split = split == .random ? .random(seed: seed) : .sequential
        options.skipBadRows = skipBadRows
        options.denseTransform = denseTransform
        options.denseMissingValue = denseMissingValue
        options.threads = threads
        options.replaceExisting = force
        let bar = ProgressBar(label: "prepare", unit: .bytes, enabled: quiet ? false : nil)
        let finishing = ProgressBar(label: "finish ", unit: .items("rows"), enabled: quiet ? false : nil)
        let report = try Preparer.prepare(
            format: reader, formatName: format.rawValue, inputs: files, output: output,
            options: options
        ) { progress in
            if progress.stage == "reading" {
                bar.update(done: progress.done, total: progress.total, note: "\(progress.rows) rows")
            } else {
                finishing.update(done: progress.done, total: progress.total)
            }
        }
        bar.finish()
        for example in report.skippedExamples { warn("skipped \(example)") }
        let skippedTotal = report.manifest.source.skippedRows.values.reduce(0, +)
        if skippedTotal > report.skippedExamples.count {
            warn("... and \(skippedTotal - report.skippedExamples.count) more skipped rows (counts by reason below)")
        }
        try printReport(report)
    }

    private func printReport(_ report: PrepareReport) throws {
        let manifest = report.manifest
        let megabytesPerSecond = Double(report.inputBytes) / 1e6 / max(report.seconds, 1e-9)
        if json {
            let summary = PrepareSummary(
                output: output, rows: manifest.rows, rowsPerPart: manifest.split.rows,
                positivesPerPart: manifest.split.positives, skippedRows: manifest.source.skippedRows,
                inputBytes: report.inputBytes, seconds: report.seconds, megabytesPerSecond: megabytesPerSecond,
                peakResidentBytes: report.peakResidentBytes)
            print(try jsonString(summary))
            return
        }
        print(
            "Prepared \(manifest.rows) rows into \(output) in \(ProgressBar.fixed(report.seconds, 2)) s "
                + "(\(ProgressBar.fixed(megabytesPerSecond, 1)) MB/s, peak memory \(report.peakResidentBytes / (1 << 20)) MiB)")
        for part in SplitPart.allCases {
            let rows = manifest.split.rows[part.name] ?? 0
            let clicks = manifest.split.positives[part.name] ?? 0
            print("  \(part.name.padding(10)) \(String(rows).leftPadding(10)) rows, click rate \(percent(clicks, rows))")
        }
        let skipped = manifest.source.skippedRows
        if !skipped.isEmpty {
            print(
                "Skipped \(skipped.values.reduce(0, +)) bad rows: "
                    + skipped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        }
        print("Inspect it with: compactrec inspect \(output)")
    }
}

/// The JSON printed by `prepare --json`.
struct PrepareSummary: Encodable {
    var output: String
    var rows: Int
    var rowsPerPart: [String: Int]
    var positivesPerPart: [String: Int]
    var skippedRows: [String: Int]
    var inputBytes: Int
    var seconds: Double
    var megabytesPerSecond: Double
    var peakResidentBytes: Int
}

extension DenseTransform: ExpressibleByArgument {}
extension LibFMFormat.Layout: ExpressibleByArgument {}
extension InputFormatName: ExpressibleByArgument {}
