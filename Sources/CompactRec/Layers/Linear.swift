import CompactRecData

/// A fully connected layer, `Y = X W + b`: the dense layer of every MLP.
///
/// `W` is stored `inputs x outputs`, so the forward pass is one GEMM without transposes and the
/// backward pass is `dX = dY W^T`, `dW += X^T dY`, `db += column sums of dY`.
///
/// Initialisation: `W` is Xavier/Glorot uniform, `U(-a, a)` with `a = sqrt(6 / (inputs + outputs))`,
/// which keeps activation and gradient variances about equal across layers (the default of
/// TensorFlow/Keras dense layers, which most CTR reference implementations use); the bias starts
/// at 0.
public final class Linear: Layer {
    /// Input width.
    public let inputs: Int
    /// Output width.
    public let outputs: Int
    /// The weights, `inputs x outputs`.
    public let weight: DenseParameter
    /// The bias, `1 x outputs`; nil for a layer made with `bias: false`.
    public let bias: DenseParameter?
    /// Cores the GEMMs and the bias add may use.
    public var threads = 1

    private var output: Matrix
    private var inputGradient: Matrix
    /// The input of the last training forward, held (not copied) until `backward`.
    private var cachedInput: Matrix?

    /// A layer from `inputs` to `outputs` features, with Xavier-uniform weights drawn from
    /// `random` and, if `bias`, a zero bias. Parameters are named `"<name>.weight"` and
    /// `"<name>.bias"`.
    public init(inputs: Int, outputs: Int, bias: Bool = true, name: String = "linear", random: inout SeededRandom) {
        precondition(inputs > 0 && outputs > 0, "Linear needs positive widths, got \(inputs) -> \(outputs)")
        self.inputs = inputs
        self.outputs = outputs
        let limit = (6 / Float(inputs + outputs)).squareRoot()
        weight = DenseParameter(
            name: name + ".weight",
            value: .uniform(rows: inputs, columns: outputs, limit: limit, random: &random))
        self.bias = bias ? DenseParameter(name: name + ".bias", value: Matrix(rows: 1, columns: outputs)) : nil
        output = Matrix(rows: 0, columns: outputs)
        inputGradient = Matrix(rows: 0, columns: inputs)
    }

    /// The weight, then the bias if there is one.
    public var parameters: [DenseParameter] {
        if let bias { return [weight, bias] }
        return [weight]
    }

    /// `X W + b` for a `batch x inputs` matrix.
    public func forward(_ input: Matrix, training: Bool) -> Matrix {
        forward(input, training: training, applyingReLU: false)
    }

    /// `X W + b`, or with `applyingReLU` `max(X W + b, 0)`: a Linear layer and the ReLU after it
    /// in one pass (the ReLU is applied as the product writes each tile). `MLP` fuses its
    /// `Linear -> ReLU -> Linear` steps this way; the next layer's
    /// `backward(_:maskingByPositiveInput: true)` then does the ReLU's backward pass.
    public func forward(_ input: Matrix, training: Bool, applyingReLU: Bool) -> Matrix {
        precondition(input.columns == inputs, "Linear expects \(inputs) input columns, got \(input.columns)")
        output.resize(rows: input.rows)
        // The bias (and the ReLU) are applied as GEMM writes each tile (no second pass over the output).
        GEMM.multiply(
            input, weight.value, into: &output, adding: bias?.value, epilogue: applyingReLU ? .relu : .none,
            threads: threads)
        cachedInput = training ? input : nil
        return output
    }

    /// `dX = dY W^T`; adds `X^T dY` to the weight gradient and the column sums of `dY` to the
    /// bias gradient (summed as the product packs `dY`, so `dY` is read once for both).
    public func backward(_ outputGradient: Matrix) -> Matrix {
        backward(outputGradient, maskingByPositiveInput: false)
    }

    /// `dX = dY W^T`, and with `maskingByPositiveInput` zero wherever the input `X` was not
    /// positive: when `X` is a ReLU's output, that is the gradient of the ReLU's input, so the
    /// ReLU's backward pass costs no pass of its own. Accumulates the parameter gradients.
    public func backward(_ outputGradient: Matrix, maskingByPositiveInput: Bool) -> Matrix {
        let input = takeCachedInput(checking: outputGradient)
        inputGradient.resize(rows: input.rows)
        GEMM.multiply(
            outputGradient, weight.value, transposeB: true, into: &inputGradient,
            epilogue: maskingByPositiveInput ? .positiveMask(input) : .none, threads: threads)
        accumulateParameterGradients(input: input, outputGradient: outputGradient)
        return inputGradient
    }

    /// Accumulates the parameter gradients without computing `dX`: for a first layer, whose
    /// input (the data) needs no gradient.
    public func accumulateParameterGradients(_ outputGradient: Matrix) {
        let input = takeCachedInput(checking: outputGradient)
        accumulateParameterGradients(input: input, outputGradient: outputGradient)
    }

    /// The input of the last training forward, released (see `Layer`), after checking the
    /// gradient's shape against it.
    private func takeCachedInput(checking outputGradient: Matrix) -> Matrix {
        guard let input = cachedInput else {
            preconditionFailure("Linear.backward needs a preceding forward(_:training: true)")
        }
        cachedInput = nil
        precondition(
            outputGradient.rows == input.rows && outputGradient.columns == outputs,
            "Linear.backward expects a \(input.rows)x\(outputs) gradient, got \(outputGradient.rows)x\(outputGradient.columns)")
        return input
    }

    /// `dW += X^T dY`, `db += column sums of dY` (each only if its parameter requires it).
    private func accumulateParameterGradients(input: Matrix, outputGradient: Matrix) {
        switch (weight.requiresGradient, bias?.requiresGradient ?? false) {
        case (true, true):
            if let bias {
                GEMM.multiply(
                    input, transposeA: true, outputGradient, into: &weight.gradient, beta: 1,
                    addingColumnSumsOfBTo: &bias.gradient, threads: threads)
            }
        case (true, false):
            GEMM.multiply(input, transposeA: true, outputGradient, into: &weight.gradient, beta: 1, threads: threads)
        case (false, true):
            if let bias { Elementwise.columnSums(outputGradient, into: &bias.gradient, accumulate: true, threads: threads) }
        case (false, false):
            break
        }
    }

    /// Drops the input kept by the last training forward when no backward pass will follow
    /// (so that the layer before may overwrite that buffer in place).
    public func releaseCachedInput() {
        cachedInput = nil
    }
}
