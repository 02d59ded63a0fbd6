/// The kinds of feature field CompactRec models.
public enum FieldKind: String, Sendable, Codable {
    /// A number per row (Criteo's I1..I13); transformed at prepare time.
    case dense
    /// One category per row (Criteo's C1..C26); becomes one embedding lookup.
    case categorical
    /// Zero or more categories per row (MovieLens genres); mean-pooled embeddings.
    case multiValued = "multi_valued"
}

/// One feature field of a dataset.
public struct Field: Sendable, Codable, Equatable {
    /// The field's name (a column name, or Criteo's I1/C1 convention).
    public var name: String
    /// What kind of values it holds.
    public var kind: FieldKind

    /// Creates a field.
    public init(name: String, kind: FieldKind) {
        self.name = name
        self.kind = kind
    }
}

/// The fields of a dataset, in the order models see them: dense, then categorical, then
/// multi-valued fields.
public struct Schema: Sendable, Codable, Equatable {
    /// Dense field names.
    public var dense: [String]
    /// Single-valued categorical field names.
    public var categorical: [String]
    /// Multi-valued categorical field names.
    public var multiValued: [String]

    /// Creates a schema.
    public init(dense: [String], categorical: [String], multiValued: [String] = []) {
        self.dense = dense
        self.categorical = categorical
        self.multiValued = multiValued
    }

    /// All fields in model order.
    public var fields: [Field] {
        dense.map { Field(name: $0, kind: .dense) }
            + categorical.map { Field(name: $0, kind: .categorical) }
            + multiValued.map { Field(name: $0, kind: .multiValued) }
    }

    /// Criteo-Kaggle's layout: I1..I13 dense, C1..C26 categorical (or other counts, for teacher
    /// data generated with a different number of fields).
    public static func criteo(denseCount: Int = 13, categoricalCount: Int = 26) -> Schema {
        Schema(
            dense: (0..<denseCount).map { "I\($0 + 1)" },
            categorical: (0..<categoricalCount).map { "C\($0 + 1)" })
    }

    /// Categorical names followed by multi-valued names: the fields that get a vocabulary.
    public var vocabularyFields: [String] { categorical + multiValued }
}
