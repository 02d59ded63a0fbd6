import CompactRecData
import Foundation

/// The per-field dimension rules that AutoDim's paper compares against, besides a uniform width
/// (FDE) and its own one-level variant (AD-s).
public enum DimensionBaselines {
    /// MDE (mixed dimension embeddings, Ginart et al. 2021): `d_f` proportional to
    /// `n_f^(-0.3)` (rarer-valued fields get wider rows), scaled so that the tables plus their
    /// projections to `width` spend at most `budget` parameters; each `d_f` in `1...width`.
    public static func mixedDimensions(cardinalities: [Int], width: Int, budget: Int, exponent: Double = -0.3) -> [Int] {
        precondition(width >= 1 && !cardinalities.isEmpty, "mixedDimensions: bad arguments")
        func widths(scale: Double) -> [Int] {
            cardinalities.map { n in min(width, max(1, Int((scale * Foundation.pow(Double(max(n, 1)), exponent)).rounded()))) }
        }
        func cost(_ widths: [Int]) -> Int {
            zip(cardinalities, widths).reduce(0) { $0 + $1.0 * $1.1 + ($1.1 == width ? 0 : $1.1 * width) }
        }
        // The cost grows with the scale: bisect for the largest scale within the budget.
        var low = 0.0
        var high = 1.0
        while cost(widths(scale: high)) <= budget && widths(scale: high).contains(where: { $0 < width }) { high *= 2 }
        for _ in 0..<60 {
            let middle = (low + high) / 2
            if cost(widths(scale: middle)) <= budget { low = middle } else { high = middle }
        }
        return widths(scale: low)
    }

    /// RaS (random search): `trials` draws of one candidate per field, uniformly; trial `t`
    /// uses its own stream of `seed`, so each trial is the same whatever the number of trials.
    public static func randomDimensions(fields: Int, candidates: [Int], trials: Int, seed: UInt64) -> [[Int]] {
        precondition(!candidates.isEmpty && trials >= 0, "randomDimensions: bad arguments")
        return (0..<trials).map { t in
            var random = SeededRandom(seed: seed, stream: 0x7A5 &+ UInt64(t))
            return (0..<fields).map { _ in candidates[Int(random.next() % UInt64(candidates.count))] }
        }
    }

    /// Embedding parameters of fields of `cardinalities` at `widths`, each projected to `width`
    /// where it differs (a Wide & Deep model concatenates instead: pass `projected: false`).
    public static func parameterCount(cardinalities: [Int], widths: [Int], width: Int, projected: Bool = true) -> Int {
        zip(cardinalities, widths).reduce(0) { $0 + $1.0 * $1.1 + (projected && $1.1 != width ? $1.1 * width : 0) }
    }
}
