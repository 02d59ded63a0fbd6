#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Why a metric cannot be computed from the given scores and labels.
public enum MetricError: Error, LocalizedError, Sendable, Equatable {
    /// Scores and labels differ in length.
    case countMismatch(scores: Int, labels: Int)
    /// There are no examples.
    case empty
    /// AUC needs both classes; these examples have only one.
    case singleClass(positives: Int, negatives: Int)
    /// A label is not 0 or 1 (AUC), or not in [0, 1] (logloss).
    case invalidLabel(index: Int, value: Double)
    /// A score is NaN, or a probability is outside [0, 1].
    case invalidScore(index: Int, value: Double)

    /// The message shown to the user.
    public var errorDescription: String? {
        switch self {
        case .countMismatch(let scores, let labels):
            "\(scores) scores but \(labels) labels: give one score per label."
        case .empty:
            "no examples to evaluate: the evaluation set is empty."
        case .singleClass(let positives, let negatives):
            "AUC needs both clicks and non-clicks, but there are \(positives) positives and \(negatives) negatives. Evaluate on more rows."
        case .invalidLabel(let index, let value):
            "label \(index) is \(value): labels must be 0 or 1 (in [0, 1] for logloss)."
        case .invalidScore(let index, let value):
            "score \(index) is \(value): scores must be numbers (probabilities in [0, 1])."
        }
    }
}

/// Exact area under the ROC curve: the probability that a random positive example scores higher
/// than a random negative one, with ties counting one half (the Mann-Whitney statistic, i.e.
/// average ranks for tied scores, as scikit-learn's `roc_auc_score`).
///
/// Computed by sorting positives' and negatives' scores separately and merging, with integer
/// counts, so the result is exact and independent of input order: O(n log n).
public enum AUC {
    /// AUC of `scores` against labels 0/1 given as floating-point numbers.
    public static func compute<Scores: Collection, Labels: Collection>(
        scores: Scores, labels: Labels
    ) throws(MetricError) -> Double
    where Scores.Element: BinaryFloatingPoint, Labels.Element: BinaryFloatingPoint {
        guard scores.count == labels.count else {
            throw .countMismatch(scores: scores.count, labels: labels.count)
        }
        var positives: [UInt64] = []
        var negatives: [UInt64] = []
        for (index, (score, label)) in zip(scores, labels).enumerated() {
            let key = try orderKey(Double(score), index: index)
            if label == 1 {
                positives.append(key)
            } else if label == 0 {
                negatives.append(key)
            } else {
                throw .invalidLabel(index: index, value: Double(label))
            }
        }
        return try area(positives: &positives, negatives: &negatives)
    }

    /// AUC of `scores` against labels 0/1 given as integers.
    public static func compute<Scores: Collection, Labels: Collection>(
        scores: Scores, labels: Labels
    ) throws(MetricError) -> Double
    where Scores.Element: BinaryFloatingPoint, Labels.Element: BinaryInteger {
        try compute(scores: scores, labels: labels.lazy.map { Double($0) })
    }

    /// A 64-bit key whose unsigned order is the order of the scores (equal scores, including
    /// -0 and +0, get equal keys).
    @inline(__always)
    static func orderKey(_ score: Double, index: Int) throws(MetricError) -> UInt64 {
        if score.isNaN { throw .invalidScore(index: index, value: score) }
        let bits = (score == 0 ? 0.0 : score).bitPattern
        return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
    }

    /// The area from the two classes' keys (sorted here).
    static func area(positives: inout [UInt64], negatives: inout [UInt64]) throws(MetricError) -> Double {
        if positives.isEmpty && negatives.isEmpty { throw .empty }
        guard !positives.isEmpty, !negatives.isEmpty else {
            throw .singleClass(positives: positives.count, negatives: negatives.count)
        }
        positives.sort()
        negatives.sort()
        // Twice the number of (positive, negative) pairs ordered correctly, ties counting one.
        var twiceWins: UInt64 = 0
        var below = 0  // negatives with a smaller key
        var i = 0
        while i < positives.count {
            let key = positives[i]
            var j = i + 1
            while j < positives.count && positives[j] == key { j += 1 }
            while below < negatives.count && negatives[below] < key { below += 1 }
            var tied = below
            while tied < negatives.count && negatives[tied] == key { tied += 1 }
            twiceWins += UInt64(j - i) * UInt64(2 * below + (tied - below))
            i = j
        }
        return Double(twiceWins) / (2 * Double(positives.count) * Double(negatives.count))
    }
}
