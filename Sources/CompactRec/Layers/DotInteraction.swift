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

    /// The interaction of `fields` vectors of width `dimension` (at least one pair).
    public init(fields: Int, dimension: Int, includeSelf: Bool = false) {
        let pairs = includeSelf ? fields * (fields + 1) / 2 : fields * (fields - 1) / 2
        precondition(fields > 0 && dimension > 0 && pairs > 0,
                     "DotInteraction needs a pair: \(fields) fields of width \(dimension), includeSelf \(includeSelf)")
        self.fields = fields
        self.dimension = dimension
        self.includeSelf = includeSelf
        outputs = pairs
        output = Matrix(rows: 0, columns: pairs)
        inputGradient = Matrix(rows: 0, columns: fields * dimension)
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
        precondition(input.columns == fields * dimension,
                     "DotInteraction expects \(fields) x \(dimension) = \(fields * dimension) columns, got \(input.columns)")
        Elementwise.pairwiseDots(input, fields: fields, dimension: dimension, includeSelf: includeSelf,
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
        precondition(outputGradient.rows == input.rows && outputGradient.columns == outputs,
                     "DotInteraction.backward expects a \(input.rows)x\(outputs) gradient, got \(outputGradient.rows)x\(outputGradient.columns)")
        Elementwise.pairwiseDotsBackward(input, outputGradient: outputGradient, fields: fields, dimension: dimension,
                                         includeSelf: includeSelf, into: &inputGradient, threads: threads)
        return inputGradient
    }
}
