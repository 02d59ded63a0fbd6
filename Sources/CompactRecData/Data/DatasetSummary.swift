/// What `compactrec inspect` reports about a prepared dataset: rows per split, click rates,
/// and per field its cardinality, missing and OOV shares and most frequent values.
public struct DatasetSummary: Codable, Sendable {
    /// The dataset directory.
    public var directory: String
    /// Total rows.
    public var rows: Int
    /// Total clicks.
    public var positives: Int
    /// Clicks / rows.
    public var clickRate: Double
    /// "random" or "sequential", and the seed of a random split.
    public var split: String
    /// Per part: rows, clicks, click rate.
    public var parts: [Part]
    /// Per field statistics.
    public var fields: [FieldStatistics]
    /// The raw format and files.
    public var source: DatasetManifest.Source
    /// Dense transform and vocabulary settings.
    public var preprocessing: DatasetManifest.Preprocessing

    /// Rows and clicks of one split part.
    public struct Part: Codable, Sendable {
        /// train, validation or test.
        public var name: String
        /// Rows.
        public var rows: Int
        /// Clicks.
        public var positives: Int
        /// Clicks / rows.
        public var clickRate: Double
    }

    /// Statistics of one field.
    public struct FieldStatistics: Codable, Sendable {
        /// Field name.
        public var name: String
        /// dense, categorical or multi_valued.
        public var kind: FieldKind
        /// Embedding rows (nil for dense).
        public var cardinality: Int?
        /// Distinct values seen before --min-count (nil for dense).
        public var distinctValues: Int?
        /// Share of rows where the field is missing.
        public var missingShare: Double
        /// Share of rows mapped to OOV, per part (nil for dense); for multi-valued fields, the
        /// share of values, under "all".
        public var oovShare: [String: Double]?
        /// The most frequent values with their training counts.
        public var topValues: [TopValue]?
    }

    /// A frequent value.
    public struct TopValue: Codable, Sendable {
        /// The raw value.
        public var value: String
        /// Occurrences in training rows.
        public var count: UInt64
    }

    /// Summarises the dataset in `store`, listing `top` values per field.
    public init(store: ColumnStore, top: Int = 5) throws(DataError) {
        let manifest = store.manifest
        directory = store.directory
        rows = manifest.rows
        positives = manifest.split.positives.values.reduce(0, +)
        clickRate = rows > 0 ? Double(positives) / Double(rows) : 0
        if manifest.split.kind == "random", let seed = manifest.split.seed {
            split = "random (seed \(seed))"
        } else {
            split = manifest.split.kind
        }
        parts = SplitPart.allCases.map { part in
            let partRows = manifest.split.rows[part.name] ?? 0
            let partPositives = manifest.split.positives[part.name] ?? 0
            return Part(
                name: part.name, rows: partRows, positives: partPositives,
                clickRate: partRows > 0 ? Double(partPositives) / Double(partRows) : 0)
        }
        let vocabularies = try store.vocabularies()
        let byName = Dictionary(vocabularies.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let rowsByPart = manifest.split.rows
        let total = rows
        fields = manifest.fields.map { field in
            var oovShare: [String: Double]?
            if let values = field.values, let oovValues = field.oovValues {
                oovShare = ["all": values > 0 ? Double(oovValues) / Double(values) : 0]
            } else if let oov = field.oovRows {
                oovShare = Dictionary(
                    uniqueKeysWithValues: oov.map { part, count in
                        let denominator = rowsByPart[part] ?? total
                        return (part, denominator > 0 ? Double(count) / Double(denominator) : 0)
                    })
            }
            var topValues: [TopValue]?
            if let vocabulary = byName[field.name] {
                topValues = (0..<min(top, vocabulary.valueCount)).map {
                    TopValue(value: vocabulary.value(at: $0), count: vocabulary.counts[$0])
                }
            }
            return FieldStatistics(
                name: field.name, kind: field.kind, cardinality: field.cardinality,
                distinctValues: field.distinctValues,
                missingShare: total > 0 ? Double(field.missingRows) / Double(total) : 0,
                oovShare: oovShare, topValues: topValues)
        }
        source = manifest.source
        preprocessing = manifest.preprocessing
    }
}
