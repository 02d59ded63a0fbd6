import CompactRecData

/// The rectifier `max(x, 0)`, the hidden activation of the MLPs.
///
/// Backward passes the gradient where the output is positive (exactly where the input was), so
/// the layer keeps nothing but its own output; the gradient at `x = 0` is taken as 0, as PyTorch
/// does.
public final class ReLU: Layer {
    /// Cores the loops may use.
    public var threads = 1

    private var output = Matrix(rows: 0, columns: 0)
    private var inputGradient = Matrix(rows: 0, columns: 0)

    /// A ReLU for inputs of any width (its buffers take the width of the first input).
    public init() {}

    /// None: ReLU has no weights.
    public var parameters: [DenseParameter] { [] }

    /// `max(input, 0)`.
    public func forward(_ input: Matrix, training: Bool) -> Matrix {
        if output.columns != input.columns {
            output = Matrix(rows: input.rows, columns: input.columns)
            inputGradient = Matrix(rows: 0, columns: input.columns)
        }
        Elementwise.relu(input, into: &output, threads: threads)
        return output
    }

    /// The gradient where the last output was positive, 0 elsewhere.
    public func backward(_ outputGradient: Matrix) -> Matrix {
        precondition(
            outputGradient.rows == output.rows && outputGradient.columns == output.columns,
            "ReLU.backward expects a \(output.rows)x\(output.columns) gradient, got \(outputGradient.rows)x\(outputGradient.columns)")
        Elementwise.reluBackward(output: output, outputGradient: outputGradient, into: &inputGradient, threads: threads)
        return inputGradient
    }
}
