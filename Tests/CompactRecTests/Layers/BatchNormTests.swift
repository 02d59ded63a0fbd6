import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct BatchNormTests {
    @Test func trainingNormalisesEachFeatureOverTheBatch() {
        let layer = BatchNorm(features: 3)
        let x = TestMatrix.random(rows: 6, columns: 3, seed: 1, limit: 4)
        let y = layer.forward(x, training: true)
        for c in 0..<3 {
            let column = (0..<6).map { Double(y[$0, c]) }
            let mean = column.reduce(0, +) / 6
            let variance = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 6
            #expect(abs(mean) < 1e-5)
            // Biased variance 1, up to epsilon's share.
            #expect(abs(variance - 1) < 1e-3)
        }
    }

    @Test func runningStatisticsFollowPyTorchAndDriveInference() {
        let layer = BatchNorm(features: 2)
        layer.gamma?.value = Matrix(rows: 1, columns: 2, values: [2, 0.5])
        layer.beta?.value = Matrix(rows: 1, columns: 2, values: [1, -1])
        // Column 0: 1, 2, 3, 6 (mean 3, biased variance 3.5, unbiased 14/3);
        // column 1: 0, 0, 4, 4 (mean 2, biased variance 4, unbiased 16/3).
        let x = Matrix(rows: 4, columns: 2, values: [1, 0, 2, 0, 3, 4, 6, 4])
        let y = layer.forward(x, training: true)
        #expect(abs(y[0, 0] - (2 * (1 - 3) / (3.5 + 1e-5 as Float).squareRoot() + 1)) < 1e-5)
        #expect(abs(y[2, 1] - (0.5 * (4 - 2) / (4 + 1e-5 as Float).squareRoot() - 1)) < 1e-5)

        let mean: [Float] = [0.9 * 0 + 0.1 * 3, 0.9 * 0 + 0.1 * 2]
        let variance: [Float] = [0.9 * 1 + 0.1 * 14 / 3, 0.9 * 1 + 0.1 * 16 / 3]
        for c in 0..<2 {
            #expect(abs(layer.runningMean[0, c] - mean[c]) < 1e-6)
            #expect(abs(layer.runningVariance[0, c] - variance[c]) < 1e-6)
        }

        // Inference uses the running statistics, not the batch's, and leaves them unchanged.
        let probe = Matrix(rows: 2, columns: 2, values: [1, 2, -3, 0.5])
        let z = layer.forward(probe, training: false)
        let gamma: [Float] = [2, 0.5]
        let beta: [Float] = [1, -1]
        for r in 0..<2 {
            for c in 0..<2 {
                let expected = gamma[c] * (probe[r, c] - mean[c]) / (variance[c] + 1e-5).squareRoot() + beta[c]
                #expect(abs(z[r, c] - expected) < 1e-5)
            }
        }
        #expect(abs(layer.runningMean[0, 0] - mean[0]) < 1e-6)
    }

    @Test func aBatchOfOneKeepsTheRunningVariance() {
        let layer = BatchNorm(features: 2, affine: false)
        let y = layer.forward(Matrix(rows: 1, columns: 2, values: [5, -3]), training: true)
        #expect(y.values == [0, 0])
        #expect(layer.runningVariance.values == [1, 1])
        #expect(abs(layer.runningMean[0, 0] - 0.5) < 1e-6 && abs(layer.runningMean[0, 1] + 0.3) < 1e-6)
        #expect(layer.backward(Matrix(rows: 1, columns: 2, values: [1, 1])).values == [0, 0])
    }

    @Test func affineGradientsMatchFiniteDifferencesAcrossBatchSizes() {
        let layer = BatchNorm(features: 4)
        TestMatrix.randomizeParameters(of: layer, seed: 60)
        #expect(layer.parameters.map(\.name) == ["batchnorm.gamma", "batchnorm.beta"])
        for (index, batch) in [5, 3, 4].enumerated() {
            GradientCheck().verify(layer, input: TestMatrix.random(rows: batch, columns: 4, seed: 70 + UInt64(index), limit: 2))
        }
    }

    @Test func nonAffineGradientsMatchFiniteDifferences() {
        let layer = BatchNorm(features: 3, affine: false)
        #expect(layer.parameters.isEmpty && !layer.affine)
        for (index, batch) in [4, 5, 3].enumerated() {
            GradientCheck().verify(layer, input: TestMatrix.random(rows: batch, columns: 3, seed: 80 + UInt64(index), limit: 2))
        }
    }

    @Test func largeMeanDoesNotLosePrecision() {
        let layer = BatchNorm(features: 1, affine: false)
        let x = Matrix(rows: 4, columns: 1, values: [1000, 1001, 1002, 1003])
        let y = layer.forward(x, training: true)
        let expected = [-1.5, -0.5, 0.5, 1.5].map { Float($0 / (1.25 + 1e-5).squareRoot()) }
        for (got, want) in zip(y.values, expected) { #expect(abs(got - want) < 1e-5) }
    }

    @Test func threadsGiveTheSameBits() {
        let x = TestMatrix.random(rows: 400, columns: 64, seed: 3)
        let dy = TestMatrix.random(rows: 400, columns: 64, seed: 4)
        let one = BatchNorm(features: 64)
        let two = BatchNorm(features: 64)
        two.threads = 2
        #expect(TestMatrix.identical(one.forward(x, training: true), two.forward(x, training: true)))
        #expect(TestMatrix.identical(one.backward(dy), two.backward(dy)))
        #expect(TestMatrix.identical(one.forward(x, training: false), two.forward(x, training: false)))
    }
}
