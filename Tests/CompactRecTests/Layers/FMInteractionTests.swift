import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct FMInteractionTests {
    /// `sum_{f < g} <v_f, v_g>` by enumerating the pairs.
    static func bruteForce(_ x: Matrix, row: Int, fields: Int, dimension: Int) -> Double {
        var sum = 0.0
        for f in 0..<fields {
            for g in (f + 1)..<max(fields, f + 1) {
                for k in 0..<dimension { sum += Double(x[row, f * dimension + k]) * Double(x[row, g * dimension + k]) }
            }
        }
        return sum
    }

    @Test func forwardMatchesBruteForcePairs() {
        let layer = FMInteraction(fields: 5, dimension: 3)
        let x = TestMatrix.random(rows: 4, columns: 15, seed: 1, limit: 2)
        let y = layer.forward(x, training: false)
        #expect(y.rows == 4 && y.columns == 1)
        for r in 0..<4 {
            #expect(abs(Double(y[r, 0]) - Self.bruteForce(x, row: r, fields: 5, dimension: 3)) < 1e-5)
        }
        // One field has no pairs.
        let single = FMInteraction(fields: 1, dimension: 4)
        #expect(single.forward(TestMatrix.random(rows: 2, columns: 4, seed: 2), training: false).values.allSatisfy { abs($0) < 1e-6 })
    }

    @Test func gradientsMatchFiniteDifferencesAcrossBatchSizes() {
        let layer = FMInteraction(fields: 4, dimension: 3)
        #expect(layer.parameters.isEmpty)
        for (index, batch) in [5, 3, 4].enumerated() {
            GradientCheck().verify(layer, input: TestMatrix.random(rows: batch, columns: 12, seed: 10 + UInt64(index)))
        }
    }

    @Test func backwardIsTheClosedForm() {
        let layer = FMInteraction(fields: 3, dimension: 2)
        let x = Matrix(rows: 1, columns: 6, values: [1, 2, 3, 4, 5, 6])
        _ = layer.forward(x, training: true)
        // Sums per k: [9, 12]; dv_fk = 2 * (sum_k - v_fk).
        #expect(layer.backward(Matrix(rows: 1, columns: 1, values: [2])).values == [16, 20, 12, 16, 8, 12])
    }

    @Test func threadsGiveTheSameBits() {
        let x = TestMatrix.random(rows: 200, columns: 8 * 16, seed: 3)
        let dy = TestMatrix.random(rows: 200, columns: 1, seed: 4)
        let one = FMInteraction(fields: 8, dimension: 16)
        let two = FMInteraction(fields: 8, dimension: 16)
        two.threads = 2
        #expect(TestMatrix.identical(one.forward(x, training: true), two.forward(x, training: true)))
        #expect(TestMatrix.identical(one.backward(dy), two.backward(dy)))
    }
}
