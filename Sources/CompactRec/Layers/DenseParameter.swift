import CompactRecData

/// A dense learnable tensor and its gradient: the unit optimizers update and checkpoints save.
///
/// A reference type so a layer, its model and the optimizer all see the same weights without
/// copying. Backward passes *accumulate* into `gradient` (`+=`), so a loss that sums several
/// terms (or a parameter shared by two layers) needs no special care; the trainer calls
/// `zeroGradient()` once per step. `gradient` always has the shape of `value`: replace `value`
/// only with a matrix of the same shape.
public final class DenseParameter {
    /// A stable, unique name within the model (e.g. `"mlp.0.weight"`), used by checkpoints,
    /// exports and per-parameter optimizer state.
    public let name: String
    /// The current weights.
    public var value: Matrix
    /// dLoss/dvalue accumulated since the last `zeroGradient()`; same shape as `value`.
    public var gradient: Matrix
    /// Whether backward passes accumulate into `gradient` (true by default). Off for a pass
    /// that needs only other gradients (AutoDim's architecture step), so that layers skip the
    /// work, as PyTorch's `requires_grad`.
    public var requiresGradient = true

    /// A parameter holding `value`, with a zero gradient.
    public init(name: String, value: Matrix) {
        self.name = name
        self.value = value
        gradient = Matrix(rows: value.rows, columns: value.columns)
    }

    /// Number of scalars (for parameter counts and model sizes).
    public var count: Int { value.count }

    /// Sets the gradient to zero, before a new step accumulates into it.
    public func zeroGradient() {
        gradient.fill(0)
    }
}
