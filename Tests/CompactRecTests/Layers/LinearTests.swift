import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct LinearTests {
    @Test func forwardMatchesHandComputedTwoByTwo() {
        var random = SeededRandom(seed: 1)
        let layer = Linear(inputs: 2, outputs: 2, random: &random)
        layer.weight.value = Matrix(rows: 2, columns: 2, values: [0.5, -1, 2, 0.25])
        layer.bias?.value = Matrix(rows: 1, columns: 2, values: [0.1, -0.2])
        let x = Matrix(rows: 2, columns: 2, values: [1, 2, 3, 4])
        let y = layer.forward(x, training: false)
        // Row 0: [1*0.5 + 2*2 + 0.1, 1*-1 + 2*0.25 - 0.2]; row 1: [3*0.5 + 4*2 + 0.1, 3*-1 + 4*0.25 - 0.2].
        let expected: [Float] = [4.6, -0.7, 9.6, -2.2]
        #expect(y.rows == 2 && y.columns == 2)
        for (got, want) in zip(y.values, expected) { #expect(abs(got - want) < 1e-6) }
    }

    @Test func backwardMatchesHandComputedTwoByTwo() {
        var random = SeededRandom(seed: 1)
        let layer = Linear(inputs: 2, outputs: 2, random: &random)
        layer.weight.value = Matrix(rows: 2, columns: 2, values: [0.5, -1, 2, 0.25])
        let x = Matrix(rows: 2, columns: 2, values: [1, 2, 3, 4])
        _ = layer.forward(x, training: true)
        let dy = Matrix(rows: 2, columns: 2, values: [1, 0, -1, 2])
        let dx = layer.backward(dy)
        // dX = dY W^T: [1*0.5 + 0*-1, 1*2 + 0*0.25; -1*0.5 + 2*-1, -1*2 + 2*0.25]
        #expect(dx.values == [0.5, 2, -2.5, -1.5])
        // dW = X^T dY: [1*1 + 3*-1, 1*0 + 3*2; 2*1 + 4*-1, 2*0 + 4*2]
        #expect(layer.weight.gradient.values == [-2, 6, -2, 8])
        #expect(layer.bias?.gradient.values == [0, 2])
    }

    @Test func xavierUniformInitialisationAndZeroBias() {
        var random = SeededRandom(seed: 7)
        let layer = Linear(inputs: 60, outputs: 40, random: &random)
        let limit = (6.0 / 100.0 as Float).squareRoot()
        let weights = layer.weight.value.values
        #expect(weights.allSatisfy { abs($0) <= limit })
        // Uniform on [-a, a] has variance a^2 / 3.
        let variance = weights.reduce(0) { $0 + Double($1) * Double($1) } / Double(weights.count)
        #expect(abs(variance - Double(limit * limit) / 3) < 0.1 * Double(limit * limit) / 3)
        #expect(layer.bias?.value.values.allSatisfy { $0 == 0 } == true)
        #expect(layer.parameters.map(\.name) == ["linear.weight", "linear.bias"])
        #expect(layer.weight.value.rows == 60 && layer.weight.value.columns == 40)

        var again = SeededRandom(seed: 7)
        #expect(Linear(inputs: 60, outputs: 40, random: &again).weight.value == layer.weight.value)
    }

    @Test func gradientsMatchFiniteDifferencesAcrossBatchSizes() {
        var random = SeededRandom(seed: 2)
        let layer = Linear(inputs: 4, outputs: 3, random: &random)
        TestMatrix.randomizeParameters(of: layer, seed: 20)
        for (index, batch) in [5, 3, 4, 1].enumerated() {
            GradientCheck().verify(layer, input: TestMatrix.random(rows: batch, columns: 4, seed: 30 + UInt64(index)))
        }
    }

    @Test func gradientsWithoutBias() {
        var random = SeededRandom(seed: 3)
        let layer = Linear(inputs: 6, outputs: 2, bias: false, name: "wide", random: &random)
        #expect(layer.parameters.map(\.name) == ["wide.weight"])
        GradientCheck().verify(layer, input: TestMatrix.random(rows: 3, columns: 6, seed: 4))
        GradientCheck().verify(layer, input: TestMatrix.random(rows: 5, columns: 6, seed: 5))
    }

    @Test func buffersAreReusedWhenTheBatchShrinks() {
        var random = SeededRandom(seed: 4)
        let layer = Linear(inputs: 3, outputs: 5, random: &random)
        let big = layer.forward(TestMatrix.random(rows: 6, columns: 3, seed: 1), training: false)
        #expect(big.storage.count == 30)
        let small = layer.forward(TestMatrix.random(rows: 2, columns: 3, seed: 2), training: true)
        #expect(small.rows == 2 && small.storage.count == 30)
        let gradient = layer.backward(Matrix(rows: 2, columns: 5, repeating: 1))
        #expect(gradient.rows == 2 && gradient.columns == 3)
    }
}
