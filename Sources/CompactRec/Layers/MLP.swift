import CompactRecData

/// A multilayer perceptron: for each hidden width, `Linear -> [BatchNorm] -> ReLU -> [Dropout]`,
/// then an optional final `Linear` to `outputs` with no activation (logits, or DLRM's bottom
/// vector).
///
/// The deep part of Wide&Deep and DeepFM and both MLPs of DLRM. Layers are named like the entries
/// of a PyTorch `Sequential`: the parameters of layer `i` are `"<name>.<i>.weight"`,
/// `"<name>.<i>.bias"`, `"<name>.<i>.gamma"`, `"<name>.<i>.beta"`. Dropout layers (present only
/// when `dropout > 0`) take their seeds from `random`, after the weights of the layers before
/// them.
///
/// Without batch normalisation and dropout, each ReLU followed by another `Linear` is fused
/// into the layers around it: the `Linear` before applies it as its product writes the output,
/// and the `Linear` after masks its input gradient with it (see `Linear`). The values are the
/// same bits as running the layers one by one, with two fewer passes over a batch-sized matrix
/// per hidden layer.
///
/// With `batchNorm`, the hidden `Linear` layers have no bias: batch normalisation subtracts the
/// batch mean, so a bias before it has no effect on the output and a zero gradient (its `beta`
/// is the shift), and an adaptive optimizer would only chase rounding noise in it.
public final class MLP: Layer {
    /// Input width.
    public let inputs: Int
    /// Output width: `outputs` if given, else the last hidden width (else `inputs`).
    public let outputs: Int
    /// The layers in order.
    public let layers: [any Layer]
    /// Cores every layer may use; setting it sets it on all layers.
    public var threads: Int = 1 {
        didSet { for layer in layers { layer.threads = threads } }
    }
    /// The layers as run: a `Linear` with its ReLU fused where possible, other layers as they are.
    private let steps: [Step]

    /// One step of the forward pass.
    private enum Step {
        /// A Linear layer; `appliesReLU`: the ReLU after it is fused in; `inputIsReLUOutput`: the
        /// step before is a fused ReLU, whose backward pass this layer's input gradient does.
        case linear(Linear, appliesReLU: Bool, inputIsReLUOutput: Bool)
        /// Any other layer, run through `Layer`.
        case layer(any Layer)
    }

    /// An MLP from `inputs` through `hidden` widths to an optional linear `outputs`, with batch
    /// normalisation before each ReLU if `batchNorm`, and dropout of rate `dropout` after it.
    public init(
        inputs: Int, hidden: [Int], outputs: Int? = nil, batchNorm: Bool = false, dropout: Float = 0,
        name: String = "mlp", random: inout SeededRandom
    ) {
        precondition(inputs > 0, "MLP needs a positive input width")
        precondition(hidden.allSatisfy { $0 > 0 } && (outputs ?? 1) > 0, "MLP widths must be positive")
        precondition(dropout >= 0 && dropout < 1, "MLP dropout \(dropout) is not in [0, 1)")
        var layers: [any Layer] = []
        var width = inputs
        for units in hidden {
            layers.append(Linear(inputs: width, outputs: units, bias: !batchNorm, name: "\(name).\(layers.count)", random: &random))
            if batchNorm { layers.append(BatchNorm(features: units, name: "\(name).\(layers.count)")) }
            layers.append(ReLU())
            if dropout > 0 { layers.append(Dropout(rate: dropout, seed: random.next())) }
            width = units
        }
        if let outputs {
            layers.append(Linear(inputs: width, outputs: outputs, name: "\(name).\(layers.count)", random: &random))
            width = outputs
        }
        self.inputs = inputs
        self.outputs = width
        self.layers = layers
        steps = MLP.steps(of: layers)
    }

    /// The steps that run `layers`: `Linear, ReLU` followed by a `Linear` becomes one fused step.
    private static func steps(of layers: [any Layer]) -> [Step] {
        var steps: [Step] = []
        var index = 0
        var previousAppliedReLU = false
        while index < layers.count {
            if let linear = layers[index] as? Linear {
                let fuses = index + 2 < layers.count && layers[index + 1] is ReLU && layers[index + 2] is Linear
                steps.append(.linear(linear, appliesReLU: fuses, inputIsReLUOutput: previousAppliedReLU))
                previousAppliedReLU = fuses
                index += fuses ? 2 : 1
            } else {
                steps.append(.layer(layers[index]))
                previousAppliedReLU = false
                index += 1
            }
        }
        return steps
    }

    /// The parameters of all layers, in layer order.
    public var parameters: [DenseParameter] { layers.flatMap(\.parameters) }

    /// The running statistics and dropout generators of all layers, in layer order.
    public var states: [any TrainingState] { layers.flatMap(\.trainingStates) }

    /// The input through every layer.
    public func forward(_ input: Matrix, training: Bool) -> Matrix {
        precondition(input.columns == inputs, "MLP expects \(inputs) input columns, got \(input.columns)")
        var activation = input
        for step in steps {
            switch step {
            case .linear(let linear, let appliesReLU, _):
                activation = linear.forward(activation, training: training, applyingReLU: appliesReLU)
            case .layer(let layer):
                activation = layer.forward(activation, training: training)
            }
        }
        return activation
    }

    /// The gradient back through every layer, accumulating their parameter gradients.
    public func backward(_ outputGradient: Matrix) -> Matrix {
        var gradient = outputGradient
        for step in steps.reversed() { gradient = backward(step, gradient) }
        return gradient
    }

    /// Accumulates the parameter gradients of every layer without computing dLoss/dInput: for
    /// an MLP on the data (DLRM's bottom MLP), whose input needs no gradient. Saves the first
    /// layer's `dY W^T`.
    public func accumulateParameterGradients(_ outputGradient: Matrix) {
        var gradient = outputGradient
        for (index, step) in steps.enumerated().reversed() {
            if index == 0, case .linear(let linear, _, _) = step {
                linear.accumulateParameterGradients(gradient)
            } else {
                gradient = backward(step, gradient)
            }
        }
    }

    /// One step's backward pass.
    private func backward(_ step: Step, _ gradient: Matrix) -> Matrix {
        switch step {
        case .linear(let linear, _, let inputIsReLUOutput):
            return linear.backward(gradient, maskingByPositiveInput: inputIsReLUOutput)
        case .layer(let layer):
            return layer.backward(gradient)
        }
    }
}
