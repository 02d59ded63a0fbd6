import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

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

/// The vectorised, multi-threaded updates against plain scalar definitions, bit for bit.
@Suite struct OptimizerKernelTests {
    /// Tables of widths 16 (two SIMD8 groups), 3 (scalar only), 11 (a group and a tail) and 1,
    /// with gradients on a random half of their rows.
    static func tables() -> [EmbeddingTable] {
        var random = SeededRandom(seed: 31)
        return [(40, 16), (30, 3), (25, 11), (60, 1)].enumerated().map { index, shape in
            let (rows, d) = shape
            let table = EmbeddingTable(
                name: "t\(index)", rows: rows, dimension: d,
                weights: (0..<rows * d).map { _ in random.nextUnitFloat() - 0.5 })
            for _ in 0..<rows {
                let gradient = (0..<d).map { _ in 4 * (random.nextUnitFloat() - 0.5) }
                gradient.withUnsafeBufferPointer {
                    table.accumulateGradient(row: UInt32(random.next() % UInt64(rows)), from: $0, offset: 0)
                }
            }
            return table
        }
    }

    @Test(arguments: SparseUpdateRule.allCases)
    func sparseRulesMatchScalarDefinitionOnAnyThreadCount(rule: SparseUpdateRule) {
        var results: [[[UInt32]]] = []
        for threads in [1, 2, 3] {
            let tables = Self.tables()
            let optimizer = SparseOptimizer(rule: rule, tables: tables, learningRate: 0.05, l2: 0.01)
            optimizer.threads = threads
            for _ in 0..<3 { optimizer.apply(to: tables) }
            results.append(tables.map { $0.weights.map(\.bitPattern) })
        }
        #expect(results[1] == results[0] && results[2] == results[0])
        // Scalar definition, three steps with the same gradients.
        let tables = Self.tables()
        let (lr, l2, b1, b2, eps): (Float, Float, Float, Float, Float) = (0.05, 0.01, 0.9, 0.999, 1e-8)
        for (t, table) in tables.enumerated() {
            let d = table.dimension
            var w = table.weights
            var m = [Float](repeating: 0, count: w.count)
            var v = m
            var accumulator = [Float](repeating: 0, count: table.rows)
            for step in 1...3 {
                let c1 = 1 - powf(b1, Float(step))
                let c2 = 1 - powf(b2, Float(step))
                for (slot, row) in table.touchedRows.enumerated() {
                    let base = Int(row) * d
                    switch rule {
                    case .sgd:
                        for k in 0..<d { w[base + k] -= lr * (table.gradientRows[slot * d + k] + l2 * w[base + k]) }
                    case .rowwiseAdagrad:
                        var meanSquare: Float = 0
                        for k in 0..<d {
                            let g = table.gradientRows[slot * d + k] + l2 * w[base + k]
                            meanSquare += g * g
                        }
                        accumulator[Int(row)] += meanSquare / Float(d)
                        let scale = lr / (accumulator[Int(row)].squareRoot() + eps)
                        for k in 0..<d { w[base + k] -= scale * (table.gradientRows[slot * d + k] + l2 * w[base + k]) }
                    case .lazyAdam:
                        for k in 0..<d {
                            let g = table.gradientRows[slot * d + k] + l2 * w[base + k]
                            m[base + k] = b1 * m[base + k] + (1 - b1) * g
                            v[base + k] = b2 * v[base + k] + (1 - b2) * g * g
                            w[base + k] -= lr * (m[base + k] / c1) / ((v[base + k] / c2).squareRoot() + eps)
                        }
                    }
                }
            }
            #expect(results[0][t] == w.map(\.bitPattern), "\(rule) table \(t)")
        }
    }

    @Test(arguments: DenseUpdateRule.allCases)
    func denseRulesMatchScalarDefinitionOnAnyThreadCount(rule: DenseUpdateRule) {
        // 40,003 values: split over threads, and not a multiple of 8.
        func parameters() -> [DenseParameter] {
            var random = SeededRandom(seed: 41)
            return [(1, 5), (211, 191), (3, 8)].map { rows, columns in
                let parameter = DenseParameter(name: "p", value: .uniform(rows: rows, columns: columns, limit: 1, random: &random))
                parameter.gradient = .uniform(rows: rows, columns: columns, limit: 3, random: &random)
                return parameter
            }
        }
        var results: [[[UInt32]]] = []
        for threads in [1, 2, 3] {
            let list = parameters()
            let optimizer = DenseOptimizer(rule: rule, parameters: list, learningRate: 0.01)
            optimizer.threads = threads
            for _ in 0..<3 { optimizer.apply(to: list) }
            results.append(list.map { $0.value.values.map(\.bitPattern) })
        }
        #expect(results[1] == results[0] && results[2] == results[0])
        let (lr, b1, b2, eps): (Float, Float, Float, Float) = (0.01, 0.9, 0.999, 1e-8)
        for (p, parameter) in parameters().enumerated() {
            var w = parameter.value.values
            let g = parameter.gradient.values
            var m = [Float](repeating: 0, count: w.count)
            var v = m
            for step in 1...3 {
                let c1 = 1 - powf(b1, Float(step))
                let c2 = 1 - powf(b2, Float(step))
                for i in 0..<w.count {
                    switch rule {
                    case .sgd:
                        w[i] -= lr * g[i]
                    case .adam:
                        m[i] = b1 * m[i] + (1 - b1) * g[i]
                        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                        w[i] -= lr * (m[i] / c1) / ((v[i] / c2).squareRoot() + eps)
                    }
                }
            }
            #expect(results[0][p] == w.map(\.bitPattern), "\(rule) parameter \(p)")
        }
    }
}
