import ArgumentParser
import CompactRec
import CompactRecData
import CompactRecInference

/// `compactrec inspect`: a prepared dataset's summary.
struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Summarise a prepared dataset: rows per split, click rate, per-field cardinality, OOV share, top values.",
        discussion: "With --json the same summary is printed as one object; its `rows` is the total row count."
    )

    @Argument(help: "A directory written by compactrec prepare.")
    var directory: String

    @Option(help: "Most frequent values to list per field.")
    var top = 3

    @Flag(help: "Also rehash every column file against dataset.json.")
    var verify = false

    @Flag(help: "Print the summary as one JSON object.")
    var json = false

    func validate() throws {
        guard top >= 0 else { throw ValidationError("--top must be 0 or more") }
    }

    func run() async throws {
        let store = try ColumnStore(directory: directory)
        if verify { try store.verifyChecksums() }
        let summary = try DatasetSummary(store: store, top: top)
        if json {
            print(try jsonString(summary))
            return
        }
        print(
            "Dataset \(summary.directory): \(summary.rows) rows from \(summary.source.format) "
                + "(\(summary.source.files.map(\.path).joined(separator: ", "))), split \(summary.split)"
                + (verify ? ", checksums verified" : ""))
        print("part".padding(12) + "rows".leftPadding(12) + "clicks".leftPadding(12) + "click rate".leftPadding(12))
        for part in summary.parts {
            print(
                part.name.padding(12) + String(part.rows).leftPadding(12) + String(part.positives).leftPadding(12)
                    + percent(part.positives, part.rows).leftPadding(12))
        }
        print(
            "all".padding(12) + String(summary.rows).leftPadding(12) + String(summary.positives).leftPadding(12)
                + percent(summary.positives, summary.rows).leftPadding(12))
        let skipped = summary.source.skippedRows
        if !skipped.isEmpty {
            print("skipped rows: " + skipped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        }
        print("")
        print(
            "field".padding(14) + "kind".padding(14) + "cardinality".leftPadding(12) + "missing".leftPadding(9)
                + "OOV test".leftPadding(10) + "  top values (training count)")
        for field in summary.fields {
            let cardinality = field.cardinality.map(String.init) ?? "-"
            let oov =
                field.oovShare.map { shares in
                    (shares["test"] ?? shares["all"]).map { ProgressBar.fixed($0 * 100, 2) + "%" } ?? "-"
                } ?? "-"
            let topValues = field.topValues?.map { "\($0.value) (\($0.count))" }.joined(separator: ", ") ?? ""
            print(
                field.name.padding(14) + field.kind.rawValue.padding(14) + cardinality.leftPadding(12)
                    + (ProgressBar.fixed(field.missingShare * 100, 1) + "%").leftPadding(9) + oov.leftPadding(10) + "  " + topValues)
        }
        print("")
        print(
            "preprocessing: dense \(summary.preprocessing.denseTransform.rawValue) (missing -> \(summary.preprocessing.denseMissingValue)), "
                + "vocabulary from train rows with min count \(summary.preprocessing.minCount); id 0 = OOV, id 1 = missing")
    }
}
