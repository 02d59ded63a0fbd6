/// A categorical field's useful rank in the teacher: the dimension of the subspace its vectors
/// live in, or `noise` for a field the teacher ignores. Encoded in JSON as a number or "noise".
public enum TeacherRank: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The teacher ignores the field: no weight, no vector.
    case noise
    /// The field's vectors span this many dimensions.
    case useful(Int)

    /// `.noise` for 0, else `.useful(rank)`.
    public init(_ rank: Int) { self = rank > 0 ? .useful(rank) : .noise }

    /// The rank as a number (0 for noise).
    public var value: Int {
        switch self {
        case .noise: 0
        case .useful(let rank): rank
        }
    }

    /// "noise" or the rank.
    public var description: String {
        switch self {
        case .noise: "noise"
        case .useful(let rank): String(rank)
        }
    }

    /// Reads a number or the string "noise".
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let rank = try? container.decode(Int.self) {
            self.init(rank)
            return
        }
        let text = try container.decode(String.self)
        guard text == "noise" else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "a useful rank is a number or \"noise\", not \"\(text)\"")
        }
        self = .noise
    }

    /// Writes a number or the string "noise".
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .noise: try container.encode("noise")
        case .useful(let rank): try container.encode(rank)
        }
    }
}

/// The teacher's truth about one categorical field.
public struct TeacherCategoricalTruth: Sendable, Equatable, Codable {
    /// The column name (C1, C2, ...).
    public var name: String
    /// Number of distinct values.
    public var cardinality: Int
    /// Exponent of the Zipf law of value frequencies.
    public var zipfExponent: Double
    /// Useful rank, or noise.
    public var usefulRank: TeacherRank
    /// Fraction of rows where the column is empty.
    public var missingRate: Double
    /// Standard deviation of the field's first-order weights (before the logit scale; 0 for noise).
    public var weightScale: Double
    /// Typical length of the field's vectors (before the logit scale; 0 for noise).
    public var vectorScale: Double
}

/// What a dense column is to the teacher.
public enum TeacherDenseRole: String, Sendable, Equatable, Codable {
    /// The teacher's logit depends on the column (linearly and through its MLP).
    case signal
    /// The teacher ignores the column.
    case noise
}

/// The teacher's truth about one dense column.
public struct TeacherDenseTruth: Sendable, Equatable, Codable {
    /// The column name (I1..I13).
    public var name: String
    /// Whether the teacher uses it.
    public var role: TeacherDenseRole
    /// Fraction of rows where the column is empty.
    public var missingRate: Double
    /// The value is `floor(exp(logMean + logStd * z)) + offset` with z standard normal.
    public var logMean: Double
    /// See `logMean`.
    public var logStd: Double
    /// See `logMean` (negative for a column with small negative values).
    public var offset: Int
}

/// The teacher's click function: `bias + firstOrderScale * (sum of first-order weights and
/// linear dense terms) + pairwiseScale * sum_{f<g} <v_f, v_g> + mlpScale * MLP(dense, pooled v)`.
public struct TeacherFunctionTruth: Sendable, Equatable, Codable {
    /// The calibrated bias (sets the click rate).
    public var bias: Double
    /// Scale of the first-order part.
    public var firstOrderScale: Double
    /// Scale of the FM pairwise part.
    public var pairwiseScale: Double
    /// Scale of the MLP part.
    public var mlpScale: Double
    /// Standard deviations of the three scaled parts on the calibration sample.
    public var partStandardDeviations: [Double]
    /// Target standard deviation of the logit before the bias.
    public var logitStandardDeviation: Double
    /// Dimension of the space the field vectors live in.
    public var embeddingDimension: Int
    /// Hidden units of the MLP (13 transformed dense + pooled vector -> hidden ReLU -> 1).
    public var mlpHidden: Int
    /// Click rate the bias was calibrated to.
    public var targetClickRate: Double
}

/// The oracle's scores on one split's test rows: the teacher's true probabilities used as
/// predictions. No model beats this in expectation.
public struct TeacherOracleMetrics: Sendable, Equatable, Codable {
    /// "random" or "sequential".
    public var split: String
    /// The random split's seed (nil for the sequential split).
    public var splitSeed: UInt64?
    /// Rows in the test part.
    public var testRows: Int
    /// Clicks among them.
    public var positives: Int
    /// ROC AUC of the true probabilities (nil when the test part has only one class).
    public var auc: Double?
    /// Mean logloss of the true probabilities (nil when the test part is empty).
    public var logloss: Double?
    /// Click rate of the test part.
    public var clickRate: Double
}

/// The oracle for both splits `compactrec prepare` can make.
public struct TeacherOracle: Sendable, Equatable, Codable {
    /// Test rows of the random split (`DataSplit.randomPart(row:seed:)` with the split seed).
    public var random: TeacherOracleMetrics
    /// Test rows of the sequential split (the last 10% of rows).
    public var sequential: TeacherOracleMetrics
}

/// Everything known about a generated file's hidden teacher, written beside the data as
/// `<output without extension>.teacher.json`.
public struct TeacherTruth: Sendable, Equatable, Codable {
    /// Identifies the file kind.
    public var format: String = "compactrec-teacher"
    /// Version of this file's layout.
    public var version: Int = 1
    /// The generator's seed.
    public var seed: UInt64
    /// Rows generated.
    public var rows: Int
    /// Rows per random-stream chunk (part of the seed).
    public var chunkRows: Int
    /// "criteo-kaggle" (40 columns) or "criteo-like" (1 + 13 + fields columns).
    public var layout: String
    /// Columns per line.
    public var columns: Int
    /// Fraction of rows labelled 1.
    public var clickRate: Double
    /// Mean of the true click probabilities.
    public var meanProbability: Double
    /// The click function.
    public var teacher: TeacherFunctionTruth
    /// Dense columns I1..I13.
    public var dense: [TeacherDenseTruth]
    /// Categorical columns C1...
    public var categorical: [TeacherCategoricalTruth]
    /// The oracle's AUC and logloss on each split's test rows.
    public var oracle: TeacherOracle
}

/// What `TeacherGenerator.write(to:progress:)` did: sizes, speed, and the truth it wrote.
public struct TeacherSummary: Sendable, Equatable, Codable {
    /// The data file.
    public var output: String
    /// The truth file beside it.
    public var truthFile: String
    /// Rows written.
    public var rows: Int
    /// Bytes written to the data file.
    public var bytes: Int
    /// Wall-clock seconds of `write`: generating, formatting and writing the rows, the oracle
    /// and the truth file (the teacher is drawn before, in `TeacherGenerator.init`).
    public var seconds: Double
    /// Output megabytes (10^6 bytes) per second of `write`.
    public var megabytesPerSecond: Double
    /// Seconds spent drawing and calibrating the teacher.
    public var teacherSeconds: Double
    /// Worker threads used.
    public var threads: Int
    /// Fraction of rows labelled 1.
    public var clickRate: Double
    /// The oracle on both splits.
    public var oracle: TeacherOracle
    /// The full truth (also in `truthFile`).
    public var truth: TeacherTruth
}

/// One chunk of generated rows with the teacher's probabilities: for tests and for callers that
/// want the data without a file.
public struct TeacherChunk: Sendable {
    /// Index of the chunk's first row in the file.
    public var firstRow: Int
    /// The chunk's lines, exactly as written to the file.
    public var bytes: [UInt8]
    /// The teacher's click probability of each row.
    public var probabilities: [Double]
    /// Each row's label (0 or 1).
    public var labels: [UInt8]
}
