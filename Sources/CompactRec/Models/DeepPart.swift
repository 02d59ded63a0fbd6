import CompactRecData

/// The deep half of DeepFM and Wide & Deep: an MLP to one logit over the field vectors
/// concatenated with the dense values.
public final class DeepPart {
    /// The MLP (hidden widths from the configuration, then width 1).
    public let mlp: MLP
    private let embeddingWidth: Int
    private var input = Matrix(rows: 0, columns: 0)
    private var embeddingGradient = Matrix(rows: 0, columns: 0)

    /// A deep part over `embeddingWidth` embedding values and `denseCount` dense values.
    public init(embeddingWidth: Int, denseCount: Int, configuration: ModelConfiguration, random: inout SeededRandom) {
        let inputs = embeddingWidth + denseCount
        mlp = MLP(
            inputs: inputs, hidden: configuration.mlp, outputs: 1, batchNorm: configuration.batchNorm,
            dropout: configuration.dropout, random: &random)
        self.embeddingWidth = embeddingWidth
        input = Matrix(rows: 0, columns: inputs)
        embeddingGradient = Matrix(rows: 0, columns: embeddingWidth)
    }

    /// Sets the MLP's kernel threads.
    public func useThreads(_ threads: Int) { mlp.threads = threads }

    /// The MLP's parameters.
    public var parameters: [DenseParameter] { mlp.parameters }

    /// The deep logit, batch x 1.
    public func forward(vectors: Matrix, dense: Matrix, training: Bool) -> Matrix {
        input.resize(rows: vectors.rows)
        input.setColumns(0, from: vectors)
        input.setColumns(embeddingWidth, from: dense)
        return mlp.forward(input, training: training)
    }

    /// The gradient with respect to the field vectors (the dense values are data: their
    /// gradient is dropped).
    public func backward(_ logitGradient: Matrix) -> Matrix {
        mlp.backward(logitGradient).copyColumns(0, into: &embeddingGradient)
        return embeddingGradient
    }
}
