import CompactRecData

/// The linear part of LR, FM, Wide & Deep and DeepFM: a bias, one weight per category value
/// (a width-1 embedding, sparse-updated) and one weight per dense field.
public final class FirstOrderTerm {
    /// Width-1 tables, one per field.
    public let weights: FullEmbedding
    /// Dense fields' weights and the bias (nil without dense fields: then `bias` alone).
    public let denseLinear: Linear?
    /// The bias when there are no dense fields.
    public let bias: DenseParameter?
    private var output = Matrix(rows: 0, columns: 1)
    private var fieldGradient = Matrix(rows: 0, columns: 0)

    /// A first-order term for fields of `cardinalities` and `denseCount` dense values.
    public init(cardinalities: [Int], names: [String], categoricalCount: Int, denseCount: Int, random: inout SeededRandom) {
        weights = FullEmbedding(
            cardinalities: cardinalities, dimensions: cardinalities.map { _ in 1 },
            categoricalCount: categoricalCount, names: names.map(ParameterPath.firstOrder),
            standardDeviation: 0, random: &random)
        if denseCount > 0 {
            denseLinear = Linear(inputs: denseCount, outputs: 1, bias: true, name: "linear.dense", random: &random)
            bias = nil
        } else {
            denseLinear = nil
            bias = DenseParameter(name: "linear.bias", value: Matrix(rows: 1, columns: 1))
        }
        fieldGradient = Matrix(rows: 0, columns: cardinalities.count)
    }

    /// Sets the kernel threads of the dense layer and of the weight gather and scatter.
    public func useThreads(_ threads: Int) {
        denseLinear?.threads = threads
        weights.threads = threads
    }

    /// The dense weights and the bias.
    public var parameters: [DenseParameter] { denseLinear?.parameters ?? bias.map { [$0] } ?? [] }

    /// bias + sum of the rows' value weights + dense . w, batch x 1.
    public func forward(_ batch: Batch, training: Bool) -> Matrix {
        let perField = weights.forward(batch, training: training)
        let dense = denseLinear?.forward(batch.dense, training: training)
        let constant = bias?.value[0, 0] ?? 0
        output.resize(rows: batch.size)
        let fields = perField.columns
        for b in 0..<batch.size {
            var sum = dense?[b, 0] ?? constant
            for f in 0..<fields { sum += perField[b, f] }
            output[b, 0] = sum
        }
        return output
    }

    /// Accumulates gradients from dLoss/dOutput (batch x 1).
    public func backward(_ outputGradient: Matrix, batch: Batch) {
        fieldGradient.resize(rows: batch.size)
        for b in 0..<batch.size {
            for f in 0..<fieldGradient.columns { fieldGradient[b, f] = outputGradient[b, 0] }
        }
        weights.backward(fieldGradient, batch: batch)
        if let denseLinear {
            _ = denseLinear.backward(outputGradient)
        } else if let bias {
            var sum: Float = 0
            for b in 0..<batch.size { sum += outputGradient[b, 0] }
            bias.gradient[0, 0] += sum
        }
    }
}
