import CompactRecData

/// The pairwise term of a factorization machine (Rendle, 2010) over per-field vectors: for a row
/// of `fields` vectors `v_f` of width `dimension`, `sum_{f < g} <v_f, v_g>`, computed in
/// `O(fields * dimension)` as `0.5 * sum_k ((sum_f v_fk)^2 - sum_f v_fk^2)`.
///
/// The second-order part of FM and DeepFM. Input `batch x (fields * dimension)` (the field vectors
/// side by side in each row), output `batch x 1`. Backward:
/// `dv_fk = dOut * (sum_g v_gk - v_fk)`.
public final class FMInteraction: Layer {
    /// Number of field vectors per row.
    public let fields: Int
    /// Width of each field vector.
    public let dimension: Int
    /// Cores the row loops may use.
    public var threads = 1

    private var output = Matrix(rows: 0, columns: 1)
    private var sums: Matrix
    private var inputGradient: Matrix
    /// The input of the last training forward, held (not copied) until `backward`.
    private var cachedInput: Matrix?

    /// The interaction of `fields` vectors of width `dimension`.
    public init(fields: Int, dimension: Int) {
        precondition(fields > 0 && dimension > 0, "FMInteraction needs positive fields and dimension")
        self.fields = fields
        self.dimension = dimension
        sums = Matrix(rows: 0, columns: dimension)
        inputGradient = Matrix(rows: 0, columns: fields * dimension)
    }

    /// None: the interaction has no weights.
    public var parameters: [DenseParameter] { [] }

    /// The pairwise term of each row, `batch x 1`.
    public func forward(_ input: Matrix, training: Bool) -> Matrix {
        precondition(
            input.columns == fields * dimension,
            "FMInteraction expects \(fields) x \(dimension) = \(fields * dimension) columns, got \(input.columns)")
        Elementwise.factorizationMachine(input, fields: fields, dimension: dimension, sums: &sums, output: &output, threads: threads)
        cachedInput = training ? input : nil
        return output
    }

    /// `dv_fk = dOut * (sum_g v_gk - v_fk)`.
    public func backward(_ outputGradient: Matrix) -> Matrix {
        guard let input = cachedInput else {
            preconditionFailure("FMInteraction.backward needs a preceding forward(_:training: true)")
        }
        cachedInput = nil
        precondition(
            outputGradient.rows == input.rows && outputGradient.columns == 1,
            "FMInteraction.backward expects a \(input.rows)x1 gradient, got \(outputGradient.rows)x\(outputGradient.columns)")
        Elementwise.factorizationMachineBackward(
            input, sums: sums, outputGradient: outputGradient, fields: fields,
            dimension: dimension, into: &inputGradient, threads: threads)
        return inputGradient
    }
}
