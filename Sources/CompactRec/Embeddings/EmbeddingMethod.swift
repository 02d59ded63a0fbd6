import CompactRecData

/// How a model's fields are embedded: the method and all of its settings, as one value.
///
/// A model configuration holds one (`ModelConfiguration.embedding`), and so do checkpoints,
/// weights files and model files, so a run can always be rebuilt exactly. `ModelFactory` asks the
/// method to check itself against the model and the dataset's fields and to build its layer; it
/// has no branch of its own per method.
///
/// Adding a method is one file in `Embeddings/` (its layer, and a settings type conforming to
/// `EmbeddingMethodDefinition`) plus one case here and its line in `definition`.
public enum EmbeddingMethod: Sendable, Codable, Equatable {
    /// One table per field, of width d or of per-field widths (FDE, mixed dimensions, AutoDim's
    /// and MDE's retraining).
    case plain(PlainEmbeddingMethod)
    /// Multi-layer embedding training: each field an n x k table times a k x d map, folded into
    /// one n x d table for inference.
    case mlet(MLETEmbeddingMethod)
    /// The quotient-remainder trick: per field two small tables whose rows are multiplied
    /// element-wise.
    case quotientRemainder(QuotientRemainderEmbeddingMethod)
    /// AutoDim's search supernet: every candidate width per field, mixed by architecture weights.
    case search(DimensionSearchOptions)

    /// The methods a user names (`--embedding`, an experiment file's `embedding:`); the search
    /// supernet is built by `search` and `autodim`, not named.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Plain tables.
        case plain
        /// MLET.
        case mlet
        /// The quotient-remainder trick.
        case qr
    }

    /// Which named method this is (nil for the search supernet).
    public var kind: Kind? {
        switch self {
        case .plain: .plain
        case .mlet: .mlet
        case .quotientRemainder: .qr
        case .search: nil
        }
    }

    /// MLET's inner widths, for an MLET method.
    public var innerWidths: [Int]? {
        if case .mlet(let method) = self { method.innerWidths } else { nil }
    }

    /// The method that trains fields towards `widths` (nil: the model's d), as AutoDim's and
    /// MDE's retraining does: MLET keeps its inner widths, any other method becomes plain tables.
    public func retargeted(to widths: [Int]?) -> EmbeddingMethod {
        if case .mlet(let method) = self { return .mlet(MLETEmbeddingMethod(innerWidths: method.innerWidths, widths: widths)) }
        return .plain(PlainEmbeddingMethod(widths: widths))
    }

    /// Plain tables of the model's width d.
    public static let plainTables = EmbeddingMethod.plain(PlainEmbeddingMethod())

    /// The method's settings, which check themselves and build the layer.
    public var definition: any EmbeddingMethodDefinition {
        switch self {
        case .plain(let method): method
        case .mlet(let method): method
        case .quotientRemainder(let method): method
        case .search(let options): options
        }
    }

    /// Per field, the width of the vector the method trains it towards, when the fields do not
    /// all have the model's width d (nil: every field has width d).
    public var fieldWidths: [Int]? { definition.fieldWidths }

    /// A short description for summaries and run names ("plain", "mlet k = 64", ...).
    public var summary: String { definition.summary }
}

/// What the method's layer is built for: the model, its width and the dataset's embedded fields.
public struct EmbeddingContext: Sendable {
    /// The model the layer feeds.
    public var model: ModelKind
    /// The model's common width d.
    public var dimension: Int
    /// Rows of each embedded field's vocabulary (schema order: categorical, then multi-valued).
    public var cardinalities: [Int]
    /// The embedded fields' names (schema order).
    public var fields: [String]
    /// How many of them are single-valued (categorical); the rest are multi-valued.
    public var categoricalCount: Int
    /// The training seed (AutoDim's Gumbel noise draws from it).
    public var seed: UInt64

    /// The context of a `model` of width `dimension` over fields `fields` with `cardinalities`
    /// rows, the first `categoricalCount` single-valued, trained with `seed`.
    public init(model: ModelKind, dimension: Int, cardinalities: [Int], fields: [String], categoricalCount: Int, seed: UInt64) {
        self.model = model
        self.dimension = dimension
        self.cardinalities = cardinalities
        self.fields = fields
        self.categoricalCount = categoricalCount
        self.seed = seed
    }

    /// The fields' table names (`ParameterPath.embedding`).
    public var tableNames: [String] { fields.map(ParameterPath.embedding) }
}

/// The settings of one embedding method: they check themselves against a model and the
/// dataset's fields, and build the method's layer.
public protocol EmbeddingMethodDefinition: Sendable {
    /// Throws a `ModelError` naming the setting that does not fit `context` (a width below 1,
    /// per-field settings for another number of fields, a model the method cannot feed).
    func validate(in context: EmbeddingContext) throws(ModelError)
    /// The method's layer for `context` (already validated), drawing its initial values from
    /// `random`.
    func makeLayer(in context: EmbeddingContext, random: inout SeededRandom) -> any EmbeddingLayer
    /// Per field, the width it is trained towards where the fields differ from d (nil: d each).
    var fieldWidths: [Int]? { get }
    /// A short description ("plain", "mlet k = 64", ...).
    var summary: String { get }
}

extension EmbeddingMethodDefinition {
    /// Throws unless `widths` has one positive entry per field of `context`.
    func checkPerField(_ widths: [Int]?, setting: ModelSetting, in context: EmbeddingContext) throws(ModelError) {
        guard let widths else { return }
        guard widths.count == context.fields.count else {
            throw .invalidSetting(setting, reason: "\(widths.count) widths given, the dataset has \(context.fields.count) embedded fields")
        }
        if let f = widths.indices.first(where: { widths[$0] < 1 }) {
            throw .invalidSetting(setting, reason: "the width of \(context.fields[f]) is \(widths[f]); each must be at least 1")
        }
    }
}
