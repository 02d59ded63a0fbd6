/// Mean binary cross-entropy (logloss), the training loss and the second evaluation metric of
/// CTR models.
///
/// From probabilities, each probability is clipped to `[epsilon, 1 - epsilon]` (as Kaggle and
/// scikit-learn do) so a confident mistake costs a large but finite amount. From logits, the
/// numerically stable form `max(z, 0) - z * y + log(1 + exp(-|z|))` is used, which never
/// overflows and needs no clipping. Sums are in Double. Labels may be soft (in [0, 1]).
public enum LogLoss {
    /// Probabilities are clipped to `[epsilon, 1 - epsilon]`.
    public static let epsilon = 1e-7

    /// The loss of one probability `p` for label `y`.
    @inlinable
    public static func term(probability p: Double, label y: Double) -> Double {
        let clipped = min(max(p, epsilon), 1 - epsilon)
        return -(y * _log(clipped) + (1 - y) * _log(1 - clipped))
    }

    /// The loss of one logit `z` for label `y`, without overflow for any finite `z`.
    @inlinable
    public static func term(logit z: Double, label y: Double) -> Double {
        max(z, 0) - z * y + _log1p(_exp(-abs(z)))
    }

    /// Mean logloss of probabilities against labels given as floating-point numbers.
    public static func fromProbabilities<Probabilities: Collection, Labels: Collection>(
        _ probabilities: Probabilities, labels: Labels
    ) throws(MetricError) -> Double
    where Probabilities.Element: BinaryFloatingPoint, Labels.Element: BinaryFloatingPoint {
        try mean(probabilities, labels.lazy.map { Double($0) }, logits: false)
    }

    /// Mean logloss of probabilities against labels 0/1 given as integers.
    public static func fromProbabilities<Probabilities: Collection, Labels: Collection>(
        _ probabilities: Probabilities, labels: Labels
    ) throws(MetricError) -> Double
    where Probabilities.Element: BinaryFloatingPoint, Labels.Element: BinaryInteger {
        try mean(probabilities, labels.lazy.map { Double($0) }, logits: false)
    }

    /// Mean logloss of logits (scores before the sigmoid) against labels given as floating-point
    /// numbers.
    public static func fromLogits<Logits: Collection, Labels: Collection>(
        _ logits: Logits, labels: Labels
    ) throws(MetricError) -> Double
    where Logits.Element: BinaryFloatingPoint, Labels.Element: BinaryFloatingPoint {
        try mean(logits, labels.lazy.map { Double($0) }, logits: true)
    }

    /// Mean logloss of logits against labels 0/1 given as integers.
    public static func fromLogits<Logits: Collection, Labels: Collection>(
        _ logits: Logits, labels: Labels
    ) throws(MetricError) -> Double
    where Logits.Element: BinaryFloatingPoint, Labels.Element: BinaryInteger {
        try mean(logits, labels.lazy.map { Double($0) }, logits: true)
    }

    private static func mean<Scores: Collection, Labels: Collection>(
        _ scores: Scores, _ labels: Labels, logits: Bool
    ) throws(MetricError) -> Double where Scores.Element: BinaryFloatingPoint, Labels.Element == Double {
        guard scores.count == labels.count else {
            throw .countMismatch(scores: scores.count, labels: labels.count)
        }
        guard !scores.isEmpty else { throw .empty }
        var sum = 0.0
        for (index, (score, label)) in zip(scores, labels).enumerated() {
            guard label >= 0 && label <= 1 else { throw .invalidLabel(index: index, value: label) }
            let s = Double(score)
            if logits {
                guard !s.isNaN else { throw .invalidScore(index: index, value: s) }
                sum += term(logit: s, label: label)
            } else {
                guard s >= 0 && s <= 1 else { throw .invalidScore(index: index, value: s) }
                sum += term(probability: s, label: label)
            }
        }
        return sum / Double(scores.count)
    }
}
