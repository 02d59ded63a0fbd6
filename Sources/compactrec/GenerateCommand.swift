import ArgumentParser
import CompactRec
import CompactRecData
import CompactRecInference

/// `compactrec generate`: synthetic click data in Criteo-Kaggle's layout, labelled by a hidden
/// teacher model whose oracle AUC is known, so trained models can be judged against the best
/// score achievable on the data.
struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write synthetic Criteo-layout click data from a hidden teacher with a known oracle AUC.",
        discussion: """
            Lines are Criteo-Kaggle's TSV without a header: label, 13 integer columns I1..I13 \
            (empty when missing) and the categorical columns C1.. as 8 hex digits (empty when \
            missing). A hidden teacher labels them: per-value first-order weights, a low-rank FM \
            pairwise term (each field's vectors in a subspace of its own "useful rank"), a small \
            MLP, some pure-noise fields; values are Zipf-distributed within each field.

            Beside the data, <output without extension>.teacher.json (data.tsv -> \
            data.teacher.json) records the truth: per field its cardinality, Zipf exponent and \
            useful rank (or "noise"), the dense columns' roles, and the oracle's AUC and logloss \
            (the teacher's own probabilities as predictions) on the test rows of the random \
            split with --split-seed (as `prepare --seed`) and of the sequential split. Both files \
            are written atomically. The same --seed gives the same bytes on any number of threads.

            Examples:
              compactrec generate --output teacher.tsv
              compactrec generate --rows 100000 --fields 8 --cardinalities 1000 --ranks 4,4,0,8,2,1,16,0 --output small.tsv
            """
    )

    @Option(help: "Rows to generate.")
    var rows = 1_000_000

    @Option(help: "Seed of the teacher and of every row.")
    var seed: UInt64 = 1

    @Option(help: "Number of categorical fields (13 dense columns are always written); 26 gives Criteo-Kaggle's exact 40-column layout.")
    var fields = 26

    @Option(
        help:
            "Cardinality of each categorical field: a comma list with one value per field, or one value for all (default: Criteo-Kaggle's profile capped at 1,000,000, from 10 values up)."
    )
    var cardinalities: String?

    @Option(
        help:
            "Useful rank of each categorical field (1-32; 0 makes it a noise field): a comma list with one value per field, or one value for all (default: a mix of 1, 2, 4, 8 and 16 with six noise fields)."
    )
    var ranks: String?

    @Option(help: "Seed of the random split the oracle is reported for (the same rule and default as `prepare --seed`).")
    var splitSeed: UInt64 = 42

    @Option(help: "Data file to write. The truth goes beside it as <name without extension>.teacher.json.")
    var output: String

    @Option(help: "Threads to use (default: all cores). Does not change the output.")
    var threads: Int?

    @Flag(help: "No progress line and no text summary.")
    var quiet = false

    @Flag(help: "Print the summary (with the teacher's truth) as one JSON object.")
    var json = false

    func run() async throws {
        let cardinalityList = try cardinalities.map { text throws(GeneratorError) in
            try TeacherConfiguration.parseList(text, option: "--cardinalities")
        }
        let rankList = try ranks.map { text throws(GeneratorError) in
            try TeacherConfiguration.parseList(text, option: "--ranks")
        }
        let configuration = TeacherConfiguration(
            rows: rows, seed: seed, fields: fields, cardinalities: cardinalityList, ranks: rankList,
            splitSeed: splitSeed, threads: threads)
        let generator = try TeacherGenerator(configuration: configuration)
        let bar = ProgressBar(label: "generate", unit: .items("rows"), enabled: quiet ? false : nil)
        let summary = try generator.write(to: output) { done, total in
            bar.update(done: done, total: total)
        }
        bar.finish()
        if json {
            print(try jsonString(summary))
        } else if !quiet {
            printSummary(summary)
        }
    }

    private func printSummary(_ summary: TeacherSummary) {
        let fixed = ProgressBar.fixed
        print(
            "Generated \(summary.rows) rows (\(fixed(Double(summary.bytes) / 1e6, 1)) MB) into \(summary.output) "
                + "in \(fixed(summary.seconds, 2)) s (\(fixed(summary.megabytesPerSecond, 1)) MB/s, \(summary.threads) threads)")
        print("  teacher:     drawn and calibrated in \(fixed(summary.teacherSeconds, 2)) s")
        print("  truth:       \(summary.truthFile)")
        print("  click rate:  \(fixed(summary.clickRate * 100, 2))%")
        let random = summary.oracle.random
        let sequential = summary.oracle.sequential
        print("  oracle, random split (seed \(random.splitSeed.map(String.init) ?? "-")): \(describe(random))")
        print("  oracle, sequential split:     \(describe(sequential))")
    }

    private func describe(_ metrics: TeacherOracleMetrics) -> String {
        let auc = metrics.auc.map { ProgressBar.fixed($0, 4) } ?? "n/a (one class)"
        let logloss = metrics.logloss.map { ProgressBar.fixed($0, 4) } ?? "n/a"
        return "AUC \(auc), logloss \(logloss) on \(metrics.testRows) test rows"
    }
}
