import CompactRecData
import Yams

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A YAML (or JSON) experiment file for `compactrec train --config`: the same settings as the
/// command-line options, in snake_case, all optional. Options given on the command line win.
///
/// ```yaml
/// model: deepfm
/// dim: 16
/// mlp: [400, 400, 400]
/// batch_size: 4096
/// epochs: 2
/// lr: 0.001
/// dims: dims.yaml        # or an inline mapping {C1: 8, C2: 16}
/// ```
///
/// MLET: `embedding: mlet`, `inner_dim: 64`, and optionally `inner_dims` (a mapping or a file,
/// like `dims`) for per-field inner widths. The quotient-remainder trick: `embedding: qr`,
/// `qr_collisions: 100`. DCN-v2: `model: dcnv2`, `cross_layers: 3`.
public struct ExperimentFile: Codable, Sendable, Equatable {
    /// `lr`, `fm`, `wd`, `deepfm`, `dlrm` or `dcnv2`.
    public var model: ModelKind?
    /// The embedding method.
    public var embedding: EmbeddingMethod.Kind?
    /// Common embedding width.
    public var dim: Int?
    /// Per-field widths: a mapping, or a path to a dims file (relative to this file).
    public var dims: FieldWidths?
    /// MLET's inner width k, and per-field inner widths (a mapping or a file).
    public var innerDim: Int?, innerDims: FieldWidths?
    /// The quotient-remainder trick's collisions c.
    public var qrCollisions: Int?
    /// DCN-v2's cross layers.
    public var crossLayers: Int?
    /// MLP hidden widths (DeepFM, Wide & Deep); DLRM's bottom and top hidden widths.
    public var mlp: [Int]?, bottomMLP: [Int]?, topMLP: [Int]?
    /// BatchNorm in the MLPs, and their dropout rate.
    public var batchNorm: Bool?, dropout: Float?
    /// Training settings.
    public var batchSize: Int?, epochs: Int?, lr: Float?, embeddingLR: Float?, l2: Float?
    /// Per-epoch learning-rate factor.
    public var lrDecay: Float?
    /// Optimizers: sparse (`lazy-adam`, `rowwise-adagrad`, `sgd`) and dense (`adam`, `sgd`).
    public var optimizer: SparseUpdateRule?, denseOptimizer: DenseUpdateRule?
    /// Seed, threads, evaluation interval, patience and metrics-log interval.
    public var seed: UInt64?, threads: Int?, evaluateEvery: Int?, patience: Int?, logEvery: Int?

    /// No settings (every one taken from elsewhere or its default).
    public init() {}

    /// Per-field widths written inline or kept in a file.
    public enum FieldWidths: Codable, Sendable, Equatable {
        /// Field name to width.
        case inline([String: Int])
        /// A dims file's path.
        case file(String)

        /// Decodes a mapping or a string.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let path = try? container.decode(String.self) {
                self = .file(path)
            } else {
                self = .inline(try container.decode([String: Int].self))
            }
        }

        /// Encodes the mapping or the path.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .inline(let widths): try container.encode(widths)
            case .file(let path): try container.encode(path)
            }
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, embedding, dim, dims, mlp, dropout, epochs, lr, l2, optimizer, seed, threads, patience
        case bottomMLP = "bottom_mlp"
        case topMLP = "top_mlp"
        case batchNorm = "batch_norm"
        case batchSize = "batch_size"
        case embeddingLR = "embedding_lr"
        case denseOptimizer = "dense_optimizer"
        case evaluateEvery = "evaluate_every"
        case logEvery = "log_every"
        case innerDim = "inner_dim"
        case innerDims = "inner_dims"
        case lrDecay = "lr_decay"
        case qrCollisions = "qr_collisions"
        case crossLayers = "cross_layers"
    }

    /// Reads the file at `path`; unknown keys are errors (a misspelt setting must not be ignored).
    public static func load(path: String) throws(DataError) -> ExperimentFile {
        let text = try readText(path, what: "experiment")
        do {
            guard let top = try Yams.load(yaml: text) as? [String: Any] else {
                throw DataError.badSchema(path: path, reason: "an experiment file is a mapping of settings (model: deepfm, dim: 16, ...)")
            }
            let known = Set(CodingKeys.allCases.map(\.rawValue))
            let unknown = top.keys.filter { !known.contains($0) }.sorted()
            guard unknown.isEmpty else {
                throw DataError.badSchema(
                    path: path,
                    reason: "unknown setting \(unknown.joined(separator: ", ")); "
                        + "known: \(known.sorted().joined(separator: ", "))")
            }
            return try YAMLDecoder().decode(ExperimentFile.self, from: text)
        } catch let error as DataError {
            throw error
        } catch {
            throw .badSchema(path: path, reason: "not a valid experiment file: \(error)")
        }
    }
}

/// Per-field embedding widths (`--dims FILE`): a YAML or JSON mapping from field name to width,
/// as AutoDim writes it. Fields it does not name keep the common width.
public enum DimensionsFile {
    /// Widths for `fields` (schema order): the file's, else `defaultWidth`.
    public static func widths(path: String, fields: [String], defaultWidth: Int) throws(DataError) -> [Int] {
        let text = try readText(path, what: "dims")
        let mapping: [String: Int]
        do {
            mapping = try YAMLDecoder().decode([String: Int].self, from: text)
        } catch {
            throw .badSchema(path: path, reason: "a dims file maps field names to widths (C1: 8); this one does not parse: \(error)")
        }
        return try widths(mapping, fields: fields, defaultWidth: defaultWidth, source: path)
    }

    /// Widths for `fields` from `mapping` (named in errors as `source`).
    public static func widths(_ mapping: [String: Int], fields: [String], defaultWidth: Int, source: String) throws(DataError) -> [Int] {
        let unknown = mapping.keys.filter { !fields.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw .badSchema(
                path: source,
                reason: "no embedded field named \(unknown.joined(separator: ", ")); "
                    + "the dataset's fields are \(fields.joined(separator: ", "))")
        }
        if let bad = mapping.first(where: { $0.value < 1 }) {
            throw .badSchema(path: source, reason: "field \(bad.key) has width \(bad.value); widths must be at least 1")
        }
        return fields.map { mapping[$0] ?? defaultWidth }
    }

    /// The YAML text of `widths` for `fields`, one `name: width` line each, in field order.
    public static func text(fields: [String], widths: [Int]) -> String {
        zip(fields, widths).map { "\($0): \($1)\n" }.joined()
    }
}

/// The UTF-8 text of a small settings file, with the house errors for missing or unreadable files.
func readText(_ path: String, what: String) throws(DataError) -> String {
    guard FileManager.default.fileExists(atPath: path) else { throw .fileNotFound(path: path) }
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        throw .unreadable(path: path, reason: "not readable as a UTF-8 \(what) file")
    }
    guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
        throw .unreadable(path: path, reason: "the \(what) file is empty")
    }
    return text
}
