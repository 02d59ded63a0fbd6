import Testing
@testable import CompactRec

@Suite struct SparseOptimizerTests {
    func table() -> EmbeddingTable {
        EmbeddingTable(name: "t", rows: 4, dimension: 2, weights: [1, 2, 3, 4, 5, 6, 7, 8])
    }

    func accumulate(_ table: EmbeddingTable, row: UInt32, _ gradient: [Float]) {
        gradient.withUnsafeBufferPointer { table.accumulateGradient(row: row, from: $0, offset: 0) }
    }

    @Test func duplicateRowsAccumulateIntoOneSlot() {
        let t = table()
        accumulate(t, row: 2, [1, 1])
        accumulate(t, row: 0, [0.5, 0])
        accumulate(t, row: 2, [2, -3])
        #expect(t.touchedRows == [2, 0])
        #expect(t.gradientRows == [3, -2, 0.5, 0])
        t.zeroGradient()
        #expect(t.touchedRows.isEmpty && t.gradientRows.isEmpty)
        accumulate(t, row: 1, [1, 1])
        #expect(t.touchedRows == [1])
    }

    @Test func sgdUpdatesOnlyTouchedRowsWithL2() {
        let t = table()
        accumulate(t, row: 1, [1, -1])
        let optimizer = SparseOptimizer(rule: .sgd, tables: [t], learningRate: 0.1, l2: 0.5)
        optimizer.apply(to: [t])
        // Row 1 = (3, 4): w - 0.1 * (g + 0.5 w) = (3 - 0.1 * 2.5, 4 - 0.1 * 1).
        #expect(t.weights == [1, 2, 2.75, 3.9, 5, 6, 7, 8])
    }

    @Test func rowwiseAdagradMatchesHandComputation() {
        let t = table()
        accumulate(t, row: 3, [3, 4])
        let optimizer = SparseOptimizer(rule: .rowwiseAdagrad, tables: [t], learningRate: 0.5, epsilon: 0)
        optimizer.apply(to: [t])
        // Accumulator = mean(9, 16) = 12.5; step = 0.5 / sqrt(12.5) * g.
        let scale = 0.5 / Float(12.5).squareRoot()
        #expect(abs(t.weights[6] - (7 - scale * 3)) < 1e-6)
        #expect(abs(t.weights[7] - (8 - scale * 4)) < 1e-6)
        #expect(t.weights[0..<6] == [1, 2, 3, 4, 5, 6])
        #expect(optimizer.firstState[0] == [0, 0, 0, 12.5])
    }

    @Test func lazyAdamFirstStepMovesByLearningRateTimesSign() {
        let t = table()
        accumulate(t, row: 0, [0.3, -20])
        let optimizer = SparseOptimizer(rule: .lazyAdam, tables: [t], learningRate: 0.01, epsilon: 0)
        optimizer.apply(to: [t])
        // After bias correction, m/sqrt(v) = g/|g| on the first step.
        #expect(abs(t.weights[0] - 0.99) < 1e-6)
        #expect(abs(t.weights[1] - 2.01) < 1e-6)
        #expect(t.weights[2...] == [3, 4, 5, 6, 7, 8])
        // A second step on another row leaves row 0's moments untouched (lazy).
        t.zeroGradient()
        accumulate(t, row: 1, [1, 1])
        let before = optimizer.firstState[0][0]
        optimizer.apply(to: [t])
        #expect(optimizer.firstState[0][0] == before)
        #expect(optimizer.step == 2)
    }
}
