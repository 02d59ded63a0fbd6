import CompactRecData

/// One field's candidates in AutoDim's search supernet: per candidate `m`, the unifying map
/// `T_m(e) = e W_m + b_m` (learned, or zero padding) and a BatchNorm without scale and shift, and
/// the field's mixed vector `sum_m p_m BN_m(T_m(e_m))`.
///
/// The candidates are not computed one by one. A BatchNorm of a linear map is itself linear in
/// the centred input: in training, `BN_m(X W_m + b_m) = (X - mean(X)) W_m S_m` with `S_m` the
/// diagonal of `1 / sqrt(var + eps)` of the map's columns, and those variances are
/// `w^T C w` for the input's covariance `C` (the bias cancels). So the mixed vectors are one
/// product `(X - mean(X)) M` with `M = sum_m p_m W_m S_m`, a `K x width` matrix, and the
/// backward pass (through the batch statistics, as `BatchNorm`'s) reduces to products with
/// `K x width` and `K x K` matrices as well. No batch x candidates x width array is formed:
/// the field costs about as much as one width-wide map instead of five maps, five BatchNorms
/// and the mixing. In evaluation the running statistics make it affine: `X M + c`.
///
/// `K` is the input row's width: a shared table's row (candidate `m` reads its first `d_m`
/// columns) or the candidates' own rows side by side. `W_m` is kept as a `K x width` block of
/// zeros around the candidate's `d_m x width` weights. The parameters the optimiser sees are
/// each candidate's `d_m x width` weight and `1 x width` bias; the bias has no effect in
/// training (BatchNorm removes it, so its gradient is 0) and enters the running mean, as in the
/// layer-by-layer composition.
///
/// Each field's state lives in its own object so that the fields can be shared out over the
/// cores, each worker touching only its fields' buffers.
final class SearchField {
    /// Candidate widths, ascending.
    let candidates: [Int]
    /// The common width (the largest candidate).
    let width: Int
    /// Where each candidate's values start in the field's input row: all 0 when the candidates
    /// share one row (their first d_m columns), side by side when each has its own table.
    let inputOffsets: [Int]
    /// The input row's width K.
    let inputWidth: Int
    /// Per candidate, its `d_m -> width` map's weights (empty for zero padding).
    let weights: [DenseParameter]
    /// Per candidate, its map's bias (empty for zero padding).
    let biases: [DenseParameter]
    /// The BatchNorms' momentum (PyTorch's 0.1) and epsilon (1e-5), as `BatchNorm`.
    let momentum: Float = 0.1, epsilon: Float = 1e-5
    /// Running mean of each candidate's unified columns (`1 x candidates * width`, candidate `m`
    /// in block `m`), for evaluation.
    private(set) var runningMean: Matrix
    /// Running unbiased variance of the same columns.
    private(set) var runningVariance: Matrix
    /// The mixing weights of the next (and last) forward.
    var sample: GumbelSoftmax
    /// dLoss/dp of the last backward, per candidate.
    private(set) var weightGradient: [Float]
    /// The mixed vectors of the last forward, batch x width.
    private(set) var mixed: Matrix
    /// The gradient of the input rows from the last backward that computed weight gradients
    /// (batch x K).
    private(set) var inputGradient: Matrix

    /// Every candidate's map, `K x candidates * width`, and their biases.
    private var maps: Matrix
    private var mapBiases: Matrix
    /// The input rows; a training forward centres them (kept for the backward pass).
    private var input: Matrix
    private var inputMean: Matrix
    private var covariance: Matrix
    private var covarianceTimesMaps: Matrix
    private var unifiedStatistic: Matrix
    /// `1 / sqrt(var + eps)` per unified column, of the last forward.
    private var scale: Matrix
    /// `M`, and in evaluation the constant `c`.
    private var mixedMap: Matrix
    private var mixedBias: Matrix
    private var pendingBackward = false
    private var centeredGradient: Matrix
    private var gradientMean: Matrix
    private var inputTimesGradient: Matrix
    private var columnCoefficients: Matrix
    private var otherCoefficients: Matrix
    private var scaledMaps: Matrix
    private var curvature: Matrix
    private var mapGradient: Matrix

    /// The candidates of field `name`; `separateInputs` when each candidate has its own table;
    /// the maps drawn from `random` when `linear`, zero padding otherwise.
    init(name: String, candidates: [Int], separateInputs: Bool, linear: Bool, random: inout SeededRandom) {
        let width = candidates.max() ?? 1
        let columns = candidates.count * width
        self.candidates = candidates
        self.width = width
        inputOffsets = separateInputs ? candidates.indices.map { candidates[..<$0].reduce(0, +) } : candidates.map { _ in 0 }
        let inputWidth = separateInputs ? candidates.reduce(0, +) : width
        self.inputWidth = inputWidth
        // Xavier-uniform, as `Linear` draws a map.
        weights =
            linear
            ? candidates.map { d in
                DenseParameter(
                    name: "\(name).candidate\(d).transform.weight",
                    value: .uniform(rows: d, columns: width, limit: (6 / Float(d + width)).squareRoot(), random: &random))
            } : []
        biases =
            linear
            ? candidates.map { DenseParameter(name: "\(name).candidate\($0).transform.bias", value: Matrix(rows: 1, columns: width)) } : []
        maps = Matrix(rows: inputWidth, columns: columns)
        if !linear {
            for (m, d) in candidates.enumerated() {
                for k in 0..<d { maps[inputOffsets[m] + k, m * width + k] = 1 }
            }
        }
        mapBiases = Matrix(rows: 1, columns: columns)
        runningMean = Matrix(rows: 1, columns: columns)
        runningVariance = Matrix(rows: 1, columns: columns, repeating: 1)
        sample = GumbelSoftmax(alpha: candidates.map { _ in 0 }, temperature: 1, noise: candidates.map { _ in 0 })
        weightGradient = candidates.map { _ in 0 }
        mixed = Matrix(rows: 0, columns: width)
        inputGradient = Matrix(rows: 0, columns: inputWidth)
        input = inputGradient
        inputMean = Matrix(rows: 1, columns: inputWidth)
        covariance = Matrix(rows: inputWidth, columns: inputWidth)
        covarianceTimesMaps = maps
        unifiedStatistic = mapBiases
        scale = mapBiases
        mixedMap = Matrix(rows: inputWidth, columns: width)
        mixedBias = Matrix(rows: 1, columns: width)
        centeredGradient = mixed
        gradientMean = mixedBias
        inputTimesGradient = mixedMap
        columnCoefficients = mapBiases
        otherCoefficients = mapBiases
        scaledMaps = maps
        curvature = covariance
        mapGradient = maps
    }

    /// The maps' weights and biases, candidate by candidate.
    var parameters: [DenseParameter] { zip(weights, biases).flatMap { [$0, $1] } }

    /// The mixed vector of each row. With one source, the input row is its columns
    /// `offsets[0] ..< offsets[0] + K` (a shared table); otherwise candidate `m`'s values are
    /// columns `offsets[m] ..< offsets[m] + d_m` of `sources[m]`.
    func forward(sources: [Matrix], offsets: [Int], training: Bool) {
        precondition(
            sources.count == offsets.count && (sources.count == 1 || sources.count == candidates.count),
            "SearchField.forward: one source, or one per candidate")
        guard let rows = sources.first?.rows else { return }
        input.resize(rows: rows)
        if sources.count == 1 {
            CandidateMixing.copyColumns(of: sources[0], from: offsets[0], count: inputWidth, to: &input, at: 0)
        } else {
            for m in candidates.indices {
                CandidateMixing.copyColumns(of: sources[m], from: offsets[m], count: candidates[m], to: &input, at: inputOffsets[m])
            }
        }
        loadMaps()
        mixed.resize(rows: rows)
        pendingBackward = training && rows > 0
        guard training else {
            // BN_m(X W_m + b_m) = (X W_m + b_m - runningMean) S_m, so the mix is X M + c.
            for c in 0..<maps.columns { scale[0, c] = 1 / (runningVariance[0, c] + epsilon).squareRoot() }
            CandidateMixing.mixedMap(maps, scale: scale, weights: sample.weights, width: width, into: &mixedMap)
            for j in 0..<width {
                mixedBias[0, j] = candidates.indices.reduce(0) { sum, m in
                    let c = m * width + j
                    return sum + sample.weights[m] * (mapBiases[0, c] - runningMean[0, c]) * scale[0, c]
                }
            }
            GEMM.multiply(input, mixedMap, into: &mixed, adding: mixedBias)
            return
        }
        guard rows > 0 else { return }
        CandidateMixing.centerColumns(&input, means: &inputMean)
        GEMM.multiply(input, transposeA: true, input, into: &covariance, alpha: 1 / Float(rows))
        GEMM.multiply(covariance, maps, into: &covarianceTimesMaps)
        // The batch variance of unified column c is w_c^T C w_c.
        CandidateMixing.columnDots(maps, covarianceTimesMaps, into: &unifiedStatistic)
        for c in 0..<maps.columns {
            let variance = max(0, unifiedStatistic[0, c])
            scale[0, c] = 1 / (variance + epsilon).squareRoot()
            // A batch of one row has no unbiased variance: its running variance stays (as `BatchNorm`).
            if rows > 1 {
                runningVariance[0, c] = (1 - momentum) * runningVariance[0, c] + momentum * variance * Float(rows) / Float(rows - 1)
            }
        }
        // The batch mean of unified column c is mean(X) w_c + b_c.
        GEMM.multiply(inputMean, maps, into: &unifiedStatistic, adding: mapBiases)
        for c in 0..<maps.columns { runningMean[0, c] = (1 - momentum) * runningMean[0, c] + momentum * unifiedStatistic[0, c] }
        CandidateMixing.mixedMap(maps, scale: scale, weights: sample.weights, width: width, into: &mixedMap)
        GEMM.multiply(input, mixedMap, into: &mixed)
    }

    /// From the gradient of the mixed vectors (columns `offset ..< offset + width` of
    /// `outputGradient`): dLoss/dp per candidate and, with `weights`, the maps' gradients and
    /// `inputGradient` (an architecture step needs only dLoss/dp).
    ///
    /// With `G = (X - mean(X))^T dY`, the gradient of the mixed vectors `dY` centred by column,
    /// and `t_c = w_c^T G_j` for unified column `c` (block `m`, column `j`):
    /// `dLoss/dp_m = sum_j S_c t_c`; per BatchNorm's backward, `a_c = S_c t_c / B`,
    /// `dX = dY_centred M^T - (X - mean(X)) sum_c p_m a_c S_c^2 w_c w_c^T` and
    /// `dw_c = p_m (S_c G_j - B a_c S_c^2 C w_c)`.
    func backward(_ outputGradient: Matrix, offset: Int, weights computesWeights: Bool) {
        precondition(pendingBackward, "SearchField.backward needs a preceding forward(training: true)")
        pendingBackward = false
        let rows = input.rows
        precondition(
            outputGradient.rows == rows, "SearchField.backward: the gradient has \(outputGradient.rows) rows, the forward had \(rows)")
        centeredGradient.resize(rows: rows)
        CandidateMixing.copyColumns(of: outputGradient, from: offset, count: width, to: &centeredGradient, at: 0)
        CandidateMixing.centerColumns(&centeredGradient, means: &gradientMean)
        GEMM.multiply(input, transposeA: true, centeredGradient, into: &inputTimesGradient)
        CandidateMixing.blockColumnDots(maps, inputTimesGradient, width: width, into: &unifiedStatistic)
        for m in candidates.indices {
            var total = 0.0
            for j in 0..<width { total += Double(scale[0, m * width + j]) * Double(unifiedStatistic[0, m * width + j]) }
            weightGradient[m] = Float(total)
        }
        guard computesWeights else { return }
        let batch = Float(rows)
        for m in candidates.indices {
            let p = sample.weights[m]
            for j in 0..<width {
                let c = m * width + j
                let s = scale[0, c]
                let a = s * unifiedStatistic[0, c] / batch
                columnCoefficients[0, c] = p * s
                otherCoefficients[0, c] = p * a * s * s
            }
        }
        // dX = dY_centred M^T - X_centred (maps diag(p a S^2) maps^T).
        CandidateMixing.scaleColumns(maps, by: otherCoefficients, into: &scaledMaps)
        GEMM.multiply(scaledMaps, maps, transposeB: true, into: &curvature)
        inputGradient.resize(rows: rows)
        GEMM.multiply(centeredGradient, mixedMap, transposeB: true, into: &inputGradient)
        GEMM.multiply(input, curvature, into: &inputGradient, alpha: -1, beta: 1)
        guard weights.contains(where: \.requiresGradient) else { return }
        // dW = G spread over the blocks times p S, minus B C W times p a S^2.
        for c in 0..<maps.columns { otherCoefficients[0, c] *= -batch }
        CandidateMixing.combine(
            inputTimesGradient, coefficients: columnCoefficients, covarianceTimesMaps,
            coefficients: otherCoefficients, width: width, into: &mapGradient)
        for (m, weight) in weights.enumerated() where weight.requiresGradient {
            CandidateMixing.copyBlock(
                of: mapGradient, rows: inputOffsets[m]..<(inputOffsets[m] + candidates[m]),
                columns: (m * width)..<((m + 1) * width), to: &weight.gradient, row: 0, column: 0, accumulate: true)
        }
    }

    /// Copies each candidate's map into its block of `maps` and its bias into `mapBiases`.
    private func loadMaps() {
        for (m, weight) in weights.enumerated() {
            CandidateMixing.copyBlock(
                of: weight.value, rows: 0..<candidates[m], columns: 0..<width, to: &maps,
                row: inputOffsets[m], column: m * width, accumulate: false)
        }
        for (m, bias) in biases.enumerated() {
            CandidateMixing.copyBlock(
                of: bias.value, rows: 0..<1, columns: 0..<width, to: &mapBiases, row: 0, column: m * width,
                accumulate: false)
        }
    }
}

extension SearchField {
    /// The running statistics as words (each Float's bit pattern): mean, then variance.
    var runningStatisticsWords: [UInt64] {
        (runningMean.storage + runningVariance.storage).map { UInt64($0.bitPattern) }
    }

    /// Restores what `runningStatisticsWords` gave; false if the count does not fit.
    func restoreRunningStatistics(_ words: [UInt64]) -> Bool {
        let count = runningMean.count
        guard words.count == 2 * count, words.allSatisfy({ $0 <= UInt64(UInt32.max) }) else { return false }
        for k in 0..<count {
            runningMean[0, k] = Float(bitPattern: UInt32(words[k]))
            runningVariance[0, k] = Float(bitPattern: UInt32(words[count + k]))
        }
        return true
    }
}
