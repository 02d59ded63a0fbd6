import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

/// `SearchField` computes its candidates folded into one map per field; these tests hold it to
/// the definition, layer by layer: per candidate a `Linear` (or zero padding) and a `BatchNorm`
/// without affine parameters, mixed by the sample's weights.
@Suite struct SearchFieldTests {
    /// The per-candidate layers the folded field must equal.
    struct Reference {
        let maps: [Linear]
        let norms: [BatchNorm]
        var outputs: [Matrix] = []

        init(field: SearchField, random: inout SeededRandom) {
            maps = field.candidates.enumerated().map { m, d in
                let layer = Linear(inputs: d, outputs: field.width, random: &random)
                if field.weights.isEmpty {
                    var padding = Matrix(rows: d, columns: field.width)
                    for k in 0..<d { padding[k, k] = 1 }
                    layer.weight.value = padding
                    layer.bias?.value.fill(0)
                } else {
                    layer.weight.value = field.weights[m].value
                    layer.bias?.value = field.biases[m].value
                }
                return layer
            }
            norms = field.candidates.map { _ in BatchNorm(features: field.width, affine: false) }
        }

        /// Candidate m's input columns of `input`.
        static func columns(_ input: Matrix, of field: SearchField, candidate m: Int) -> Matrix {
            var block = Matrix(rows: input.rows, columns: field.candidates[m])
            input.copyColumns(field.inputOffsets[m], into: &block)
            return block
        }

        mutating func forward(_ input: Matrix, field: SearchField, training: Bool) -> Matrix {
            var mixed = Matrix(rows: input.rows, columns: field.width)
            outputs = []
            for m in field.candidates.indices {
                let unified = maps[m].forward(Self.columns(input, of: field, candidate: m), training: training)
                let normalized = norms[m].forward(unified, training: training)
                outputs.append(normalized)
                for r in 0..<mixed.rows {
                    for c in 0..<mixed.columns { mixed[r, c] += field.sample.weights[m] * normalized[r, c] }
                }
            }
            return mixed
        }

        /// dLoss/dp per candidate and dLoss/dinput for `gradient` of the mixed vectors.
        func backward(_ gradient: Matrix, field: SearchField) -> (weights: [Float], input: Matrix) {
            var inputGradient = Matrix(rows: gradient.rows, columns: field.inputWidth)
            var weightGradient: [Float] = []
            for m in field.candidates.indices {
                weightGradient.append(zip(gradient.values, outputs[m].values).reduce(0) { $0 + $1.0 * $1.1 })
                var scaled = gradient
                for r in 0..<scaled.rows {
                    for c in 0..<scaled.columns { scaled[r, c] *= field.sample.weights[m] }
                }
                let rows = maps[m].backward(norms[m].backward(scaled))
                for r in 0..<rows.rows {
                    for k in 0..<rows.columns { inputGradient[r, field.inputOffsets[m] + k] += rows[r, k] }
                }
            }
            return (weightGradient, inputGradient)
        }
    }

    static func expectClose(_ actual: [Float], _ expected: [Float], _ what: String) {
        let scale = max(1, expected.map(abs).max() ?? 0)
        let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(actual.count == expected.count && worst <= 2e-4 * scale, "\(what): off by \(worst) at scale \(scale)")
    }

    @Test(arguments: [(false, true), (true, true), (false, false)])
    func foldedCandidatesEqualTheLayerByLayerComposition(separateInputs: Bool, linear: Bool) {
        var random = SeededRandom(seed: 31)
        let field = SearchField(name: "f", candidates: [1, 2, 4], separateInputs: separateInputs, linear: linear, random: &random)
        for bias in field.biases { bias.value = .uniform(rows: 1, columns: field.width, limit: 0.5, random: &random) }
        var reference = Reference(field: field, random: &random)
        let sources = separateInputs ? field.candidates.count : 1
        for step in 0..<3 {
            // Columns of different scales and means, as trained embeddings have.
            var input = Matrix.gaussian(rows: 9 + step, columns: field.inputWidth, standardDeviation: 1, random: &random)
            for r in 0..<input.rows {
                for k in 0..<input.columns { input[r, k] = input[r, k] * Float(k + 1) * 0.4 + Float(k) - 1 }
            }
            let alpha = (0..<3).map { _ in Float(random.nextGaussian()) }
            field.sample = GumbelSoftmax(alpha: alpha, temperature: 0.7, random: &random)
            field.forward(
                sources: Array(repeating: input, count: sources),
                offsets: separateInputs ? field.inputOffsets : [0], training: true)
            Self.expectClose(field.mixed.values, reference.forward(input, field: field, training: true).values, "step \(step) forward")

            let gradient = Matrix.gaussian(rows: input.rows, columns: field.width, standardDeviation: 1, random: &random)
            for parameter in field.parameters + reference.maps.flatMap(\.parameters) { parameter.zeroGradient() }
            field.backward(gradient, offset: 0, weights: true)
            let expected = reference.backward(gradient, field: field)
            Self.expectClose(field.weightGradient, expected.weights, "step \(step) dLoss/dp")
            Self.expectClose(field.inputGradient.values, expected.input.values, "step \(step) dLoss/dinput")
            for (m, weight) in field.weights.enumerated() {
                Self.expectClose(weight.gradient.values, reference.maps[m].weight.gradient.values, "step \(step) candidate \(m) map")
                // BatchNorm removes the bias in training, so its gradient is 0 both ways.
                Self.expectClose(field.biases[m].gradient.values, reference.maps[m].bias?.gradient.values ?? [], "bias \(m)")
            }
        }
        // The running statistics after three batches give the same evaluation vectors.
        let input = Matrix.gaussian(rows: 5, columns: field.inputWidth, standardDeviation: 2, random: &random)
        field.forward(sources: Array(repeating: input, count: sources), offsets: separateInputs ? field.inputOffsets : [0], training: false)
        Self.expectClose(field.mixed.values, reference.forward(input, field: field, training: false).values, "evaluation")
        #expect(field.mixed.values.contains { $0 != 0 })
    }

    @Test func aBatchOfOneRowMixesToZeroAsBatchNormDoes() {
        var random = SeededRandom(seed: 2)
        let field = SearchField(name: "f", candidates: [2, 4], separateInputs: false, linear: true, random: &random)
        let input = Matrix.gaussian(rows: 1, columns: 4, standardDeviation: 1, random: &random)
        field.forward(sources: [input], offsets: [0], training: true)
        #expect(field.mixed.values == [0, 0, 0, 0])
        #expect(field.runningVariance.values.allSatisfy { $0 == 1 }, "no unbiased variance from one row")
        #expect(field.runningMean.values.contains { $0 != 0 })
    }
}
