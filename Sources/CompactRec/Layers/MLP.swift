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

    /// An MLP from `inputs` through `hidden` widths to an optional linear `outputs`, with batch
    /// normalisation before each ReLU if `batchNorm`, and dropout of rate `dropout` after it.
    public init(inputs: Int, hidden: [Int], outputs: Int? = nil, batchNorm: Bool = false, dropout: Float = 0,
                name: String = "mlp", random: inout SeededRandom) {
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
    }

    /// The parameters of all layers, in layer order.
    public var parameters: [DenseParameter] { layers.flatMap(\.parameters) }

    /// The running statistics and dropout generators of all layers, in layer order.
    public var states: [any TrainingState] { layers.flatMap(\.trainingStates) }

    /// The input through every layer.
    public func forward(_ input: Matrix, training: Bool) -> Matrix {
        precondition(input.columns == inputs, "MLP expects \(inputs) input columns, got \(input.columns)")
        var activation = input
        for layer in layers { activation = layer.forward(activation, training: training) }
        return activation
    }

    /// The gradient back through every layer, accumulating their parameter gradients.
    public func backward(_ outputGradient: Matrix) -> Matrix {
        var gradient = outputGradient
        for layer in layers.reversed() { gradient = layer.backward(gradient) }
        return gradient
    }
}
