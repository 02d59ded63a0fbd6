import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct SigmoidCrossEntropyTests {
    @Test func lossAndGradientMatchHandComputedValues() {
        let loss = SigmoidCrossEntropy()
        let logits = Matrix(rows: 3, columns: 1, values: [0, 2, -1])
        let labels: [Float] = [1, 0, 1]
        // -log(sigmoid(0)) = log 2 = 0.6931472; -log(1 - sigmoid(2)) = 2.1269280;
        // -log(sigmoid(-1)) = 1.3132617. Mean 1.3777789.
        #expect(abs(loss.loss(logits: logits, labels: labels) - 1.3777789) < 1e-6)
        // (sigmoid(z) - y) / 3: (0.5 - 1) / 3, 0.8807971 / 3, (0.2689414 - 1) / 3.
        let expected: [Float] = [-0.1666667, 0.2935990, -0.2436862]
        let gradient = loss.gradient(logits: logits, labels: labels)
        #expect(gradient.rows == 3 && gradient.columns == 1)
        for (got, want) in zip(gradient.values, expected) { #expect(abs(got - want) < 1e-6) }
    }

    @Test func stableAtLargeLogits() {
        let loss = SigmoidCrossEntropy()
        let logits = Matrix(rows: 4, columns: 1, values: [100, -100, 100, -100])
        let labels: [Float] = [1, 0, 0, 1]
        // Right with confidence: 0 (exp(-100) is below Float's resolution); wrong: 100 each.
        let value = loss.loss(logits: logits, labels: labels)
        #expect(value.isFinite && abs(value - 50) < 1e-5)
        let gradient = loss.gradient(logits: logits, labels: labels)
        #expect(gradient.values.allSatisfy { $0.isFinite })
        // sigmoid(-100) / 4 is about 9e-45: a Float subnormal, not exactly 0.
        let expected: [Float] = [0, 0, 0.25, -0.25]
        for (got, want) in zip(gradient.values, expected) { #expect(abs(got - want) < 1e-30) }
        let huge = Matrix(rows: 2, columns: 1, values: [1e30, -1e30])
        #expect(loss.loss(logits: huge, labels: [1, 0]) == 0)
        #expect(loss.gradient(logits: huge, labels: [1, 0]).values == [0, 0])
    }

    @Test func gradientMatchesFiniteDifferencesAndSoftLabels() {
        let loss = SigmoidCrossEntropy()
        for batch in [5, 3] {
            var logits = TestMatrix.random(rows: batch, columns: 1, seed: UInt64(batch), limit: 3)
            let labels = (0..<batch).map { Float($0 % 3) / 2 }
            let gradient = loss.gradient(logits: logits, labels: labels)
            for r in 0..<batch {
                let original = logits[r, 0]
                let epsilon: Float = 1e-2
                logits[r, 0] = original + epsilon
                let plus = Double(loss.loss(logits: logits, labels: labels))
                logits[r, 0] = original - epsilon
                let minus = Double(loss.loss(logits: logits, labels: labels))
                logits[r, 0] = original
                let numeric = (plus - minus) / Double(2 * epsilon)
                #expect(abs(Double(gradient[r, 0]) - numeric) < 1e-2 * abs(numeric) + 1e-4)
            }
        }
    }

    @Test func agreesWithLogLoss() throws {
        let loss = SigmoidCrossEntropy()
        let logits = TestMatrix.random(rows: 7, columns: 1, seed: 3, limit: 5)
        let labels: [Float] = [1, 0, 0, 1, 1, 0, 1]
        let reference = try LogLoss.fromLogits(logits.values, labels: labels)
        #expect(abs(Double(loss.loss(logits: logits, labels: labels)) - reference) < 1e-6)
    }
}
