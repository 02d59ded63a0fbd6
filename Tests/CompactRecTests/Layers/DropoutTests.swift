import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct DropoutTests {
    @Test func trainingDropsAboutRateAndRescalesTheRest() {
        let layer = Dropout(rate: 0.3, seed: 11)
        let x = TestMatrix.random(rows: 64, columns: 50, seed: 1, awayFromZero: 0.01)
        let y = layer.forward(x, training: true)
        var kept = 0
        for r in 0..<64 {
            for c in 0..<50 {
                if y[r, c] == 0 { continue }
                kept += 1
                #expect(abs(y[r, c] - x[r, c] / 0.7) <= 1e-6 * abs(y[r, c]))
            }
        }
        // 3200 draws: the kept fraction is 0.7 within about 4 standard deviations (0.008 each).
        #expect(abs(Double(kept) / 3200 - 0.7) < 0.035)
        // Backward passes the gradient through the same mask.
        let ones = Matrix(rows: 64, columns: 50, repeating: 1)
        let dx = layer.backward(ones)
        for r in 0..<64 {
            for c in 0..<50 { #expect(dx[r, c] == (y[r, c] == 0 ? 0 : 1 / 0.7 as Float)) }
        }
    }

    @Test func inferenceAndZeroRateAreTheIdentity() {
        let x = TestMatrix.random(rows: 3, columns: 4, seed: 2)
        let dy = TestMatrix.random(rows: 3, columns: 4, seed: 3)
        let layer = Dropout(rate: 0.5, seed: 1)
        #expect(layer.forward(x, training: false) == x)
        #expect(layer.backward(dy) == dy)
        let none = Dropout(rate: 0, seed: 1)
        #expect(none.forward(x, training: true) == x)
        #expect(none.backward(dy) == dy)
        #expect(layer.parameters.isEmpty)
    }

    @Test func masksAreDeterministicFromTheSeedAndChangePerBatch() {
        let x = Matrix(rows: 8, columns: 16, repeating: 1)
        let a = Dropout(rate: 0.5, seed: 99)
        let b = Dropout(rate: 0.5, seed: 99)
        let c = Dropout(rate: 0.5, seed: 100)
        let first = a.forward(x, training: true)
        #expect(first == b.forward(x, training: true))
        #expect(first != c.forward(x, training: true))
        #expect(first != a.forward(x, training: true))
    }

    @Test func threadsGiveTheSameMask() {
        let x = TestMatrix.random(rows: 256, columns: 100, seed: 5)
        let one = Dropout(rate: 0.2, seed: 3)
        let two = Dropout(rate: 0.2, seed: 3)
        two.threads = 2
        for _ in 0..<2 {
            #expect(TestMatrix.identical(one.forward(x, training: true), two.forward(x, training: true)))
        }
    }

    @Test func gradientsMatchFiniteDifferencesWithAFixedMask() {
        let layer = Dropout(rate: 0.4, seed: 5)
        for (index, batch) in [5, 3, 4].enumerated() {
            let x = TestMatrix.random(rows: batch, columns: 6, seed: 20 + UInt64(index))
            // Draw a mask for this batch size, then hold it for the differences.
            layer.reusesMask = false
            _ = layer.forward(x, training: true)
            layer.reusesMask = true
            GradientCheck().verify(layer, input: x)
        }
    }
}
