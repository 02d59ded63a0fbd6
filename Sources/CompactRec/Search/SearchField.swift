/// One field's candidates in AutoDim's search supernet: per candidate, the unifying transform
/// (a `Linear` with bias, or zero padding) and a BatchNorm without scale and shift, and the
/// field's mixed vector `sum_m p_m BN_m(T_m(e_m))`.
///
/// Each field's state lives in its own object so that the fields can be shared out over the
/// cores, each worker touching only its fields' buffers.
final class SearchField {
    /// Candidate widths, ascending.
    let candidates: [Int]
    /// The common width (the largest candidate).
    let width: Int
    /// Per candidate: its `d_m -> width` transform, or nil for zero padding.
    let transforms: [Linear?]
    /// Per candidate: its BatchNorm (not affine).
    let norms: [BatchNorm]
    /// The mixing weights of the last forward.
    var sample: GumbelSoftmax
    /// dLoss/dp of the last backward, per candidate.
    private(set) var weightGradient: [Float]
    /// The mixed vectors of the last forward, batch x width.
    private(set) var mixed: Matrix
    /// Per candidate, the gradient of its rows (batch x d_m) from the last backward.
    private(set) var rowGradients: [Matrix]
    private var inputs: [Matrix]
    private var padded: Matrix
    private var outputs: [Matrix?]
    private var fieldGradient: Matrix
    private var scaledGradient: Matrix

    /// The candidates of field `name`, transforms drawn from `random` when `linear`.
    init(name: String, candidates: [Int], linear: Bool, random: inout SeededRandom) {
        let width = candidates.max() ?? 1
        self.candidates = candidates
        self.width = width
        transforms = candidates.map { d in
            linear ? Linear(inputs: d, outputs: width, name: "\(name).candidate\(d).transform", random: &random) : nil
        }
        norms = candidates.map { BatchNorm(features: width, affine: false, name: "\(name).candidate\($0).norm") }
        sample = GumbelSoftmax(alpha: candidates.map { _ in 0 }, temperature: 1, noise: candidates.map { _ in 0 })
        weightGradient = candidates.map { _ in 0 }
        mixed = Matrix(rows: 0, columns: width)
        rowGradients = candidates.map { Matrix(rows: 0, columns: $0) }
        inputs = rowGradients
        padded = Matrix(rows: 0, columns: width)
        outputs = candidates.map { _ in nil }
        fieldGradient = Matrix(rows: 0, columns: width)
        scaledGradient = Matrix(rows: 0, columns: width)
    }

    /// The transforms' weights and biases.
    var parameters: [DenseParameter] { transforms.flatMap { $0?.parameters ?? [] } }

    /// The mixed vector of each row: candidate `m` reads the columns `offsets[m] ..<
    /// offsets[m] + d_m` of `sources[m]` (the shared table's first d_m columns, or its own
    /// table's).
    func forward(sources: [Matrix], offsets: [Int], training: Bool) {
        for m in candidates.indices {
            sources[m].copyColumns(offsets[m], into: &inputs[m])
            let unified: Matrix
            if let transform = transforms[m] {
                unified = transform.forward(inputs[m], training: training)
            } else {
                padded.resize(rows: inputs[m].rows)
                padded.fill(0)
                padded.setColumns(0, from: inputs[m])
                unified = padded
            }
            let normalized = norms[m].forward(unified, training: training)
            CandidateMixing.add(normalized, weight: sample.weights[m], to: &mixed, accumulate: m > 0)
            outputs[m] = training ? normalized : nil
        }
    }

    /// From the gradient of the mixed vectors (columns `offset ..< offset + width` of
    /// `outputGradient`): dLoss/dp per candidate and, with `weights`, the transforms' gradients
    /// and each candidate's row gradients (an architecture step needs only dLoss/dp).
    func backward(_ outputGradient: Matrix, offset: Int, weights: Bool) {
        outputGradient.copyColumns(offset, into: &fieldGradient)
        for m in candidates.indices {
            guard let output = outputs[m] else {
                preconditionFailure("SearchField.backward needs a preceding forward(training: true)")
            }
            outputs[m] = nil
            weightGradient[m] = Float(CandidateMixing.dot(fieldGradient, output))
            guard weights else {
                norms[m].releaseCachedInput()
                transforms[m]?.releaseCachedInput()
                continue
            }
            CandidateMixing.add(fieldGradient, weight: sample.weights[m], to: &scaledGradient, accumulate: false)
            let normalizedGradient = norms[m].backward(scaledGradient)
            let unifiedGradient = transforms[m]?.backward(normalizedGradient) ?? normalizedGradient
            unifiedGradient.copyColumns(0, into: &rowGradients[m])
        }
    }
}
