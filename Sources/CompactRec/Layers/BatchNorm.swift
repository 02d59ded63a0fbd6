import CompactRecData

/// Batch normalisation over the samples of a batch, per feature (Ioffe and Szegedy, 2015), as
/// PyTorch's `BatchNorm1d` computes it.
///
/// Training: `y = gamma * (x - mean) / sqrt(var + epsilon) + beta` with the batch's mean and
/// *biased* variance (divided by the batch size), and the running statistics move towards the
/// batch's: `running = (1 - momentum) * running + momentum * batch`, where the running variance
/// takes the *unbiased* batch variance (divided by batch size - 1), as PyTorch does. A batch of
/// one sample has no unbiased variance: it updates the running mean only (its output is `beta`).
/// Inference: the running statistics replace the batch's (they start at mean 0, variance 1).
///
/// With `affine: false` there is no `gamma` and `beta` (AutoDim normalises embeddings of different
/// widths without learning a rescale). The backward pass is the exact derivative through the
/// batch statistics:
/// `dx = gamma / sigma * (dy - mean(dy) - xhat * mean(dy * xhat))`,
/// `dgamma += sum(dy * xhat)`, `dbeta += sum(dy)`.
public final class BatchNorm: Layer {
    /// The layer's name: its parameters are `"<name>.gamma"` and `"<name>.beta"`.
    public let name: String
    /// Number of features (columns) normalised.
    public let features: Int
    /// Weight of the newest batch in the running statistics (0.1 as in PyTorch).
    public let momentum: Float
    /// Added to the variance before the square root, so a constant feature does not divide by 0.
    public let epsilon: Float
    /// The learnable scale `gamma` (`1 x features`, starts at 1); nil when not affine.
    public let gamma: DenseParameter?
    /// The learnable shift `beta` (`1 x features`, starts at 0); nil when not affine.
    public let beta: DenseParameter?
    /// Running mean per feature (`1 x features`), used in inference; saved with the model.
    public var runningMean: Matrix
    /// Running (unbiased) variance per feature (`1 x features`), used in inference; saved with
    /// the model.
    public var runningVariance: Matrix
    /// Cores the row loops may use.
    public var threads = 1

    private var output: Matrix
    private var inputGradient: Matrix
    /// Batch statistics of the last training forward, and per-feature workspaces.
    private var batchMean: Matrix
    private var batchVariance: Matrix
    private var inverseStandardDeviation: Matrix
    private var scale: Matrix
    private var sumGradient: Matrix
    private var sumGradientNormalized: Matrix
    /// The input of the last training forward, held (not copied) until `backward`.
    private var cachedInput: Matrix?

    /// Normalisation of `features` columns; with `affine`, learnable `"<name>.gamma"` and
    /// `"<name>.beta"`.
    public init(features: Int, affine: Bool = true, momentum: Float = 0.1, epsilon: Float = 1e-5, name: String = "batchnorm") {
        precondition(features > 0, "BatchNorm needs at least one feature")
        precondition(momentum >= 0 && momentum <= 1, "BatchNorm momentum \(momentum) is not in [0, 1]")
        precondition(epsilon > 0, "BatchNorm epsilon must be positive")
        self.name = name
        self.features = features
        self.momentum = momentum
        self.epsilon = epsilon
        gamma = affine ? DenseParameter(name: name + ".gamma", value: Matrix(rows: 1, columns: features, repeating: 1)) : nil
        beta = affine ? DenseParameter(name: name + ".beta", value: Matrix(rows: 1, columns: features)) : nil
        runningMean = Matrix(rows: 1, columns: features)
        runningVariance = Matrix(rows: 1, columns: features, repeating: 1)
        output = Matrix(rows: 0, columns: features)
        inputGradient = Matrix(rows: 0, columns: features)
        batchMean = Matrix(rows: 1, columns: features)
        batchVariance = Matrix(rows: 1, columns: features)
        inverseStandardDeviation = Matrix(rows: 1, columns: features)
        scale = Matrix(rows: 1, columns: features)
        sumGradient = Matrix(rows: 1, columns: features)
        sumGradientNormalized = Matrix(rows: 1, columns: features)
    }

    /// Whether the layer learns `gamma` and `beta`.
    public var affine: Bool { gamma != nil }

    /// `gamma` and `beta` when affine, else none.
    public var parameters: [DenseParameter] {
        if let gamma, let beta { return [gamma, beta] }
        return []
    }

    /// Normalises with the batch's statistics (training; needs at least one row) or the running
    /// ones (inference).
    public func forward(_ input: Matrix, training: Bool) -> Matrix {
        precondition(input.columns == features, "BatchNorm expects \(features) columns, got \(input.columns)")
        if training {
            precondition(input.rows > 0, "BatchNorm cannot normalise an empty batch in training")
            Elementwise.columnMeanAndVariance(input, mean: &batchMean, variance: &batchVariance)
            let rows = Float(input.rows)
            let keep = 1 - momentum
            for c in 0..<features {
                let variance = batchVariance[0, c]
                let inverse = 1 / (variance + epsilon).squareRoot()
                inverseStandardDeviation[0, c] = inverse
                scale[0, c] = inverse * (gamma?.value[0, c] ?? 1)
                runningMean[0, c] = keep * runningMean[0, c] + momentum * batchMean[0, c]
                if input.rows > 1 {
                    runningVariance[0, c] = keep * runningVariance[0, c] + momentum * variance * rows / (rows - 1)
                }
            }
            Elementwise.normalizeColumns(input, center: batchMean, scale: scale, shift: beta?.value, into: &output, threads: threads)
            cachedInput = input
        } else {
            for c in 0..<features {
                scale[0, c] = (gamma?.value[0, c] ?? 1) / (runningVariance[0, c] + epsilon).squareRoot()
            }
            Elementwise.normalizeColumns(input, center: runningMean, scale: scale, shift: beta?.value, into: &output, threads: threads)
            cachedInput = nil
        }
        return output
    }

    /// The exact gradient through the batch statistics of the last training forward.
    public func backward(_ outputGradient: Matrix) -> Matrix {
        guard let input = cachedInput else {
            preconditionFailure("BatchNorm.backward needs a preceding forward(_:training: true)")
        }
        cachedInput = nil
        precondition(
            outputGradient.rows == input.rows && outputGradient.columns == features,
            "BatchNorm.backward expects a \(input.rows)x\(features) gradient, got \(outputGradient.rows)x\(outputGradient.columns)")
        Elementwise.batchNormGradientSums(
            input: input, mean: batchMean, inverseStandardDeviation: inverseStandardDeviation,
            outputGradient: outputGradient, sumGradient: &sumGradient,
            sumGradientNormalized: &sumGradientNormalized)
        if let gamma, let beta {
            for c in 0..<features {
                gamma.gradient[0, c] += sumGradientNormalized[0, c]
                beta.gradient[0, c] += sumGradient[0, c]
            }
        }
        // Reuse the per-feature workspaces: scale already holds gamma / sigma (the gain); the
        // two sums become means.
        let inverseRows = 1 / Float(input.rows)
        for c in 0..<features {
            sumGradient[0, c] *= inverseRows
            sumGradientNormalized[0, c] *= inverseRows
        }
        Elementwise.batchNormInputGradient(
            input: input, outputGradient: outputGradient, mean: batchMean,
            inverseStandardDeviation: inverseStandardDeviation, gain: scale,
            meanGradient: sumGradient, meanGradientNormalized: sumGradientNormalized,
            into: &inputGradient, threads: threads)
        return inputGradient
    }
}

extension BatchNorm: TrainingState {
    /// Running mean, then running variance.
    public var stateWords: [UInt64] {
        (runningMean.storage + runningVariance.storage).map { UInt64($0.bitPattern) }
    }

    /// Restores the running statistics.
    public func restoreState(_ words: [UInt64]) -> Bool {
        guard words.count == 2 * features, words.allSatisfy({ $0 <= UInt64(UInt32.max) }) else { return false }
        for k in 0..<features {
            runningMean[0, k] = Float(bitPattern: UInt32(words[k]))
            runningVariance[0, k] = Float(bitPattern: UInt32(words[features + k]))
        }
        return true
    }

    /// Drops the input kept by the last training forward when no backward pass will follow
    /// (so that the layer before may overwrite that buffer in place).
    public func releaseCachedInput() {
        cachedInput = nil
    }
}
