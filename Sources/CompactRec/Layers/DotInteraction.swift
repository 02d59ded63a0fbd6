import CompactRecData

/// DLRM's feature interaction (Naumov et al., 2019): the dot products between every pair of a
/// row's field vectors.
///
/// Input `batch x (fields * dimension)`: `fields` vectors of width `dimension` side by side, the
/// dense (bottom-MLP) vector being one of them (the model concatenates it). Output: one column per
/// pair, in DLRM's order (`interact_features` with `arch-interaction-itself` off): for `i` in
/// `0..<fields`, for `j` in `0..<i`, `<v_i, v_j>`; that is the strictly lower triangle of
/// `Z = V V^T`, row by row, `fields * (fields - 1) / 2` columns. With `includeSelf` the diagonal
/// is included (`j` in `0...i`, `fields * (fields + 1) / 2` columns). Backward:
/// `dv_i += g_ij v_j`, `dv_j += g_ij v_i`.
///
/// DLRM itself calls `forward(dense:vectors:training:)`, which takes the dense vector and the
/// embeddings as they are and returns the top MLP's input `[dense | pairs]` (DLRM's
/// `interact_features`), so that no batch-sized matrix is concatenated or split.
public final class DotInteraction: Layer {
    /// Number of vectors per row (embeddings plus the dense vector).
    public let fields: Int
    /// Width of each vector.
    public let dimension: Int
    /// Whether each vector's dot product with itself is included.
    public let includeSelf: Bool
    /// Number of output columns (pairs).
    public let outputs: Int
    /// Cores the row loops may use.
    public var threads = 1

    private var output: Matrix
    private var inputGradient: Matrix
    /// The input of the last training forward, held (not copied) until `backward`.
    private var cachedInput: Matrix?
    private var concatenatedOutput: Matrix
    private var denseGradient: Matrix
    private var vectorGradient: Matrix
    /// The inputs of the last training `forward(dense:vectors:training:)`, held until
    /// `backward(concatenatedGradient:)`.
    private var cachedInputs: (dense: Matrix, vectors: Matrix)?

    /// The interaction of `fields` vectors of width `dimension` (at least one pair).
    public init(fields: Int, dimension: Int, includeSelf: Bool = false) {
        let pairs = includeSelf ? fields * (fields + 1) / 2 : fields * (fields - 1) / 2
        precondition(
            fields > 0 && dimension > 0 && pairs > 0,
            "DotInteraction needs a pair: \(fields) fields of width \(dimension), includeSelf \(includeSelf)")
        self.fields = fields
        self.dimension = dimension
        self.includeSelf = includeSelf
        outputs = pairs
        output = Matrix(rows: 0, columns: pairs)
        inputGradient = Matrix(rows: 0, columns: fields * dimension)
        concatenatedOutput = Matrix(rows: 0, columns: dimension + pairs)
        denseGradient = Matrix(rows: 0, columns: dimension)
        vectorGradient = Matrix(rows: 0, columns: (fields - 1) * dimension)
    }

    /// None: the interaction has no weights.
    public var parameters: [DenseParameter] { [] }

    /// The output column of the pair `(i, j)`, `j < i` (`j <= i` with `includeSelf`).
    public func column(_ i: Int, _ j: Int) -> Int {
        precondition(i < fields && j >= 0 && (includeSelf ? j <= i : j < i), "DotInteraction has no pair (\(i), \(j))")
        return includeSelf ? i * (i + 1) / 2 + j : i * (i - 1) / 2 + j
    }

    /// The pairwise dot products of each row, `batch x outputs`.
    public func forward(_ input: Matrix, training: Bool) -> Matrix {
        precondition(
            input.columns == fields * dimension,
            "DotInteraction expects \(fields) x \(dimension) = \(fields * dimension) columns, got \(input.columns)")
        PairwiseDotKernel.forward(
            leading: nil, vectors: input, fields: fields, dimension: dimension, includeSelf: includeSelf,
            into: &output, threads: threads)
        cachedInput = training ? input : nil
        return output
    }

    /// `dv_i += g_ij v_j` and `dv_j += g_ij v_i` over all pairs.
    public func backward(_ outputGradient: Matrix) -> Matrix {
        guard let input = cachedInput else {
            preconditionFailure("DotInteraction.backward needs a preceding forward(_:training: true)")
        }
        cachedInput = nil
        precondition(
            outputGradient.rows == input.rows && outputGradient.columns == outputs,
            "DotInteraction.backward expects a \(input.rows)x\(outputs) gradient, got \(outputGradient.rows)x\(outputGradient.columns)")
        PairwiseDotKernel.backward(
            leading: nil, vectors: input, outputGradient: outputGradient, fields: fields,
            dimension: dimension, includeSelf: includeSelf, leadingGradient: &denseGradient,
            vectorGradient: &inputGradient, threads: threads)
        return inputGradient
    }

    /// DLRM's interaction output `[dense | pairs]`, `batch x (dimension + outputs)`: the dense
    /// (bottom-MLP) vector is field 0 and `vectors` (`batch x (fields - 1) * dimension`) the
    /// others; the same values as `forward` on the concatenated input, with the dense vector
    /// passed through in front.
    public func forward(dense: Matrix, vectors: Matrix, training: Bool) -> Matrix {
        precondition(
            dense.columns == dimension && vectors.columns == (fields - 1) * dimension && dense.rows == vectors.rows,
            "DotInteraction expects \(dimension) dense and \((fields - 1) * dimension) vector columns, got \(dense.columns) and \(vectors.columns)"
        )
        PairwiseDotKernel.forward(
            leading: dense, vectors: vectors, fields: fields, dimension: dimension,
            includeSelf: includeSelf, into: &concatenatedOutput, threads: threads)
        cachedInputs = training ? (dense, vectors) : nil
        return concatenatedOutput
    }

    /// The gradients of the dense vector (its pass-through part plus its pairs' part) and of
    /// the other vectors, from the gradient of `forward(dense:vectors:training:)`'s output.
    public func backward(concatenatedGradient: Matrix) -> (dense: Matrix, vectors: Matrix) {
        guard let inputs = cachedInputs else {
            preconditionFailure("DotInteraction.backward(concatenatedGradient:) needs a preceding forward(dense:vectors:training: true)")
        }
        cachedInputs = nil
        precondition(
            concatenatedGradient.rows == inputs.dense.rows && concatenatedGradient.columns == dimension + outputs,
            "DotInteraction.backward expects a \(inputs.dense.rows)x\(dimension + outputs) gradient, got \(concatenatedGradient.rows)x\(concatenatedGradient.columns)"
        )
        PairwiseDotKernel.backward(
            leading: inputs.dense, vectors: inputs.vectors, outputGradient: concatenatedGradient,
            fields: fields, dimension: dimension, includeSelf: includeSelf,
            leadingGradient: &denseGradient, vectorGradient: &vectorGradient, threads: threads)
        return (denseGradient, vectorGradient)
    }
}
