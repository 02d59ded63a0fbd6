import ArgumentParser
import CompactRec
import CompactRecData
import CompactRecInference
import Foundation

/// `compactrec search`: AutoDim's search stage; writes the chosen per-field widths.
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "AutoDim's search: choose an embedding width per field (writes dims.json for train --dims).",
        discussion: """
            Trains a supernet in which every field offers the candidate widths (one shared table \
            of the largest width, or a table per candidate), each unified to the largest width and \
            normalised, and mixed by Gumbel-softmax weights of learned architecture weights alpha. \
            Bi-level (the default): a step of the model's weights on a training batch, then an SGD \
            step of alpha on a validation batch; --one-level updates both from the training batch \
            (the paper's AD-s). The choice per field is the argmax of alpha.

            Writes into --output: dims.json (field name to width: pass it to train --dims), \
            search.json (alpha, the history of softmax(alpha), the settings) and alpha.svg (each \
            field's expected width over the search), and prints the table. The training options \
            (--model, --epochs, --batch-size, --lr, --threads, --seed, ...) are train's.

            The search runs in train's loop, so --output is also a run directory: checkpoint.bin \
            at every evaluation (the supernet on validation after each epoch) and on Ctrl-C, \
            metrics.jsonl and report.html. The same command with --resume continues a stopped \
            search and chooses the same widths with the same alpha as an uninterrupted one (same \
            --threads); --force starts over.
            """
    )

    @Argument(help: "A directory written by compactrec prepare.")
    var dataset: String

    @OptionGroup var settings: TrainingSettingOptions
    @OptionGroup var search: SearchSettingOptions

    @Option(help: "Directory for dims.json, search.json and alpha.svg (default: runs/search-<model>-seed<seed>).")
    var output: String?

    @Option(
        help: ArgumentHelp("The <data>.teacher.json of generated data, to print each field's truth beside its choice.", valueName: "file"))
    var truth: String?

    @Flag(help: "Print the search result as one JSON object.")
    var json = false

    @Flag(help: "Continue the search in --output from its checkpoint (the same widths and alpha as an uninterrupted search).")
    var resume = false

    @Flag(help: "Start over in a directory that holds a previous search (deletes its checkpoint, log and report).")
    var force = false

    @Flag(help: "No progress bar.")
    var quiet = false

    func validate() throws {
        guard !(resume && force) else { throw ValidationError("--resume continues a search and --force deletes it: give one") }
        try settings.validateRanges()
    }

    func run() async throws {
        let store = try ColumnStore(directory: dataset)
        let configuration = try settings.resolve(for: store)
        guard configuration.model.embedding.kind == .plain else {
            throw ValidationError(
                "--embedding \(configuration.model.embedding.kind?.rawValue ?? "") applies to training with the chosen widths (train --dims, autodim, compare), not to the search's supernet: drop it here"
            )
        }
        let directory = output ?? "runs/search-\(configuration.model.kind.rawValue)-seed\(configuration.options.seed)"
        let result = try DimensionSearchSession(
            store: store, configuration: configuration, search: try search.resolve(),
            quiet: quiet || json, start: force ? .replace : resume ? .resume : .new
        )
        .run(writingTo: directory).result
        let projected = configuration.model.kind.needsEqualWidths
        if json {
            print(try jsonString(DimensionSearchSummary(result, directory: directory, projected: projected)))
        } else {
            print(DimensionSearchFiles.table(result, truth: try DimensionSearchSession.truth(path: truth)), terminator: "")
            print(
                "embedding parameters with these widths: \(result.chosenEmbeddingParameters(projected: projected)) "
                    + "(a uniform width \(result.candidates.max() ?? 0): \(DimensionBaselines.parameterCount(cardinalities: result.cardinalities, widths: result.cardinalities.map { _ in result.candidates.max() ?? 0 }, width: result.candidates.max() ?? 0)))"
            )
            print(
                "search: \(result.steps) steps, \(Int(result.samplesPerSecond)) samples/s, \(ProgressBar.fixed(result.secondsPerEpoch, 1)) s per epoch"
            )
            print("wrote \(directory)/dims.json, search.json, alpha.svg")
        }
    }
}

/// Runs a search in its run directory (checkpoints, `--resume`, metrics log, report, as
/// `train`), with a progress bar and Ctrl-C handling, and writes its files.
struct DimensionSearchSession {
    let store: ColumnStore
    let configuration: RunConfiguration
    let search: DimensionSearchOptions
    let quiet: Bool
    /// New (refusing a previous search's directory), resumed, or replacing a previous one.
    var start: TrainingRun.Start = .new

    /// The search's result, its files written into `directory` beside its checkpoint, metrics
    /// log and report, and the search itself (its trained supernet, for `--warm-start`).
    func run(writingTo directory: String) throws -> (result: DimensionSearchResult, search: DimensionSearch) {
        let searcher = try DimensionSearch(
            configuration: configuration.model, store: store, options: configuration.options,
            searchOptions: search)
        var runConfiguration = configuration
        runConfiguration.search = search
        let run = TrainingRun(directory: directory, configuration: runConfiguration, start: start)
        let bar = ProgressBar(
            label: search.levels == .oneLevel ? "search (one-level)" : "search", unit: .items("samples"),
            enabled: quiet ? false : nil)
        let epochs = configuration.options.epochs
        let result: DimensionSearchResult
        do {
            result = try Interruption.watching { shouldStop in
                try searcher.run(
                    run: run,
                    progress: { progress in
                        var note = "loss \(ProgressBar.fixed(Double(progress.loss), 4))"
                        if let validation = progress.validation {
                            note += ", supernet validation AUC \(ProgressBar.fixed(validation.auc, 4))"
                        }
                        bar.update(
                            done: (progress.epoch - 1) * progress.rowsPerEpoch + progress.rowsDone, total: progress.rowsPerEpoch * epochs,
                            note: note)
                    }, shouldStop: shouldStop)
            }
        } catch {
            bar.finish()
            if FileManager.default.fileExists(atPath: run.metricsLogPath) { TrainingSession.writeReport(for: run) }
            throw error
        }
        bar.finish()
        TrainingSession.writeReport(for: run)
        try DimensionSearchFiles.write(result, to: directory)
        return (result, searcher)
    }

    /// The teacher generator's truth per field ("noise" or "rank r") from the
    /// `<data>.teacher.json` file `compactrec generate` wrote; empty without a file.
    static func truth(path: String?) throws -> [String: String] {
        guard let path else { return [:] }
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError.fileNotFound(path: path) }
        do {
            let truth = try JSONDecoder().decode(TeacherTruth.self, from: data)
            return Dictionary(
                uniqueKeysWithValues: truth.categorical.map {
                    ($0.name, $0.usefulRank.value == 0 ? "noise" : "rank \($0.usefulRank.value)")
                })
        } catch {
            throw DataError.badSchema(path: path, reason: "not a teacher truth file written by compactrec generate: \(error)")
        }
    }
}

/// What `search --json` prints.
struct DimensionSearchSummary: Codable {
    var dims: [String: Int]
    var embeddingParams: Int
    var steps: Int
    var samplesPerSecond: Double
    var secondsPerEpoch: Double
    var validationAUC: Double
    var validationLogLoss: Double
    var directory: String

    /// The summary of `result`, written to `directory`; `projected` when the model projects
    /// narrower fields to one width.
    init(_ result: DimensionSearchResult, directory: String, projected: Bool) {
        dims = Dictionary(uniqueKeysWithValues: zip(result.fields, result.widths))
        embeddingParams = result.chosenEmbeddingParameters(projected: projected)
        steps = result.steps
        samplesPerSecond = result.samplesPerSecond
        secondsPerEpoch = result.secondsPerEpoch
        validationAUC = result.validation.auc
        validationLogLoss = result.validation.logloss
        self.directory = directory
    }

    enum CodingKeys: String, CodingKey {
        case dims, steps, directory
        case embeddingParams = "embedding_params"
        case samplesPerSecond = "samples_per_second"
        case secondsPerEpoch = "seconds_per_epoch"
        case validationAUC = "supernet_validation_auc"
        case validationLogLoss = "supernet_validation_logloss"
    }
}
