import CompactRecData

/// Inverted dropout (Srivastava et al., 2014): in training each value is zeroed with probability
/// `rate` and the survivors are scaled by `1 / (1 - rate)`, so inference is the identity and needs
/// no rescaling.
///
/// Masks are deterministic: each training forward takes one 64-bit seed from a `SeededRandom`
/// stream started at `seed`, and row `r` of the mask draws from `SeededRandom(seed:stream: r)`,
/// so the same seed and batch sizes give the same masks for any thread count. The drop
/// probability is `rate` rounded to a multiple of 2^-16.
public final class Dropout: Layer {
    /// Probability of zeroing a value, in [0, 1).
    public let rate: Float
    /// Cores the mask loop may use.
    public var threads = 1

    fileprivate var random: SeededRandom
    private var mask = Matrix(rows: 0, columns: 0)
    private var output = Matrix(rows: 0, columns: 0)
    private var inputGradient = Matrix(rows: 0, columns: 0)
    /// Whether the last forward applied `mask` (training with a positive rate).
    private var masked = false
    /// Testing hook: when set, a training forward reuses the last mask (same shape) instead of
    /// drawing a new one, which makes the layer a fixed function for finite differences.
    var reusesMask = false

    /// Dropout of `rate` whose masks come from `seed`.
    public init(rate: Float, seed: UInt64) {
        precondition(rate >= 0 && rate < 1, "Dropout rate \(rate) is not in [0, 1)")
        self.rate = rate
        random = SeededRandom(seed: seed)
    }

    /// None: dropout has no weights.
    public var parameters: [DenseParameter] { [] }

    /// The input with a fresh mask applied (training), or the input itself (inference, or rate 0).
    public func forward(_ input: Matrix, training: Bool) -> Matrix {
        guard training, rate > 0 else {
            masked = false
            return input
        }
        if mask.columns != input.columns {
            mask = Matrix(rows: 0, columns: input.columns)
            output = Matrix(rows: input.rows, columns: input.columns)
            inputGradient = Matrix(rows: 0, columns: input.columns)
            masked = false
        }
        if reusesMask && masked && mask.rows == input.rows {
            Elementwise.multiply(input, mask, into: &output, threads: threads)
        } else {
            Elementwise.dropout(input, rate: rate, seed: random.next(), mask: &mask, output: &output, threads: threads)
        }
        masked = true
        return output
    }

    /// The gradient through the last mask (or unchanged after an unmasked forward).
    public func backward(_ outputGradient: Matrix) -> Matrix {
        guard masked else { return outputGradient }
        Elementwise.multiply(outputGradient, mask, into: &inputGradient, threads: threads)
        return inputGradient
    }
}

extension Dropout: TrainingState {
    /// The mask generator's state.
    public var stateWords: [UInt64] { random.state }

    /// Restores the mask generator.
    public func restoreState(_ words: [UInt64]) -> Bool {
        guard let restored = SeededRandom(state: words) else { return false }
        random = restored
        return true
    }
}
