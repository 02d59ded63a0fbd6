/// Which part of a dataset a row belongs to.
public enum SplitPart: Int, Sendable, Codable, CaseIterable {
    /// Rows the model trains on (and the vocabulary is counted on).
    case train = 0
    /// Rows for early stopping and AutoDim's architecture steps.
    case validation = 1
    /// Rows for the reported metrics.
    case test = 2

    /// The name used in files, JSON and reports.
    public var name: String {
        switch self {
        case .train: "train"
        case .validation: "validation"
        case .test: "test"
        }
    }
}

/// How rows are divided into train, validation and test: 80/10/10.
///
/// `random` decides each row independently from the seed and the row's index in the source
/// (so the teacher generator can compute its oracle on exactly the rows `prepare` will put in
/// test); `sequential` keeps source order and takes the last 10% and 10% of rows, as DLRM splits
/// Criteo by day.
public enum DataSplit: Sendable, Equatable, Codable {
    /// Each row independently, from the seed and its data-line index.
    case random(seed: UInt64)
    /// By position: first 80% train, next 10% validation, last 10% test.
    case sequential

    /// Fractions of rows in train and validation; the rest is test.
    public static let trainFraction = 0.8
    /// Fraction of rows in validation.
    public static let validationFraction = 0.1

    /// The part of row `index` under a random split with `seed`.
    @inlinable
    public static func randomPart(row index: UInt64, seed: UInt64) -> SplitPart {
        let u = Double(SplitMix64.mix(SplitMix64.mix(seed ^ 0xA076_1D64_78BD_642F) &+ index) >> 11) * 0x1.0p-53
        if u < trainFraction { return .train }
        if u < trainFraction + validationFraction { return .validation }
        return .test
    }

    /// Row ranges of a sequential split of `rows` rows: train, validation, test in source order.
    public static func sequentialRanges(rows: Int) -> (train: Range<Int>, validation: Range<Int>, test: Range<Int>) {
        let trainEnd = Int((Double(rows) * trainFraction).rounded(.down))
        let validationEnd = Int((Double(rows) * (trainFraction + validationFraction)).rounded(.down))
        return (0..<trainEnd, trainEnd..<validationEnd, validationEnd..<rows)
    }

    /// The part of row `index` out of `rows` in this split.
    public func part(row index: Int, of rows: Int) -> SplitPart {
        switch self {
        case .random(let seed):
            return DataSplit.randomPart(row: UInt64(index), seed: seed)
        case .sequential:
            let ranges = DataSplit.sequentialRanges(rows: rows)
            if ranges.train.contains(index) { return .train }
            if ranges.validation.contains(index) { return .validation }
            return .test
        }
    }
}
