import CompactRecData

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A model setting, by the name it has in an experiment file (`dim`, `inner_dims`, ...); the
/// command-line option is the same name with dashes (`--dim`, `--inner-dims`).
///
/// Library errors name settings this way, not as options, so that whoever collected the value
/// (the command line, an experiment file, a program) can say where it came from.
public struct ModelSetting: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The experiment-file key, snake_case.
    public var key: String

    /// The setting called `key`.
    public init(_ key: String) { self.key = key }

    /// The command-line option: `--` and the key with dashes.
    public var option: String { "--" + key.split(separator: "_").joined(separator: "-") }
    /// The key.
    public var description: String { key }

    /// The model kind.
    public static let model = ModelSetting("model")
    /// The embedding method.
    public static let embedding = ModelSetting("embedding")
    /// The common width d.
    public static let dim = ModelSetting("dim")
    /// Per-field widths.
    public static let dims = ModelSetting("dims")
    /// MLET's inner width k (all fields).
    public static let innerDim = ModelSetting("inner_dim")
    /// MLET's per-field inner widths.
    public static let innerDims = ModelSetting("inner_dims")
    /// The quotient-remainder trick's collisions c.
    public static let qrCollisions = ModelSetting("qr_collisions")
    /// DCN-v2's cross layers.
    public static let crossLayers = ModelSetting("cross_layers")
    /// AutoDim's candidate widths.
    public static let candidates = ModelSetting("candidates")
}

/// A model that cannot be built as configured.
public enum ModelError: Error, LocalizedError, Sendable, Equatable {
    /// `setting` does not fit the model or the data; `reason` says why and what would.
    case invalidSetting(ModelSetting, reason: String)
    /// Two of the model's parameters would have the same path name, because a field of
    /// `source` is named like one of the model's own weights.
    case parameterNameCollision(name: String, source: String)

    /// The message.
    public var errorDescription: String? {
        switch self {
        case .invalidSetting(let setting, let reason):
            "\(setting): \(reason)"
        case .parameterNameCollision(let name, let source):
            "two of the model's parameters would be named \(name) (a field of \(source) is named like one of "
                + "the model's own weights); rename that field in the data or its schema"
        }
    }
}
