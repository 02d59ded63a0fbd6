import ArgumentParser
import CompactRec
import CompactRecData
import CompactRecInference
import Foundation

/// The model and training options shared by `train` (and the commands that train), resolved
/// against an optional experiment file: an option given on the command line wins, then the
/// file's setting, then the default.
struct TrainingSettingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A YAML or JSON experiment file with any of these settings.", valueName: "file.yaml"))
    var config: String?

    @Option(help: "Model: \(ModelKind.allCases.map(\.rawValue).joined(separator: ", ")) (default: deepfm).")
    var model: ModelKind?

    @Option(
        help:
            "Embedding method: plain (one n x d table per field), mlet (an n x k table and a k x d map per field, multiplied into one n x d table for inference; with --dims, a map to each field's width) or qr (the quotient-remainder trick: per field a table of ceil(n/c) rows and one of c rows, multiplied element-wise) (default: plain)."
    )
    var embedding: EmbeddingMethod.Kind?

    @Option(
        help:
            "The quotient-remainder trick's c: rows of each remainder table, values per quotient row; fields of at most c values keep a plain table (default: 64)."
    )
    var qrCollisions: Int?

    @Option(help: "DCN-v2's cross layers (default: 3).")
    var crossLayers: Int?

    @Option(help: "MLET's inner width k, at least the width it trains towards (--dim, or the field's width in --dims) (default: 64).")
    var innerDim: Int?

    @Option(
        help: ArgumentHelp(
            "MLET's per-field inner widths: a YAML/JSON mapping of field name to k; other fields take --inner-dim.", valueName: "file"))
    var innerDims: String?

    @Option(help: "Embedding width d (default: 16).")
    var dim: Int?

    @Option(
        help: ArgumentHelp(
            "Per-field widths: a YAML/JSON mapping of field name to width; FM, DeepFM and DLRM project each field to --dim.",
            valueName: "file"))
    var dims: String?

    @Option(help: "Hidden widths of DeepFM's, Wide&Deep's and DCN-v2's MLP, comma-separated (default: 400,400,400).")
    var mlp: String?

    @Option(help: "DLRM's bottom MLP hidden widths; a last layer of width d follows (default: 512,256).")
    var bottomMLP: String?

    @Option(help: "DLRM's top MLP hidden widths; a last layer of width 1 follows (default: 512,256).")
    var topMLP: String?

    @Flag(inversion: .prefixedNo, help: "BatchNorm after each hidden layer of the MLPs (default: off).")
    var batchNorm: Bool?

    @Option(help: "Dropout rate after each hidden activation (default: 0).")
    var dropout: Float?

    @Option(help: "Rows per step (default: 4096).")
    var batchSize: Int?

    @Option(help: "Passes over the training rows (default: 1).")
    var epochs: Int?

    @Option(help: "Learning rate (default: 0.001).")
    var lr: Float?

    @Option(help: "Learning rate of the embedding tables (default: --lr).")
    var embeddingLR: Float?

    @Option(help: "Multiply both learning rates by this after each epoch, in (0, 1] (default: 1, constant).")
    var lrDecay: Float?

    @Option(help: "Embedding optimizer, sparse: \(SparseUpdateRule.allCases.map(\.rawValue).joined(separator: ", ")) (default: lazy-adam).")
    var optimizer: SparseUpdateRule?

    @Option(help: "Dense optimizer: \(DenseUpdateRule.allCases.map(\.rawValue).joined(separator: ", ")) (default: adam).")
    var denseOptimizer: DenseUpdateRule?

    @Option(help: "L2 penalty on the embedding rows a batch uses (default: 0).")
    var l2: Float?

    @Option(help: "Threads for the kernels (default: all cores, \(Parallel.defaultThreads) here).")
    var threads: Int?

    @Option(help: "Seed of initialisation, shuffling and dropout (default: 1).")
    var seed: UInt64?

    @Option(help: "Evaluate on validation every N steps (default: once per epoch).")
    var evaluateEvery: Int?

    @Option(help: "Stop after this many evaluations without a better validation AUC (default: 2).")
    var patience: Int?

    @Option(help: "Write a training line to the metrics log every N steps (default: 10).")
    var logEvery: Int?

    /// Checks the values given on the command line (the file's are checked in `resolve`).
    func validateRanges() throws {
        for (name, value) in [
            ("--batch-size", batchSize), ("--epochs", epochs), ("--threads", threads), ("--patience", patience),
            ("--dim", dim), ("--inner-dim", innerDim), ("--cross-layers", crossLayers), ("--evaluate-every", evaluateEvery),
            ("--log-every", logEvery),
        ] {
            if let value, value < 1 { throw ValidationError("\(name) must be at least 1") }
        }
        for (name, value) in [("--lr", lr), ("--embedding-lr", embeddingLR)] {
            if let value, !(value > 0 && value.isFinite) { throw ValidationError("\(name) must be a positive number") }
        }
        if let qrCollisions, qrCollisions < 2 { throw ValidationError("--qr-collisions must be at least 2") }
        if let l2, !(l2 >= 0 && l2.isFinite) { throw ValidationError("--l2 must be 0 or positive") }
        if let lrDecay, !(lrDecay > 0 && lrDecay <= 1) { throw ValidationError("--lr-decay must be in (0, 1]") }
        if let dropout, !(dropout >= 0 && dropout < 1) { throw ValidationError("--dropout must be in [0, 1)") }
        for (name, text) in [("--mlp", mlp), ("--bottom-mlp", bottomMLP), ("--top-mlp", topMLP)] {
            if let text, Self.widths(text) == nil {
                throw ValidationError("\(name) must be positive widths separated by commas, e.g. 400,400,400")
            }
        }
    }

    static func widths(_ text: String) -> [Int]? {
        let widths = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !widths.isEmpty, widths.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return widths.compactMap { $0 }
    }

    /// The run's configuration for `store`: options, else the experiment file, else defaults.
    func resolve(for store: ColumnStore) throws -> RunConfiguration {
        let file = try config.map { path throws(DataError) in try ExperimentFile.load(path: path) }
        let source = config ?? ""
        func check(_ condition: Bool, _ message: String) throws {
            guard !condition else { return }
            // A setting from the command line has no file to name.
            if config == nil { throw ValidationError(message) }
            throw DataError.badSchema(path: source, reason: message)
        }
        var modelConfiguration = ModelConfiguration(kind: model ?? file?.model ?? .deepfm, dimension: dim ?? file?.dim ?? 16)
        try check(modelConfiguration.dimension >= 1, "dim must be at least 1")
        modelConfiguration.mlp = mlp.flatMap(Self.widths) ?? file?.mlp ?? modelConfiguration.mlp
        modelConfiguration.bottomMLP = bottomMLP.flatMap(Self.widths) ?? file?.bottomMLP ?? modelConfiguration.bottomMLP
        modelConfiguration.topMLP = topMLP.flatMap(Self.widths) ?? file?.topMLP ?? modelConfiguration.topMLP
        try check(
            [modelConfiguration.mlp, modelConfiguration.bottomMLP, modelConfiguration.topMLP].allSatisfy {
                !$0.isEmpty && $0.allSatisfy { $0 >= 1 }
            },
            "MLP widths must be positive")
        modelConfiguration.batchNorm = batchNorm ?? file?.batchNorm ?? false
        modelConfiguration.dropout = dropout ?? file?.dropout ?? 0
        try check(modelConfiguration.dropout >= 0 && modelConfiguration.dropout < 1, "dropout must be in [0, 1)")
        modelConfiguration.crossLayers = crossLayers ?? file?.crossLayers ?? modelConfiguration.crossLayers
        try check(modelConfiguration.crossLayers >= 1, "cross_layers must be at least 1")
        let fields = DatasetIdentity(store).fields
        var widths = try Self.fieldWidths(
            option: dims, file: file?.dims, source: source, fields: fields,
            defaultWidth: modelConfiguration.dimension)
        if widths?.allSatisfy({ $0 == modelConfiguration.dimension }) == true { widths = nil }
        let method = embedding ?? file?.embedding ?? .plain
        let innerWidth = innerDim ?? file?.innerDim ?? 64
        if method != .mlet, innerDim != nil || innerDims != nil {
            throw ValidationError("--inner-dim and --inner-dims are MLET's; add --embedding mlet")
        }
        if method != .qr, qrCollisions != nil { throw ValidationError("--qr-collisions is the qr method's; add --embedding qr") }
        switch method {
        case .plain:
            modelConfiguration.embedding = .plain(PlainEmbeddingMethod(widths: widths))
        case .mlet:
            let inner =
                try Self.fieldWidths(
                    option: innerDims, file: file?.innerDims, source: source,
                    fields: fields, defaultWidth: innerWidth)
                ?? fields.map { _ in innerWidth }
            modelConfiguration.embedding = .mlet(MLETEmbeddingMethod(innerWidths: inner, widths: widths))
        case .qr:
            if widths != nil { throw ValidationError("--dims: the qr method gives every field the width --dim") }
            let collisions = qrCollisions ?? file?.qrCollisions ?? 64
            try check(collisions >= 2, "qr_collisions must be at least 2")
            modelConfiguration.embedding = .quotientRemainder(QuotientRemainderEmbeddingMethod(collisions: collisions))
        }
        do {
            // The method checks itself against the model and the fields (MLET's k against its target width, ...).
            try modelConfiguration.embedding.definition.validate(
                in: EmbeddingContext(
                    model: modelConfiguration.kind, dimension: modelConfiguration.dimension,
                    cardinalities: DatasetIdentity(store).cardinalities,
                    fields: fields, categoricalCount: store.schema.categorical.count, seed: 0))
        } catch {
            if config == nil { throw ValidationError(Self.optionMessage(error)) }
            throw DataError.badSchema(path: source, reason: error.localizedDescription)
        }
        var options = TrainingOptions()
        options.batchSize = batchSize ?? file?.batchSize ?? options.batchSize
        options.epochs = epochs ?? file?.epochs ?? options.epochs
        options.learningRate = lr ?? file?.lr ?? options.learningRate
        options.embeddingLearningRate = embeddingLR ?? file?.embeddingLR
        options.learningRateDecay = lrDecay ?? file?.lrDecay
        try check((options.learningRateDecay ?? 1) > 0 && (options.learningRateDecay ?? 1) <= 1, "lr_decay must be in (0, 1]")
        options.sparseRule = optimizer ?? file?.optimizer ?? options.sparseRule
        options.denseRule = denseOptimizer ?? file?.denseOptimizer ?? options.denseRule
        options.embeddingL2 = l2 ?? file?.l2 ?? options.embeddingL2
        options.threads = threads ?? file?.threads ?? options.threads
        options.seed = seed ?? file?.seed ?? options.seed
        options.evaluateEvery = evaluateEvery ?? file?.evaluateEvery
        options.patience = patience ?? file?.patience ?? options.patience
        options.logEvery = logEvery ?? file?.logEvery ?? options.logEvery
        try check(
            [options.batchSize, options.epochs, options.threads, options.logEvery, options.evaluateEvery ?? 1, options.patience ?? 1]
                .allSatisfy { $0 >= 1 }, "batch_size, epochs, threads, log_every, evaluate_every and patience must be at least 1")
        try check(
            options.learningRate > 0 && options.learningRate.isFinite && (options.embeddingLearningRate ?? 1) > 0,
            "lr and embedding_lr must be positive")
        try check(options.embeddingL2 >= 0, "l2 must be 0 or positive")
        return RunConfiguration(model: modelConfiguration, options: options, dataset: DatasetIdentity(store))
    }

    /// A model error's message with its setting named as the command-line option (`--inner-dims: ...`).
    static func optionMessage(_ error: ModelError) -> String {
        guard case .invalidSetting(let setting, let reason) = error else { return error.localizedDescription }
        return "\(setting.option): \(reason)"
    }

    /// Per-field widths from a file named on the command line, else from the experiment file's
    /// mapping or file (a relative path is relative to the experiment file); nil if neither.
    private static func fieldWidths(
        option: String?, file: ExperimentFile.FieldWidths?, source: String, fields: [String],
        defaultWidth: Int
    ) throws -> [Int]? {
        if let option { return try DimensionsFile.widths(path: option, fields: fields, defaultWidth: defaultWidth) }
        switch file {
        case .none:
            return nil
        case .inline(let mapping):
            return try DimensionsFile.widths(mapping, fields: fields, defaultWidth: defaultWidth, source: source)
        case .file(let path):
            let resolved =
                path.hasPrefix("/") ? path : URL(fileURLWithPath: source).deletingLastPathComponent().appendingPathComponent(path).path
            return try DimensionsFile.widths(path: resolved, fields: fields, defaultWidth: defaultWidth)
        }
    }
}
