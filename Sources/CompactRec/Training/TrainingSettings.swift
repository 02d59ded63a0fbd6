import CompactRecData

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Where a setting's value came from: an error names it, so a user can tell a typo on the
/// command line from one in an experiment file.
public enum SettingOrigin: Sendable, Equatable, CustomStringConvertible {
    /// Nobody gave it: the declared default.
    case defaultValue
    /// An experiment file (`--config`), by path.
    case file(String)
    /// The command line.
    case commandLine

    /// "default", the file's path, or "command line".
    public var description: String {
        switch self {
        case .defaultValue: "default"
        case .file(let path): path
        case .commandLine: "command line"
        }
    }
}

/// A setting whose value does not fit: names the setting as its origin spells it, the value, and
/// where the value came from ("--dim 0 (command line) must be at least 1", "dim: 0 (exp.yaml)
/// must be at least 1").
public struct SettingError: Error, LocalizedError, Sendable, Equatable {
    /// The setting.
    public var setting: ModelSetting
    /// Its value as given.
    public var value: String
    /// Where it came from.
    public var origin: SettingOrigin
    /// What is wrong and what would fit.
    public var reason: String

    /// An error of `setting` = `value` from `origin`.
    public init(_ setting: ModelSetting, value: String, origin: SettingOrigin, reason: String) {
        self.setting = setting
        self.value = value
        self.origin = origin
        self.reason = reason
    }

    /// The message.
    public var errorDescription: String? {
        switch origin {
        case .commandLine: "\(setting.option) \(value) (command line) \(reason)"
        case .file(let path): "\(setting.key): \(value) (\(path)) \(reason)"
        case .defaultValue: "\(setting.key): \(value) (default) \(reason)"
        }
    }
}

/// One setting declared once: its name, default, help and range. The command line takes its help
/// and option name from here, experiment files its key, and `TrainingSettings.resolve` its
/// default and range.
public struct SettingDeclaration<Value: Sendable>: Sendable {
    /// The name (experiment-file key; `--` and dashes on the command line).
    public let name: ModelSetting
    /// The value when nobody gives one (nil: none, the setting is then off).
    public let defaultValue: Value?
    /// What it does, for `--help`.
    public let summary: String
    /// Nil when a value is in range, else why not ("must be at least 1").
    let problem: @Sendable (Value) -> String?

    /// The help text: the summary and its default.
    public var help: String {
        summary + (defaultValue.map { " (default: \(SettingDeclaration.text($0)))" } ?? "")
    }

    /// A value as a user writes it (`400,400,400` for a list).
    static func text(_ value: Value) -> String {
        if let list = value as? [Int] { return list.map(String.init).joined(separator: ",") }
        if let named = value as? any RawRepresentable<String> { return named.rawValue }
        return "\(value)"
    }
}

/// The settings of a training run (model, embedding method, optimisation), declared once, and
/// their resolution: the command line wins, then the experiment file, then the default; every
/// value is range-checked and the embedding method checks itself against the model and the
/// dataset's fields, each error naming the setting and where its value came from.
public enum TrainingSettings {
    static func atLeast<V: Comparable & Sendable>(_ bound: V) -> @Sendable (V) -> String? {
        { $0 >= bound ? nil : "must be at least \(bound)" }
    }
    static let positive: @Sendable (Float) -> String? = { $0 > 0 && $0.isFinite ? nil : "must be a positive number" }
    static let widthList: @Sendable ([Int]) -> String? = {
        !$0.isEmpty && $0.allSatisfy { $0 >= 1 } ? nil : "must be positive widths separated by commas, e.g. 400,400,400"
    }

    /// The model.
    public static let model = SettingDeclaration<ModelKind>(
        name: .model, defaultValue: .deepfm,
        summary: "Model: \(ModelKind.allCases.map(\.rawValue).joined(separator: ", "))", problem: { _ in nil })
    /// The embedding method.
    public static let embedding = SettingDeclaration<EmbeddingMethod.Kind>(
        name: .embedding, defaultValue: .plain,
        summary: "Embedding method: plain (one n x d table per field), mlet (an n x k table and a k x d map per field, "
            + "multiplied into one n x d table for inference; with --dims, a map to each field's width) or qr (the "
            + "quotient-remainder trick: per field a table of ceil(n/c) rows and one of c rows, multiplied element-wise)",
        problem: { _ in nil })
    /// The common width d.
    public static let dim = SettingDeclaration<Int>(name: .dim, defaultValue: 16, summary: "Embedding width d", problem: atLeast(1))
    /// MLET's inner width.
    public static let innerDim = SettingDeclaration<Int>(
        name: .innerDim, defaultValue: 64,
        summary: "MLET's inner width k, at least the width it trains towards (--dim, or the field's width in --dims)",
        problem: atLeast(1))
    /// The quotient-remainder trick's c.
    public static let qrCollisions = SettingDeclaration<Int>(
        name: .qrCollisions, defaultValue: 64,
        summary: "The quotient-remainder trick's c: rows of each remainder table, values per quotient row; "
            + "fields of at most c values keep a plain table",
        problem: atLeast(2))
    /// DCN-v2's cross layers.
    public static let crossLayers = SettingDeclaration<Int>(
        name: .crossLayers, defaultValue: 3, summary: "DCN-v2's cross layers", problem: atLeast(1))
    /// The deep MLP's hidden widths.
    public static let mlp = SettingDeclaration<[Int]>(
        name: ModelSetting("mlp"), defaultValue: [400, 400, 400],
        summary: "Hidden widths of DeepFM's, Wide&Deep's and DCN-v2's MLP, comma-separated", problem: widthList)
    /// DLRM's bottom MLP.
    public static let bottomMLP = SettingDeclaration<[Int]>(
        name: ModelSetting("bottom_mlp"), defaultValue: [512, 256],
        summary: "DLRM's bottom MLP hidden widths; a last layer of width d follows", problem: widthList)
    /// DLRM's top MLP.
    public static let topMLP = SettingDeclaration<[Int]>(
        name: ModelSetting("top_mlp"), defaultValue: [512, 256],
        summary: "DLRM's top MLP hidden widths; a last layer of width 1 follows", problem: widthList)
    /// Dropout.
    public static let dropout = SettingDeclaration<Float>(
        name: ModelSetting("dropout"), defaultValue: 0, summary: "Dropout rate after each hidden activation",
        problem: { $0 >= 0 && $0 < 1 ? nil : "must be in [0, 1)" })
    /// Rows per step.
    public static let batchSize = SettingDeclaration<Int>(
        name: ModelSetting("batch_size"), defaultValue: 4096, summary: "Rows per step", problem: atLeast(1))
    /// Epochs.
    public static let epochs = SettingDeclaration<Int>(
        name: ModelSetting("epochs"), defaultValue: 1, summary: "Passes over the training rows", problem: atLeast(1))
    /// The learning rate.
    public static let lr = SettingDeclaration<Float>(
        name: ModelSetting("lr"), defaultValue: 1e-3, summary: "Learning rate", problem: positive)
    /// The embedding tables' learning rate.
    public static let embeddingLR = SettingDeclaration<Float>(
        name: ModelSetting("embedding_lr"), defaultValue: nil, summary: "Learning rate of the embedding tables (default: --lr)",
        problem: positive)
    /// Per-epoch decay.
    public static let lrDecay = SettingDeclaration<Float>(
        name: ModelSetting("lr_decay"), defaultValue: nil,
        summary: "Multiply both learning rates by this after each epoch, in (0, 1] (default: 1, constant)",
        problem: { $0 > 0 && $0 <= 1 ? nil : "must be in (0, 1]" })
    /// The embedding optimizer.
    public static let optimizer = SettingDeclaration<SparseUpdateRule>(
        name: ModelSetting("optimizer"), defaultValue: .lazyAdam,
        summary: "Embedding optimizer, sparse: \(SparseUpdateRule.allCases.map(\.rawValue).joined(separator: ", "))",
        problem: { _ in nil })
    /// The dense optimizer.
    public static let denseOptimizer = SettingDeclaration<DenseUpdateRule>(
        name: ModelSetting("dense_optimizer"), defaultValue: .adam,
        summary: "Dense optimizer: \(DenseUpdateRule.allCases.map(\.rawValue).joined(separator: ", "))", problem: { _ in nil })
    /// The embedding L2 penalty.
    public static let l2 = SettingDeclaration<Float>(
        name: ModelSetting("l2"), defaultValue: 0, summary: "L2 penalty on the embedding rows a batch uses",
        problem: { $0 >= 0 && $0.isFinite ? nil : "must be 0 or positive" })
    /// Kernel threads.
    public static let threads = SettingDeclaration<Int>(
        name: ModelSetting("threads"), defaultValue: Parallel.defaultThreads,
        summary: "Threads for the kernels (the default is every core of this machine)", problem: atLeast(1))
    /// The seed.
    public static let seed = SettingDeclaration<UInt64>(
        name: ModelSetting("seed"), defaultValue: 1, summary: "Seed of initialisation, shuffling and dropout", problem: { _ in nil })
    /// Evaluation interval.
    public static let evaluateEvery = SettingDeclaration<Int>(
        name: ModelSetting("evaluate_every"), defaultValue: nil, summary: "Evaluate on validation every N steps (default: once per epoch)",
        problem: atLeast(1))
    /// Early stopping.
    public static let patience = SettingDeclaration<Int>(
        name: ModelSetting("patience"), defaultValue: 2, summary: "Stop after this many evaluations without a better validation AUC",
        problem: atLeast(1))
    /// Metrics-log interval.
    public static let logEvery = SettingDeclaration<Int>(
        name: ModelSetting("log_every"), defaultValue: 10, summary: "Write a training line to the metrics log every N steps",
        problem: atLeast(1))

    /// The run configuration for `store` from the command line's settings and, when given, the
    /// experiment file at `filePath` (a relative `dims` or `inner_dims` path in it is relative to
    /// the file). Throws `SettingError` for a value out of range or that the embedding method
    /// refuses, `DataError` for an unreadable file.
    public static func resolve(commandLine: ExperimentFile, file: ExperimentFile?, filePath: String?, store: ColumnStore) throws
        -> RunConfiguration
    {
        var resolver = Resolver(commandLine: commandLine, file: file, filePath: filePath)
        let dimension = try resolver.value(dim, \.dim) ?? 16
        var model = ModelConfiguration(kind: try resolver.value(TrainingSettings.model, \.model) ?? .deepfm, dimension: dimension)
        model.mlp = try resolver.value(mlp, \.mlp) ?? model.mlp
        model.bottomMLP = try resolver.value(bottomMLP, \.bottomMLP) ?? model.bottomMLP
        model.topMLP = try resolver.value(topMLP, \.topMLP) ?? model.topMLP
        model.batchNorm = commandLine.batchNorm ?? file?.batchNorm ?? false
        model.dropout = try resolver.value(dropout, \.dropout) ?? 0
        model.crossLayers = try resolver.value(crossLayers, \.crossLayers) ?? model.crossLayers
        let identity = DatasetIdentity(store)
        let fields = identity.fields
        var widths = try resolver.fieldWidths(.dims, \.dims, fields: fields, defaultWidth: dimension)
        if widths?.allSatisfy({ $0 == dimension }) == true { widths = nil }
        let method = try resolver.value(embedding, \.embedding) ?? .plain
        switch method {
        case .plain:
            try resolver.refuse(.innerDim, unless: "mlet") {
                $0.innerDim.map(String.init) ?? $0.innerDims.map { _ in "(per-field widths)" }
            }
            try resolver.refuse(.qrCollisions, unless: "qr") { $0.qrCollisions.map(String.init) }
            model.embedding = .plain(PlainEmbeddingMethod(widths: widths))
        case .mlet:
            try resolver.refuse(.qrCollisions, unless: "qr") { $0.qrCollisions.map(String.init) }
            let inner = try resolver.value(innerDim, \.innerDim) ?? 64
            let innerWidths =
                try resolver.fieldWidths(.innerDims, \.innerDims, fields: fields, defaultWidth: inner) ?? fields.map { _ in inner }
            model.embedding = .mlet(MLETEmbeddingMethod(innerWidths: innerWidths, widths: widths))
        case .qr:
            try resolver.refuse(.innerDim, unless: "mlet") {
                $0.innerDim.map(String.init) ?? $0.innerDims.map { _ in "(per-field widths)" }
            }
            if widths != nil {
                throw resolver.error(
                    .dims, value: "(per-field widths)", reason: "cannot be used with the qr method, which gives every field the width dim")
            }
            let collisions = try resolver.value(qrCollisions, \.qrCollisions) ?? 64
            model.embedding = .quotientRemainder(QuotientRemainderEmbeddingMethod(collisions: collisions))
        }
        do {
            try model.embedding.definition.validate(
                in: EmbeddingContext(
                    model: model.kind, dimension: model.dimension, cardinalities: identity.cardinalities, fields: fields,
                    categoricalCount: store.schema.categorical.count, seed: 0))
        } catch {
            guard case .invalidSetting(let setting, let reason) = error else { throw error }
            // The method names the setting it refuses; say where that setting's value came from.
            throw resolver.error(setting, value: "", reason: "is refused: \(reason)")
        }
        var options = TrainingOptions()
        options.batchSize = try resolver.value(batchSize, \.batchSize) ?? options.batchSize
        options.epochs = try resolver.value(epochs, \.epochs) ?? options.epochs
        options.learningRate = try resolver.value(lr, \.lr) ?? options.learningRate
        options.embeddingLearningRate = try resolver.value(embeddingLR, \.embeddingLR)
        options.learningRateDecay = try resolver.value(lrDecay, \.lrDecay)
        options.sparseRule = try resolver.value(optimizer, \.optimizer) ?? options.sparseRule
        options.denseRule = try resolver.value(denseOptimizer, \.denseOptimizer) ?? options.denseRule
        options.embeddingL2 = try resolver.value(l2, \.l2) ?? options.embeddingL2
        options.threads = try resolver.value(threads, \.threads) ?? options.threads
        options.seed = try resolver.value(seed, \.seed) ?? options.seed
        options.evaluateEvery = try resolver.value(evaluateEvery, \.evaluateEvery)
        options.patience = try resolver.value(patience, \.patience)
        options.logEvery = try resolver.value(logEvery, \.logEvery) ?? options.logEvery
        return RunConfiguration(model: model, options: options, dataset: identity)
    }

    /// Checks every value `commandLine` gives against its declared range, before any data is
    /// opened (the rest, which needs the dataset's fields, is checked by `resolve`).
    public static func checkRanges(of commandLine: ExperimentFile) throws(SettingError) {
        var resolver = Resolver(commandLine: commandLine, file: nil, filePath: nil)
        _ = try resolver.value(dim, \.dim)
        _ = try resolver.value(innerDim, \.innerDim)
        _ = try resolver.value(qrCollisions, \.qrCollisions)
        _ = try resolver.value(crossLayers, \.crossLayers)
        _ = try resolver.value(mlp, \.mlp)
        _ = try resolver.value(bottomMLP, \.bottomMLP)
        _ = try resolver.value(topMLP, \.topMLP)
        _ = try resolver.value(dropout, \.dropout)
        _ = try resolver.value(batchSize, \.batchSize)
        _ = try resolver.value(epochs, \.epochs)
        _ = try resolver.value(lr, \.lr)
        _ = try resolver.value(embeddingLR, \.embeddingLR)
        _ = try resolver.value(lrDecay, \.lrDecay)
        _ = try resolver.value(l2, \.l2)
        _ = try resolver.value(threads, \.threads)
        _ = try resolver.value(evaluateEvery, \.evaluateEvery)
        _ = try resolver.value(patience, \.patience)
        _ = try resolver.value(logEvery, \.logEvery)
    }

    /// Picks each setting's value and remembers where it came from.
    struct Resolver {
        let commandLine: ExperimentFile
        let file: ExperimentFile?
        let filePath: String?
        /// Per setting picked, its value as given (for messages).
        var given: [ModelSetting: String] = [:]
        /// Per setting picked, where it came from.
        var origins: [ModelSetting: SettingOrigin] = [:]

        init(commandLine: ExperimentFile, file: ExperimentFile?, filePath: String?) {
            self.commandLine = commandLine
            self.file = file
            self.filePath = filePath
        }

        /// The command line's value, else the file's, else the default; checked against the range.
        mutating func value<V>(_ declaration: SettingDeclaration<V>, _ key: KeyPath<ExperimentFile, V?>) throws(SettingError) -> V? {
            let origin: SettingOrigin
            let picked: V?
            if let value = commandLine[keyPath: key] {
                (picked, origin) = (value, .commandLine)
            } else if let value = file?[keyPath: key] {
                (picked, origin) = (value, .file(filePath ?? "experiment file"))
            } else {
                (picked, origin) = (declaration.defaultValue, .defaultValue)
            }
            guard let picked else { return nil }
            let text = SettingDeclaration<V>.text(picked)
            given[declaration.name] = text
            origins[declaration.name] = origin
            if let problem = declaration.problem(picked) {
                throw SettingError(declaration.name, value: text, origin: origin, reason: problem)
            }
            return picked
        }

        /// Per-field widths from the command line's dims file, else the experiment file's mapping
        /// or file (relative to it); nil when neither gives them.
        mutating func fieldWidths(
            _ name: ModelSetting, _ key: KeyPath<ExperimentFile, ExperimentFile.FieldWidths?>, fields: [String], defaultWidth: Int
        ) throws -> [Int]? {
            let source: ExperimentFile.FieldWidths
            let origin: SettingOrigin
            if let value = commandLine[keyPath: key] {
                (source, origin) = (value, .commandLine)
            } else if let value = file?[keyPath: key] {
                (source, origin) = (value, .file(filePath ?? "experiment file"))
            } else {
                return nil
            }
            origins[name] = origin
            switch source {
            case .inline(let mapping):
                given[name] = "(mapping)"
                return try DimensionsFile.widths(mapping, fields: fields, defaultWidth: defaultWidth, source: filePath ?? name.key)
            case .file(let path):
                given[name] = path
                let base = origin == .commandLine ? nil : filePath
                let resolved =
                    path.hasPrefix("/") || base == nil
                    ? path : URL(fileURLWithPath: base ?? "").deletingLastPathComponent().appendingPathComponent(path).path
                return try DimensionsFile.widths(path: resolved, fields: fields, defaultWidth: defaultWidth)
            }
        }

        /// Throws if `setting` was given (`given` reads its value from the command line's or the
        /// file's settings), since it belongs to the `method` method.
        func refuse(_ setting: ModelSetting, unless method: String, given: (ExperimentFile) -> String?) throws(SettingError) {
            let origin: SettingOrigin
            let value: String
            if let text = given(commandLine) {
                (value, origin) = (text, .commandLine)
            } else if let file, let text = given(file) {
                (value, origin) = (text, .file(filePath ?? "experiment file"))
            } else {
                return
            }
            throw SettingError(setting, value: value, origin: origin, reason: "is the \(method) method's setting; add embedding \(method)")
        }

        /// An error of `setting` with the origin its value had (per-field inner widths not given
        /// field by field came from the common inner width).
        func error(_ setting: ModelSetting, value: String, reason: String) -> SettingError {
            let named = origins[setting] == nil && setting == .innerDims ? ModelSetting.innerDim : setting
            return SettingError(named, value: given[named] ?? value, origin: origins[named] ?? .defaultValue, reason: reason)
        }
    }
}
