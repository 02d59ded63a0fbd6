import ArgumentParser
import CompactRec
import CompactRecData
import CompactRecInference
import Foundation

/// The model and training options shared by `train` (and the commands that train). Each
/// option's name, default and help are the library's declaration (`TrainingSettings`); this type
/// only maps the options to settings, which the library resolves against an optional experiment
/// file: an option given on the command line wins, then the file's setting, then the default.
struct TrainingSettingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A YAML or JSON experiment file with any of these settings.", valueName: "file.yaml"))
    var config: String?

    @Option(help: ArgumentHelp(TrainingSettings.model.help))
    var model: ModelKind?

    @Option(help: ArgumentHelp(TrainingSettings.embedding.help))
    var embedding: EmbeddingMethod.Kind?

    @Option(help: ArgumentHelp(TrainingSettings.qrCollisions.help))
    var qrCollisions: Int?

    @Option(help: ArgumentHelp(TrainingSettings.crossLayers.help))
    var crossLayers: Int?

    @Option(help: ArgumentHelp(TrainingSettings.innerDim.help))
    var innerDim: Int?

    @Option(
        help: ArgumentHelp(
            "MLET's per-field inner widths: a YAML/JSON mapping of field name to k; other fields take --inner-dim.", valueName: "file"))
    var innerDims: String?

    @Option(help: ArgumentHelp(TrainingSettings.dim.help))
    var dim: Int?

    @Option(
        help: ArgumentHelp(
            "Per-field widths: a YAML/JSON mapping of field name to width; FM, DeepFM and DLRM project each field to --dim.",
            valueName: "file"))
    var dims: String?

    @Option(help: ArgumentHelp(TrainingSettings.mlp.help))
    var mlp: String?

    @Option(help: ArgumentHelp(TrainingSettings.bottomMLP.help))
    var bottomMLP: String?

    @Option(help: ArgumentHelp(TrainingSettings.topMLP.help))
    var topMLP: String?

    @Flag(inversion: .prefixedNo, help: "BatchNorm after each hidden layer of the MLPs (default: off).")
    var batchNorm: Bool?

    @Option(help: ArgumentHelp(TrainingSettings.dropout.help))
    var dropout: Float?

    @Option(help: ArgumentHelp(TrainingSettings.batchSize.help))
    var batchSize: Int?

    @Option(help: ArgumentHelp(TrainingSettings.epochs.help))
    var epochs: Int?

    @Option(help: ArgumentHelp(TrainingSettings.lr.help))
    var lr: Float?

    @Option(help: ArgumentHelp(TrainingSettings.embeddingLR.help))
    var embeddingLR: Float?

    @Option(help: ArgumentHelp(TrainingSettings.lrDecay.help))
    var lrDecay: Float?

    @Option(help: ArgumentHelp(TrainingSettings.optimizer.help))
    var optimizer: SparseUpdateRule?

    @Option(help: ArgumentHelp(TrainingSettings.denseOptimizer.help))
    var denseOptimizer: DenseUpdateRule?

    @Option(help: ArgumentHelp(TrainingSettings.l2.help))
    var l2: Float?

    @Option(help: ArgumentHelp(TrainingSettings.threads.help))
    var threads: Int?

    @Option(help: ArgumentHelp(TrainingSettings.seed.help))
    var seed: UInt64?

    @Option(help: ArgumentHelp(TrainingSettings.evaluateEvery.help))
    var evaluateEvery: Int?

    @Option(help: ArgumentHelp(TrainingSettings.patience.help))
    var patience: Int?

    @Option(help: ArgumentHelp(TrainingSettings.logEvery.help))
    var logEvery: Int?

    /// Checks the values given on the command line against their declared ranges (the file's,
    /// and what needs the dataset, are checked in `resolve`).
    func validateRanges() throws {
        for (name, text) in [("--mlp", mlp), ("--bottom-mlp", bottomMLP), ("--top-mlp", topMLP)] {
            if let text, Self.widths(text) == nil {
                throw ValidationError("\(name) \(text) (command line) must be positive widths separated by commas, e.g. 400,400,400")
            }
        }
        do { try TrainingSettings.checkRanges(of: commandLineSettings) } catch { throw ValidationError(error.localizedDescription) }
    }

    /// Positive widths separated by commas, or nil.
    static func widths(_ text: String) -> [Int]? {
        let widths = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !widths.isEmpty, widths.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return widths.compactMap { $0 }
    }

    /// The settings the command line gives, as an experiment file would hold them.
    var commandLineSettings: ExperimentFile {
        var settings = ExperimentFile()
        (settings.model, settings.embedding, settings.dim) = (model, embedding, dim)
        settings.dims = dims.map { .file($0) }
        (settings.innerDim, settings.innerDims) = (innerDim, innerDims.map { .file($0) })
        (settings.qrCollisions, settings.crossLayers) = (qrCollisions, crossLayers)
        settings.mlp = mlp.flatMap(Self.widths)
        settings.bottomMLP = bottomMLP.flatMap(Self.widths)
        settings.topMLP = topMLP.flatMap(Self.widths)
        (settings.batchNorm, settings.dropout) = (batchNorm, dropout)
        (settings.batchSize, settings.epochs, settings.lr, settings.embeddingLR, settings.l2) = (batchSize, epochs, lr, embeddingLR, l2)
        settings.lrDecay = lrDecay
        (settings.optimizer, settings.denseOptimizer) = (optimizer, denseOptimizer)
        (settings.seed, settings.threads, settings.evaluateEvery, settings.patience, settings.logEvery) =
            (seed, threads, evaluateEvery, patience, logEvery)
        return settings
    }

    /// The run's configuration for `store`: options, else the experiment file, else defaults.
    func resolve(for store: ColumnStore) throws -> RunConfiguration {
        let file = try config.map { path throws(DataError) in try ExperimentFile.load(path: path) }
        return try TrainingSettings.resolve(commandLine: commandLineSettings, file: file, filePath: config, store: store)
    }
}
