import ArgumentParser
import CompactRec
import CompactRecData
import CompactRecInference
import Foundation

/// `compactrec autodim`: AutoDim's search, then retraining with the chosen widths.
struct AutoDimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autodim",
        abstract: "AutoDim end to end: search a width per field, then train a fresh model with those widths.",
        discussion: """
            Runs search (see compactrec search --help) into <output>/search, then trains a fresh \
            model into <output>/retrain in which each field has a table of its chosen width, \
            followed (FM, DeepFM, DLRM) by a linear map to the largest candidate width; Wide & \
            Deep concatenates the fields as they are. Embedding parameters count the tables and \
            the maps. --warm-start starts the retraining from the search's weights (each field's \
            chosen candidate rows and map, the MLP) instead of a fresh initialisation. \
            --embedding mlet (FM, DeepFM, DLRM) retrains each field with MLET's wide table \
            (k = --inner-dim) and a map to its chosen width, multiplied out at the end: the \
            retrained model has the chosen widths' size (see train --help). --json prints the \
            retrained model's test metrics with train's keys, plus dims.

            Both stages are run directories with checkpoints: --resume continues whichever stage \
            was stopped (a finished search is read back, not repeated); --force starts both over.
            """
    )

    @Argument(help: "A directory written by compactrec prepare.")
    var dataset: String

    @OptionGroup var settings: TrainingSettingOptions
    @OptionGroup var search: SearchSettingOptions

    @Option(help: "Directory for the search and the retrained run (default: runs/autodim-<model>-seed<seed>).")
    var output: String?

    @Option(
        help: ArgumentHelp("The <data>.teacher.json of generated data, to print each field's truth beside its choice.", valueName: "file"))
    var truth: String?

    @Flag(help: "Start the retraining from the search's weights for the chosen widths (default: from scratch).")
    var warmStart = false

    @Flag(help: "Print the retrained model's test metrics and the dims as one JSON object.")
    var json = false

    @Flag(help: "Continue a stopped autodim in --output: the search from its checkpoint, then the retraining from its own.")
    var resume = false

    @Flag(help: "Start over in --output (deletes the previous search's and retraining's checkpoints, logs and reports).")
    var force = false

    @Flag(help: "No progress bars.")
    var quiet = false

    func validate() throws {
        guard !(resume && force) else { throw ValidationError("--resume continues a run and --force deletes it: give one") }
        try settings.validateRanges()
    }

    func run() async throws {
        let store = try ColumnStore(directory: dataset)
        let configuration = try settings.resolve(for: store)
        if warmStart && configuration.model.embedding.kind == .mlet {
            throw ValidationError(
                "--warm-start copies the search's narrow tables, and an MLET retraining (--embedding mlet) trains wide ones: drop one of the two"
            )
        }
        let searchOptions = try search.resolve()
        try DimensionRetraining.checkBeforeSearching(configuration, width: searchOptions.candidates.max() ?? configuration.model.dimension)
        let directory = output ?? "runs/autodim-\(configuration.model.kind.rawValue)-seed\(configuration.options.seed)"
        let start: TrainingRun.Start = force ? .replace : resume ? .resumeIfPresent : .new
        if case .new = start {
            // Both stages' directories are checked before hours of search, not only the first.
            for stage in ["search", "retrain"] {
                try TrainingRun(directory: directory + "/" + stage, configuration: configuration, start: .new).refuseExistingRun()
            }
        }
        let (found, searcher) = try DimensionSearchSession(
            store: store, configuration: configuration, search: searchOptions,
            quiet: quiet || json, start: start
        ).run(writingTo: directory + "/search")
        if !json { print(DimensionSearchFiles.table(found, truth: try DimensionSearchSession.truth(path: truth)), terminator: "") }
        let outcome = try DimensionRetraining.train(
            store: store, configuration: configuration, widths: found.widths,
            width: found.candidates.max() ?? configuration.model.dimension,
            directory: directory + "/retrain", quiet: quiet || json, start: start,
            initialize: warmStart ? { WarmStart.copy(from: searcher, into: $0) } : nil)
        if json {
            print(
                try jsonString(
                    AutoDimResult(
                        result: outcome.result, dims: Dictionary(uniqueKeysWithValues: zip(found.fields, found.widths)),
                        searchSecondsPerEpoch: found.secondsPerEpoch)))
        } else {
            outcome.printSummary()
        }
    }
}

/// Training a fresh model with given per-field widths (AutoDim's retraining, and the MDE and
/// RaS baselines).
enum DimensionRetraining {
    /// Refuses, before hours of search, an MLET retraining that `train` would refuse: Wide &
    /// Deep (no projection to a common width) or an inner width below `width`, the largest
    /// candidate every field may be given.
    static func checkBeforeSearching(_ configuration: RunConfiguration, width: Int) throws {
        guard configuration.model.embedding.kind != .qr else {
            throw ValidationError("--embedding qr gives every field the width --dim, so there are no widths to retrain: use plain or mlet")
        }
        guard configuration.model.embedding.kind == .mlet else { return }
        guard configuration.model.kind.needsEqualWidths else {
            throw ValidationError(
                "--embedding mlet retrains the chosen widths with maps to a common width, which Wide & Deep does not have: "
                    + "use --model fm, deepfm or dlrm, or drop --embedding mlet")
        }
        let inner = configuration.model.embedding.innerWidths ?? []
        if let f = inner.indices.first(where: { inner[$0] < width }) {
            throw ValidationError(
                "MLET's inner width of \(configuration.dataset.fields[f]) (\(inner[f])) is below the largest candidate (\(width)), "
                    + "which the retraining may give it: raise --inner-dim (or that field's in --inner-dims) or lower --candidates")
        }
    }

    /// Trains `configuration`'s model with `widths` (projected to `width` where the model needs
    /// equal widths) into `directory`, started as `start` says (by default over a previous run
    /// there). With MLET embeddings (`configuration.model.embedding`), each field trains as a table
    /// of its inner width and a map to its chosen width, which the model that is kept
    /// multiplies out.
    static func train(
        store: ColumnStore, configuration: RunConfiguration, widths: [Int], width: Int, directory: String,
        quiet: Bool, start: TrainingRun.Start = .replace,
        initialize: ((any CTRModel) -> Void)? = nil
    ) throws -> TrainingSession.Outcome {
        var configuration = configuration
        configuration.model.dimension = width
        configuration.model.embedding = configuration.model.embedding.retargeted(to: widths.allSatisfy { $0 == width } ? nil : widths)
        let run = TrainingRun(directory: directory, configuration: configuration, start: start)
        return try TrainingSession(run: run, store: store, quiet: quiet, initialize: initialize).train()
    }
}

/// What `autodim --json` prints: train's keys plus the chosen widths.
struct AutoDimResult: Encodable {
    let result: TrainResult
    let dims: [String: Int]
    let searchSecondsPerEpoch: Double

    enum CodingKeys: String, CodingKey {
        case dims
        case searchSecondsPerEpoch = "search_seconds_per_epoch"
    }

    func encode(to encoder: any Encoder) throws {
        try result.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(dims, forKey: .dims)
        try container.encode(searchSecondsPerEpoch, forKey: .searchSecondsPerEpoch)
    }
}
