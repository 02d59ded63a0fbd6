/// What the synthetic teacher generator makes: how many rows, from which seed, and the shape of
/// the hidden "teacher" click model (per categorical field: cardinality and useful rank).
///
/// Everything the teacher draws (Zipf exponents, weights, subspaces, missing rates) follows from
/// `seed`; so does every row. `threads` only changes speed, never the output.
public struct TeacherConfiguration: Sendable, Equatable {
    /// Number of rows to generate.
    public var rows: Int
    /// The seed of the teacher's parameters and of every row.
    public var seed: UInt64
    /// Number of categorical fields (C1...C`fields`); the 13 dense fields are always there.
    public var fields: Int
    /// Cardinality (number of distinct values) of each categorical field C1, C2, ...; one entry
    /// per field.
    public var cardinalities: [Int]
    /// Useful rank of each categorical field: the dimension of the subspace its teacher vectors
    /// live in (1...32); 0 makes the field pure noise (no weight, no vector). One entry per field.
    public var ranks: [Int]
    /// The seed of the random train/validation/test split the oracle is reported for (the same
    /// rule and default as `compactrec prepare --seed`).
    public var splitSeed: UInt64
    /// The click rate the teacher's bias is calibrated to.
    public var targetClickRate: Double
    /// Standard deviation of the teacher's logit (before the bias) on the calibration sample:
    /// sets how predictable clicks are, hence the oracle AUC (1.25 gives about 0.79).
    public var logitStandardDeviation: Double
    /// Rows per chunk. Each chunk has its own random stream, so this is part of the seed:
    /// changing it changes the data (unlike `threads`).
    public var chunkRows: Int
    /// Rows drawn (from the teacher's own stream) to calibrate scales and bias.
    public var calibrationRows: Int
    /// Worker threads; nil uses every core. Does not affect the output.
    public var threads: Int?

    /// Number of dense fields (always Criteo's 13).
    public static let denseCount = 13
    /// Largest cardinality a field may have (ids must fit 32 bits; parameters must fit memory).
    public static let maximumCardinality = 100_000_000
    /// Largest memory the teacher's parameters may take (bytes).
    public static let maximumParameterBytes = 8e9
    /// Largest number of categorical fields.
    public static let maximumFields = 1_000
    /// Largest useful rank: the teacher's embedding dimension.
    public static let maximumRank = TeacherModel.dimension

    /// The default cardinalities of Criteo's 26 fields: Criteo-Kaggle's own cardinality profile
    /// capped at one million (from 10 to 1,000,000, about 4.57 million values in all).
    public static let defaultCardinalities: [Int] = [
        1_460, 583, 1_000_000, 600_000, 305, 24, 12_517, 633, 10, 93_145, 5_683, 900_000, 3_194,
        27, 14_992, 800_000, 10, 5_652, 2_173, 12, 700_000, 18, 15, 286_181, 105, 142_572,
    ]

    /// The default useful ranks of the 26 fields: ranks 1, 2, 4, 8 and 16 spread over small and
    /// large fields alike, and six noise fields (0) of all sizes (C5, C11, C16, C19, C22, C25).
    public static let defaultRanks: [Int] = [
        4, 2, 8, 4, 0, 1, 8, 2, 1, 16, 0, 2, 4,
        2, 16, 0, 1, 8, 0, 1, 16, 0, 2, 4, 0, 8,
    ]

    /// Default cardinalities for `fields` fields: the 26 defaults, repeated cyclically.
    public static func defaultCardinalities(fields: Int) -> [Int] {
        (0..<max(fields, 0)).map { defaultCardinalities[$0 % defaultCardinalities.count] }
    }

    /// Default ranks for `fields` fields: the 26 defaults, repeated cyclically.
    public static func defaultRanks(fields: Int) -> [Int] {
        (0..<max(fields, 0)).map { defaultRanks[$0 % defaultRanks.count] }
    }

    /// A configuration. `cardinalities` and `ranks` default to the 26-field defaults (cycled for
    /// other field counts); a single value is used for every field. Lists whose length does not
    /// match `fields` are kept as given and rejected by `validate()`.
    public init(
        rows: Int = 1_000_000, seed: UInt64 = 1, fields: Int = 26,
        cardinalities: [Int]? = nil, ranks: [Int]? = nil, splitSeed: UInt64 = 42,
        targetClickRate: Double = 0.25, logitStandardDeviation: Double = 1.25,
        chunkRows: Int = 65_536, calibrationRows: Int = 32_768, threads: Int? = nil
    ) {
        self.rows = rows
        self.seed = seed
        self.cardinalities =
            TeacherConfiguration.expand(cardinalities, fields: fields)
            ?? TeacherConfiguration.defaultCardinalities(fields: fields)
        self.ranks =
            TeacherConfiguration.expand(ranks, fields: fields)
            ?? TeacherConfiguration.defaultRanks(fields: fields)
        self.fields = fields
        self.splitSeed = splitSeed
        self.targetClickRate = targetClickRate
        self.logitStandardDeviation = logitStandardDeviation
        self.chunkRows = chunkRows
        self.calibrationRows = calibrationRows
        self.threads = threads
    }

    private static func expand(_ list: [Int]?, fields: Int) -> [Int]? {
        guard let list else { return nil }
        if list.count == 1 && fields > 1 { return Array(repeating: list[0], count: fields) }
        return list
    }

    /// Names of the categorical fields: C1, C2, ...
    public var categoricalNames: [String] { (0..<max(fields, 0)).map { "C\($0 + 1)" } }

    /// Number of columns in each line: label, 13 dense, then the categorical fields.
    public var columnCount: Int { 1 + TeacherConfiguration.denseCount + fields }

    /// "criteo-kaggle" for Criteo's exact 40-column layout, "criteo-like" for other field counts.
    public var layoutName: String { fields == 26 ? "criteo-kaggle" : "criteo-like" }

    /// Checks every setting; the error says which option to change.
    public func validate() throws(GeneratorError) {
        guard rows > 0 else { throw .invalidRows(rows) }
        guard fields >= 1 && fields <= TeacherConfiguration.maximumFields else {
            throw .invalidFieldCount(fields, limit: TeacherConfiguration.maximumFields)
        }
        guard cardinalities.count == fields else {
            throw .listLength(option: "--cardinalities", count: cardinalities.count, fields: fields)
        }
        guard ranks.count == fields else {
            throw .listLength(option: "--ranks", count: ranks.count, fields: fields)
        }
        for (f, name) in categoricalNames.enumerated() {
            let n = cardinalities[f]
            if n < 2 { throw .cardinalityTooSmall(field: name, value: n) }
            if n > TeacherConfiguration.maximumCardinality {
                throw .cardinalityTooLarge(field: name, value: n, limit: TeacherConfiguration.maximumCardinality)
            }
            let r = ranks[f]
            if r < 0 { throw .negativeRank(field: name, value: r) }
            if r > TeacherConfiguration.maximumRank {
                throw .rankTooLarge(field: name, value: r, limit: TeacherConfiguration.maximumRank)
            }
        }
        let parameterBytes = zip(cardinalities, ranks).reduce(0.0) { total, field in
            total + Double(field.0) * Double(field.1 > 0 ? field.1 + 1 : 0) * 4
        }
        guard parameterBytes <= TeacherConfiguration.maximumParameterBytes else {
            let gigabytes = (parameterBytes / 1e8).rounded() / 10
            throw .invalidSetting(
                "the teacher would need \(gigabytes) GB for its parameters (the limit is \(TeacherConfiguration.maximumParameterBytes / 1e9) GB, cardinality x (rank + 1) x 4 bytes summed over fields): lower --cardinalities or --ranks."
            )
        }
        guard targetClickRate > 0.001 && targetClickRate < 0.999 else {
            throw .invalidSetting("the target click rate must be between 0.001 and 0.999 (got \(targetClickRate)).")
        }
        guard logitStandardDeviation >= 0 && logitStandardDeviation <= 20 else {
            throw .invalidSetting("the teacher's logit standard deviation must be between 0 and 20 (got \(logitStandardDeviation)).")
        }
        guard chunkRows >= 1 && chunkRows <= 1 << 22 else {
            throw .invalidSetting("chunk rows must be between 1 and \(1 << 22) (got \(chunkRows)).")
        }
        guard calibrationRows >= 100 && calibrationRows <= 1 << 24 else {
            throw .invalidSetting("calibration rows must be between 100 and \(1 << 24) (got \(calibrationRows)).")
        }
        if let threads, threads < 1 {
            throw .invalidSetting("--threads must be at least 1 (got \(threads)).")
        }
    }

    /// Parses a comma-separated list of integers (`--cardinalities`, `--ranks`); spaces and
    /// `_` digit separators are allowed.
    public static func parseList(_ text: String, option: String) throws(GeneratorError) -> [Int] {
        var values: [Int] = []
        for piece in text.split(separator: ",", omittingEmptySubsequences: false) {
            let cleaned = piece.filter { $0 != " " && $0 != "_" }
            guard let value = Int(cleaned) else { throw .badList(option: option, text: text) }
            values.append(value)
        }
        return values
    }
}
