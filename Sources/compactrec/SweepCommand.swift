import ArgumentParser
import CompactRec
import CompactRecData
import CompactRecInference
import Foundation

/// `compactrec sweep`: plain and MLET embeddings over a grid of widths d and inner widths k on
/// one dataset, as a CSV and a chart of test AUC against inference-time embedding parameters.
struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract:
            "Train plain and MLET embeddings over widths d and inner widths k; write a CSV and an SVG chart of test AUC against embedding parameters.",
        discussion: """
            For each d in --dim-values: one run with plain tables of width d, and one MLET run for \
            each k in --inner-dim-values with k > d (trained as n x k tables and k x d maps, \
            folded to n x d tables, so the model it leaves has the size of the plain one). Every \
            run takes the training options given here (the same as train's; --dim, --embedding, \
            --inner-dim and --inner-dims are set by the sweep).

            The output directory receives one run directory per setting (plain-d4, mlet-d4-k64, \
            ...), sweep.csv (method, d, k, test AUC and logloss, embedding parameters at \
            inference and in training, mean effective rank, samples/s) and sweep.svg, both \
            rewritten after every run. Running the same command again skips finished runs and \
            resumes an interrupted one.
            """
    )

    @Argument(help: "A directory written by compactrec prepare.")
    var dataset: String

    @OptionGroup var settings: TrainingSettingOptions

    @Option(help: "Widths d, comma-separated.")
    var dimValues = "2,4,8,16,32"

    @Option(help: "MLET inner widths k, comma-separated (each used where k > d).")
    var innerDimValues = "32,64,128,256"

    @Option(help: "Directory for the runs, sweep.csv and sweep.svg (default: runs/sweep-<model>).")
    var output: String?

    @Flag(help: "No progress bars.")
    var quiet = false

    func validate() throws {
        try settings.validateRanges()
        guard settings.dim == nil, settings.embedding == nil, settings.innerDim == nil, settings.innerDims == nil, settings.dims == nil
        else {
            throw ValidationError(
                "the sweep sets --dim, --embedding, --inner-dim and --dims itself: give --dim-values and --inner-dim-values")
        }
        guard TrainingSettingOptions.widths(dimValues) != nil, TrainingSettingOptions.widths(innerDimValues) != nil else {
            throw ValidationError("--dim-values and --inner-dim-values are positive widths separated by commas, e.g. 2,4,8")
        }
    }

    func run() async throws {
        let store = try ColumnStore(directory: dataset)
        let base = try settings.resolve(for: store)
        let dims = Set(TrainingSettingOptions.widths(dimValues) ?? []).sorted()
        let inners = Set(TrainingSettingOptions.widths(innerDimValues) ?? []).sorted()
        let directory = output ?? "runs/sweep-\(base.model.kind.rawValue)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var settingsToRun: [SweepPoint] = []
        for d in dims {
            settingsToRun.append(SweepPoint(method: .plain, dimension: d, inner: nil))
            for k in inners where k > d { settingsToRun.append(SweepPoint(method: .mlet, dimension: d, inner: k)) }
        }
        var rows: [SweepRow] = []
        for (index, point) in settingsToRun.enumerated() {
            var configuration = base
            configuration.model.dimension = point.dimension
            configuration.model.embedding =
                point.inner.map { k in .mlet(MLETEmbeddingMethod(innerWidths: configuration.dataset.fields.map { _ in k })) }
                ?? .plainTables
            let runDirectory = directory + "/" + point.name
            let run = TrainingRun(
                directory: runDirectory, configuration: configuration,
                resume: FileManager.default.fileExists(atPath: runDirectory + "/checkpoint.bin"))
            let result: TrainResult
            if let finished = try? JSONDecoder().decode(TrainResult.self, from: Data(contentsOf: URL(fileURLWithPath: run.resultsPath))) {
                var previous = try Checkpoint.read(from: run.checkpointPath).configuration
                previous.options.threads = configuration.options.threads
                guard previous == configuration else {
                    throw DataError.invalidOption(
                        "\(runDirectory) holds a finished run with other settings "
                            + "(\(Trainer.describe(previous))); delete it or sweep into another --output")
                }
                result = finished
                if !quiet { printToStandardError("sweep \(index + 1)/\(settingsToRun.count): \(point.name) finished before, kept\n") }
            } else {
                if !quiet { printToStandardError("sweep \(index + 1)/\(settingsToRun.count): \(point.name)\n") }
                result = try TrainingSession(run: run, store: store, quiet: quiet).train().result
            }
            rows.append(SweepRow(point: point, result: result))
            try write(rows, to: directory, model: base.model.kind)
        }
        print(SweepRow.header.replacingOccurrences(of: ",", with: "\t"))
        for row in rows { print(row.csv.replacingOccurrences(of: ",", with: "\t")) }
        print("wrote \(directory)/sweep.csv and \(directory)/sweep.svg")
    }

    /// Writes sweep.csv and sweep.svg for the runs so far.
    private func write(_ rows: [SweepRow], to directory: String, model: ModelKind) throws {
        let csv = ([SweepRow.header] + rows.map(\.csv)).joined(separator: "\n") + "\n"
        try AtomicFile.write(Array(csv.utf8), to: directory + "/sweep.csv")
        var lines: [String: [ChartPoint]] = [:]
        var order: [String] = []
        for row in rows {
            let name = row.point.inner.map { "MLET k = \($0)" } ?? "plain"
            if lines[name] == nil { order.append(name) }
            lines[name, default: []].append(ChartPoint(x: log2(Double(max(row.result.embeddingParams, 1))), y: row.result.auc))
        }
        let markers = rows.filter { $0.point.method == .plain }.map {
            ChartMarker(
                point: ChartPoint(x: log2(Double(max($0.result.embeddingParams, 1))), y: $0.result.auc), label: "d = \($0.point.dimension)")
        }
        let chart = SVGChart(
            title: "\(model.rawValue): test AUC against embedding parameters at inference",
            xLabel: "log2(embedding parameters of the model that is served)", yLabel: "test AUC",
            series: order.map { ChartSeries(name: $0, points: lines[$0] ?? []) }, markers: markers,
            width: 720, height: 400)
        try AtomicFile.write(Array(chart.render().utf8), to: directory + "/sweep.svg")
    }
}

/// One setting of a sweep.
struct SweepPoint {
    let method: EmbeddingMethod.Kind
    let dimension: Int
    let inner: Int?

    /// Its run directory's name.
    var name: String { inner.map { "mlet-d\(dimension)-k\($0)" } ?? "plain-d\(dimension)" }
}

/// One line of sweep.csv.
struct SweepRow {
    let point: SweepPoint
    let result: TrainResult

    static let header =
        "method,d,k,auc,logloss,embedding_params,training_embedding_params,effective_rank,samples_per_second,steps,run_directory"

    var csv: String {
        [
            point.method.rawValue, "\(point.dimension)", point.inner.map(String.init) ?? "",
            "\(result.auc)", "\(result.logloss)", "\(result.embeddingParams)", "\(result.trainingEmbeddingParams)",
            result.effectiveRank.map { "\($0)" } ?? "", ProgressBar.fixed(result.samplesPerSecond, 0), "\(result.steps)",
            result.runDirectory,
        ].joined(separator: ",")
    }
}
