import CompactRecData

/// DARTS's second-order approximation of the architecture gradient (Liu et al., 2019), for
/// AutoDim's bi-level search:
///
/// `dL_val(W', alpha)/dalpha - xi * (dL_train(W+, alpha)/dalpha - dL_train(W-, alpha)/dalpha) / (2 eps)`
///
/// with the virtual step `W' = W - xi * grad_W L_train(W, alpha)`, `v = grad_W' L_val(W', alpha)`,
/// `W+- = W +- eps v` and `eps = 0.01 / |v|`: the finite-difference form of the
/// Hessian-vector product that the chain rule through the virtual step needs. `W` is every
/// weight (dense parameters and the embedding rows the batches touch); the weights are left as
/// they were, and the Gumbel noise is the same for every pass of the step.
enum SecondOrderArchitectureStep {
    /// Sets `embedding.architecture.gradient` to the approximation for one training and one
    /// validation batch; returns the training loss at `W`.
    static func run(
        model: any CTRModel, embedding: DimensionSearchEmbedding, loss: SigmoidCrossEntropy,
        trainBatch: Batch, validationBatch: Batch, virtualStep xi: Float, step: Int
    ) throws(TrainingError) -> Float {
        let reusedNoise = embedding.reusesNoise
        defer {
            embedding.reusesNoise = reusedNoise
            setWeightGradients(model, required: true)
        }
        var saved = SavedWeights(model)
        // grad_W L_train(W): the virtual step, with this step's noise drawn here and kept.
        setWeightGradients(model, required: true)
        embedding.accumulatesArchitectureGradient = false
        let trainLoss = try model.computeGradients(on: trainBatch, loss: loss, step: step)
        embedding.reusesNoise = true
        saved.move(model, by: -xi, along: WeightDirection(model))
        // At W': dalpha of the validation loss, and v.
        embedding.accumulatesArchitectureGradient = true
        embedding.architecture.zeroGradient()
        _ = try model.computeGradients(on: validationBatch, loss: loss, step: step)
        let validationGradient = embedding.architecture.gradient
        let v = WeightDirection(model)
        saved.restore(model)
        let epsilon = 0.01 / max(v.norm, 1e-12)
        // dalpha of the training loss at W + eps v and W - eps v (no weight gradients needed).
        var sides: [Matrix] = []
        for sign: Float in [1, -1] {
            saved.move(model, by: sign * epsilon, along: v)
            setWeightGradients(model, required: false)
            embedding.architecture.zeroGradient()
            _ = try model.computeGradients(on: trainBatch, loss: loss, step: step)
            sides.append(embedding.architecture.gradient)
            setWeightGradients(model, required: true)
            saved.restore(model)
        }
        var gradient = validationGradient
        for i in 0..<gradient.rows {
            for j in 0..<gradient.columns {
                gradient[i, j] -= xi * (sides[0][i, j] - sides[1][i, j]) / (2 * epsilon)
            }
        }
        embedding.architecture.gradient = gradient
        return trainLoss
    }

    /// Turns every weight's gradient on or off.
    static func setWeightGradients(_ model: any CTRModel, required: Bool) {
        for parameter in model.denseParameters { parameter.requiresGradient = required }
        for table in model.sparseTables { table.requiresGradient = required }
    }
}

/// A direction in weight space: a copy of the model's current gradients (dense matrices, and
/// per table the touched rows' gradients).
struct WeightDirection {
    let dense: [Matrix]
    let rows: [[UInt32]]
    let rowValues: [[Float]]

    init(_ model: any CTRModel) {
        dense = model.denseParameters.map(\.gradient)
        rows = model.sparseTables.map(\.touchedRows)
        rowValues = model.sparseTables.map(\.gradientRows)
    }

    /// Euclidean norm over every value.
    var norm: Float {
        var total = 0.0
        for matrix in dense { for value in matrix.values { total += Double(value) * Double(value) } }
        for values in rowValues { for value in values { total += Double(value) * Double(value) } }
        return Float(total.squareRoot())
    }
}

/// The model's weights as they were, restored after temporary moves (dense parameters whole;
/// embedding rows as each is first moved).
struct SavedWeights {
    private let dense: [Matrix]
    private var rows: [[UInt32: [Float]]]

    init(_ model: any CTRModel) {
        dense = model.denseParameters.map(\.value)
        rows = model.sparseTables.map { _ in [:] }
    }

    /// `W += scale * direction`, remembering each embedding row's value before its first move.
    mutating func move(_ model: any CTRModel, by scale: Float, along direction: WeightDirection) {
        for (parameter, step) in zip(model.denseParameters, direction.dense) {
            for r in 0..<step.rows { for c in 0..<step.columns { parameter.value[r, c] += scale * step[r, c] } }
        }
        for (t, table) in model.sparseTables.enumerated() {
            let d = table.dimension
            for (slot, row) in direction.rows[t].enumerated() {
                let start = Int(row) * d
                if rows[t][row] == nil { rows[t][row] = Array(table.weights[start..<start + d]) }
                for k in 0..<d { table.weights[start + k] += scale * direction.rowValues[t][slot * d + k] }
            }
        }
    }

    /// Puts every moved weight back.
    func restore(_ model: any CTRModel) {
        for (parameter, value) in zip(model.denseParameters, dense) { parameter.value = value }
        for (t, table) in model.sparseTables.enumerated() {
            let d = table.dimension
            for (row, values) in rows[t] {
                let start = Int(row) * d
                for k in 0..<d { table.weights[start + k] = values[k] }
            }
        }
    }
}
