import CompactRecData

/// Mean, spread and range of a few measurements of one quantity, such as a method's test AUC
/// over training seeds: what a comparison reports when one run per method is too few to tell
/// methods apart.
public struct SampleStatistics: Sendable, Equatable, Codable {
    /// How many values were measured.
    public let count: Int
    /// Their arithmetic mean.
    public let mean: Double
    /// The sample standard deviation (divisor count - 1); 0 for a single value.
    public let standardDeviation: Double
    /// The smallest value.
    public let minimum: Double
    /// The largest value.
    public let maximum: Double

    enum CodingKeys: String, CodingKey {
        case count, mean, minimum, maximum
        case standardDeviation = "standard_deviation"
    }

    /// The statistics of `values`, or nil when there are none.
    public init?(_ values: [Double]) {
        guard let minimum = values.min(), let maximum = values.max() else { return nil }
        count = values.count
        let mean = values.reduce(0, +) / Double(values.count)
        self.mean = mean
        let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        standardDeviation = values.count > 1 ? (squares / Double(values.count - 1)).squareRoot() : 0
        self.minimum = minimum
        self.maximum = maximum
    }
}
