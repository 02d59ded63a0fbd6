import CompactRecData

/// The training loss of every CTR model: the mean binary cross-entropy of a sigmoid over logits.
///
/// Computed from logits in the numerically stable form
/// `max(z, 0) - z * y + log(1 + exp(-|z|))` (the same as `LogLoss`), which is finite for every
/// finite logit and needs no clipping; the sum is in Double. The gradient with respect to the
/// logits is `(sigmoid(z) - y) / batch`, with a sigmoid that never overflows. Labels may be soft
/// (in [0, 1]).
public final class SigmoidCrossEntropy {
    private var gradientBuffer = Matrix(rows: 0, columns: 1)

    /// A loss with its own (reused) gradient buffer.
    public init() {}

    /// The mean loss of `logits` (`batch x 1`, batch at least 1) against `labels` (one per row).
    public func loss(logits: Matrix, labels: [Float]) -> Float {
        checkShapes(logits, labels)
        var sum = 0.0
        for r in 0..<logits.rows {
            sum += LogLoss.term(logit: Double(logits[r, 0]), label: Double(labels[r]))
        }
        return Float(sum / Double(logits.rows))
    }

    /// dLoss/dLogits, `(sigmoid(z) - y) / batch` (`batch x 1`; the buffer is reused by the next
    /// call).
    public func gradient(logits: Matrix, labels: [Float]) -> Matrix {
        checkShapes(logits, labels)
        gradientBuffer.resize(rows: logits.rows)
        let inverseBatch = 1 / Double(logits.rows)
        for r in 0..<logits.rows {
            gradientBuffer[r, 0] = Float((SigmoidCrossEntropy.sigmoid(Double(logits[r, 0])) - Double(labels[r])) * inverseBatch)
        }
        return gradientBuffer
    }

    /// `1 / (1 + exp(-z))`, evaluated through `exp(-|z|)` so it never overflows.
    public static func sigmoid(_ z: Double) -> Double {
        let e = _exp(-abs(z))
        return z >= 0 ? 1 / (1 + e) : e / (1 + e)
    }

    private func checkShapes(_ logits: Matrix, _ labels: [Float]) {
        precondition(logits.columns == 1, "SigmoidCrossEntropy expects one logit per row, got \(logits.columns) columns")
        precondition(logits.rows == labels.count, "SigmoidCrossEntropy: \(logits.rows) logits but \(labels.count) labels")
        precondition(logits.rows > 0, "SigmoidCrossEntropy: empty batch")
    }
}
