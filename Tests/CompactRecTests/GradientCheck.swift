import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

/// Checks a hand-written backward pass against central finite differences.
///
/// The scalar checked is `L = sum(output * R)` for a fixed random `R` (uniform in [-1, 1]), so
/// `dL/dOutput = R` and every output value matters. The layers compute in Float, so the
/// differences use a step of about 1e-2 (relative to inputs of order 1) and `L` is summed in
/// Double; the step actually taken is measured in Float (`(x + h) - (x - h)`). An analytic value
/// `a` passes against the numeric `n` when
/// `|a - n| <= relativeTolerance * max(|a|, |n|) + absoluteTolerance * max_i |n_i|`
/// (the last factor: the largest numeric derivative of the same tensor, so entries that are
/// nearly zero are judged on the tensor's scale, not their own).
///
/// Networks with ReLUs are only piecewise smooth: a step can cross a kink, and a smaller step
/// drowns in Float rounding. For them, `fallbackEpsilons` gives further steps; a value passes if
/// the estimate at any step agrees (a wrong analytic gradient agrees at none).
///
/// Besides the input gradient and every parameter gradient, a check verifies that parameter
/// gradients accumulate (a second backward without zeroing doubles them) and that no tensor's
/// numeric gradient is all zero (which would make the check vacuous).
struct GradientCheck {
    /// Half the finite-difference step.
    var epsilon: Float = 1e-2
    /// Further half-steps tried for a value that disagrees at `epsilon` (for kinks).
    var fallbackEpsilons: [Float] = []
    /// Relative tolerance per value.
    var relativeTolerance: Double = 1e-2
    /// Absolute tolerance, as a fraction of the tensor's largest numeric derivative.
    var absoluteTolerance: Double = 1e-3
    /// Seed of `R`.
    var seed: UInt64 = 0x5EED

    /// What a check found.
    struct Report {
        /// One line per mismatch (empty when the check passed).
        var failures: [String] = []
        /// Number of values compared.
        var checked = 0
    }

    /// Checks `backward` against differences of `forward` at `input`, for the input and for each
    /// of `parameters` (which `forward` must read). `forward` must be a deterministic function of
    /// the input and the parameters' values.
    func run(
        input: Matrix, parameters: [DenseParameter],
        forward: (Matrix) -> Matrix, backward: (Matrix) -> Matrix
    ) -> Report {
        var report = Report()
        let output = forward(input)
        var random = SeededRandom(seed: seed)
        let weights = Matrix.uniform(rows: output.rows, columns: output.columns, limit: 1, random: &random)
        func loss(_ output: Matrix) -> Double {
            precondition(output.rows == weights.rows && output.columns == weights.columns)
            var sum = 0.0
            for r in 0..<output.rows {
                for c in 0..<output.columns { sum += Double(output[r, c]) * Double(weights[r, c]) }
            }
            return sum
        }

        for parameter in parameters { parameter.zeroGradient() }
        let inputGradient = backward(weights)
        if inputGradient.rows != input.rows || inputGradient.columns != input.columns {
            report.failures.append("input gradient is \(inputGradient.rows)x\(inputGradient.columns), input \(input.rows)x\(input.columns)")
            return report
        }
        let parameterGradients = parameters.map(\.gradient)

        // Gradients accumulate: another forward and backward without zeroing doubles them.
        _ = forward(input)
        _ = backward(weights)
        for (parameter, first) in zip(parameters, parameterGradients) {
            for r in 0..<first.rows {
                for c in 0..<first.columns {
                    let twice = 2 * Double(first[r, c])
                    let got = Double(parameter.gradient[r, c])
                    if abs(got - twice) > 1e-5 * max(abs(twice), 1) {
                        report.failures.append(
                            "\(parameter.name)[\(r), \(c)]: second backward gave \(got), expected \(twice) (gradients must accumulate)")
                    }
                }
            }
            parameter.zeroGradient()
        }

        var x = input
        compare(
            "input", analytic: inputGradient, report: &report,
            get: { x[$0, $1] }, set: { x[$0, $1] = $2 }, loss: { loss(forward(x)) })
        for (parameter, gradient) in zip(parameters, parameterGradients) {
            compare(
                parameter.name, analytic: gradient, report: &report,
                get: { parameter.value[$0, $1] }, set: { parameter.value[$0, $1] = $2 },
                loss: { loss(forward(input)) })
        }
        return report
    }

    /// Central differences of `loss` over every value reachable by `get`/`set`, against
    /// `analytic`.
    private func compare(
        _ name: String, analytic: Matrix, report: inout Report,
        get: (Int, Int) -> Float, set: (Int, Int, Float) -> Void, loss: () -> Double
    ) {
        func numericDerivative(_ r: Int, _ c: Int, step: Float) -> Double {
            let original = get(r, c)
            let plus = original + step
            let minus = original - step
            set(r, c, plus)
            let lossPlus = loss()
            set(r, c, minus)
            let lossMinus = loss()
            set(r, c, original)
            return (lossPlus - lossMinus) / (Double(plus) - Double(minus))
        }
        var numeric = [Double](repeating: 0, count: analytic.count)
        for r in 0..<analytic.rows {
            for c in 0..<analytic.columns { numeric[r * analytic.columns + c] = numericDerivative(r, c, step: epsilon) }
        }
        let scale = numeric.map(abs).max() ?? 0
        if scale < 1e-6 {
            report.failures.append("\(name): numeric gradient is zero everywhere; the check would prove nothing")
        }
        func agrees(_ a: Double, _ n: Double) -> Bool {
            abs(a - n) <= relativeTolerance * max(abs(a), abs(n)) + absoluteTolerance * scale
        }
        for r in 0..<analytic.rows {
            for c in 0..<analytic.columns {
                let a = Double(analytic[r, c])
                let n = numeric[r * analytic.columns + c]
                report.checked += 1
                if agrees(a, n) || fallbackEpsilons.contains(where: { agrees(a, numericDerivative(r, c, step: $0)) }) { continue }
                report.failures.append("\(name)[\(r), \(c)]: analytic \(a), numeric \(n)")
            }
        }
    }

    /// Checks `layer` in training mode at `input`, recording a test issue for each mismatch.
    func verify(_ layer: any Layer, input: Matrix, sourceLocation: SourceLocation = #_sourceLocation) {
        let report = run(
            input: input, parameters: layer.parameters,
            forward: { layer.forward($0, training: true) }, backward: { layer.backward($0) })
        #expect(report.failures.isEmpty, "\(report.failures.prefix(20).joined(separator: "\n"))", sourceLocation: sourceLocation)
        #expect(report.checked >= input.count + layer.parameters.reduce(0) { $0 + $1.count }, sourceLocation: sourceLocation)
    }
}

/// Test inputs.
enum TestMatrix {
    /// Uniform values in [-limit, limit] from `seed`; with `awayFromZero`, values closer to 0
    /// than that are pushed out to it (keeping their sign), so a ReLU's kink is never within a
    /// finite-difference step.
    static func random(rows: Int, columns: Int, seed: UInt64, limit: Float = 1, awayFromZero: Float = 0) -> Matrix {
        var random = SeededRandom(seed: seed)
        var matrix = Matrix.uniform(rows: rows, columns: columns, limit: limit, random: &random)
        for r in 0..<rows {
            for c in 0..<columns where abs(matrix[r, c]) < awayFromZero {
                matrix[r, c] = matrix[r, c] < 0 ? -awayFromZero : awayFromZero
            }
        }
        return matrix
    }

    /// Sets every parameter of `layer` to random values (so checks do not run at special points
    /// such as a zero bias or a unit scale).
    static func randomizeParameters(of layer: any Layer, seed: UInt64, limit: Float = 1) {
        for (index, parameter) in layer.parameters.enumerated() {
            parameter.value = random(
                rows: parameter.value.rows, columns: parameter.value.columns,
                seed: seed &+ UInt64(index), limit: limit)
        }
    }

    /// Whether two matrices hold the same shape and bits.
    static func identical(_ a: Matrix, _ b: Matrix) -> Bool {
        a.rows == b.rows && a.columns == b.columns && a.values.map(\.bitPattern) == b.values.map(\.bitPattern)
    }
}
