import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct ReLUTests {
    @Test func forwardAndBackwardValues() {
        let layer = ReLU()
        let x = Matrix(rows: 2, columns: 3, values: [-1, 0, 2, 3.5, -0.25, 1e-30])
        #expect(layer.forward(x, training: true).values == [0, 0, 2, 3.5, 0, 1e-30])
        let dy = Matrix(rows: 2, columns: 3, values: [1, 2, 3, 4, 5, 6])
        // The gradient at exactly 0 is 0 (PyTorch's convention).
        #expect(layer.backward(dy).values == [0, 0, 3, 4, 0, 6])
        #expect(layer.parameters.isEmpty)
    }

    @Test func gradientsMatchFiniteDifferencesAcrossBatchSizes() {
        let layer = ReLU()
        for (index, batch) in [4, 2, 5].enumerated() {
            GradientCheck().verify(layer, input: TestMatrix.random(rows: batch, columns: 5, seed: 40 + UInt64(index), awayFromZero: 0.05))
        }
        // A new width rebuilds the buffers.
        GradientCheck().verify(layer, input: TestMatrix.random(rows: 3, columns: 2, seed: 50, awayFromZero: 0.05))
    }

    @Test func threadsGiveTheSameBits() {
        let x = TestMatrix.random(rows: 300, columns: 120, seed: 9)
        let dy = TestMatrix.random(rows: 300, columns: 120, seed: 10)
        let one = ReLU()
        let two = ReLU()
        two.threads = 2
        #expect(TestMatrix.identical(one.forward(x, training: true), two.forward(x, training: true)))
        #expect(TestMatrix.identical(one.backward(dy), two.backward(dy)))
    }
}
