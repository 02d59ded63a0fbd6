/// How raw dense values become model inputs at prepare time (and identically at prediction).
public enum DenseTransform: String, Sendable, Codable, CaseIterable {
    /// `log(1 + max(x, 0))`: the usual transform for Criteo's heavy-tailed counts.
    case log1p
    /// The raw value.
    case none

    /// `log1p(x)` for x = 0, 1, ..., 4095, computed once with the same function as `apply`.
    static let log1pOfSmallIntegers: [Float] = (0..<4096).map { _log1p(Float($0)) }

    /// The transformed value; a missing (NaN) value becomes `missingValue`.
    @inline(__always)
    public func apply(_ x: Float, missingValue: Float = 0) -> Float {
        if x.isNaN { return missingValue }
        switch self {
        case .log1p: return _log1p(max(x, 0))
        case .none: return x
        }
    }
}
