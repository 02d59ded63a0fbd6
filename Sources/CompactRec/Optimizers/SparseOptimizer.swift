import CompactRecData
import CompactRecShims

/// The update rule for embedding tables. Every rule touches only the rows in a table's sparse
/// gradient, so a step costs what the batch used, however large the table.
public enum SparseUpdateRule: String, Sendable, Codable, CaseIterable {
    /// Plain SGD on the touched rows.
    case sgd
    /// Row-wise Adagrad (one accumulator per row, of the row's mean squared gradient), as DLRM
    /// and TorchRec's fused optimizers use: 1/d of Adagrad's state.
    case rowwiseAdagrad = "rowwise-adagrad"
    /// Lazy Adam: Adam's moments per element, updated only for touched rows, with the global
    /// step's bias correction (TensorFlow's LazyAdam, PyTorch's SparseAdam).
    case lazyAdam = "lazy-adam"
}

/// Updates embedding tables from their sparse gradients.
///
/// Threads: tables are handed out whole to up to `threads` cores (each table's rows are updated
/// by one thread, in the order the batch touched them), so the result is the same bits for any
/// thread count. The row updates work on unsafe pointers (no exclusivity checks or bounds checks
/// per value); Adam's is `AdamStep`, with vectorised square roots.
public final class SparseOptimizer {
    /// The rule.
    public let rule: SparseUpdateRule
    /// Step size.
    public var learningRate: Float
    /// L2 penalty on the touched rows (adds `l2 * w` to their gradient).
    public let l2: Float
    /// Adam's beta1, beta2 and epsilon (Adagrad uses epsilon).
    public let beta1: Float, beta2: Float, epsilon: Float
    /// Steps taken.
    public internal(set) var step = 0
    /// Cores `apply` may use (tables are shared out whole; any count gives the same result).
    public var threads = Parallel.defaultThreads
    /// Per table: Adagrad's per-row accumulators, or Adam's first moments.
    var firstState: [[Float]]
    /// Per table: Adam's second moments (empty otherwise).
    var secondState: [[Float]]

    /// An optimizer for `tables` (their order is fixed: state is kept per table index).
    public init(
        rule: SparseUpdateRule, tables: [EmbeddingTable], learningRate: Float, l2: Float = 0,
        beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, initialAccumulator: Float = 0
    ) {
        self.rule = rule
        self.learningRate = learningRate
        self.l2 = l2
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        switch rule {
        case .sgd:
            firstState = tables.map { _ in [] }
            secondState = tables.map { _ in [] }
        case .rowwiseAdagrad:
            firstState = tables.map { LargeArray.repeating(initialAccumulator, count: $0.rows) }
            secondState = tables.map { _ in [] }
        case .lazyAdam:
            firstState = tables.map { LargeArray.repeating(0, count: $0.rows * $0.dimension) }
            secondState = tables.map { LargeArray.repeating(0, count: $0.rows * $0.dimension) }
        }
    }

    /// Optimizer state in floats (for memory accounting).
    public var stateCount: Int { firstState.reduce(0) { $0 + $1.count } + secondState.reduce(0) { $0 + $1.count } }

    /// Applies one step to every table's touched rows (the tables in the order given at init).
    public func apply(to tables: [EmbeddingTable]) {
        precondition(tables.count == firstState.count, "SparseOptimizer: \(tables.count) tables, state for \(firstState.count)")
        for (t, table) in tables.enumerated() {
            let expected = rule == .sgd ? 0 : rule == .rowwiseAdagrad ? table.rows : table.rows * table.dimension
            precondition(firstState[t].count == expected, "SparseOptimizer: table \(t) (\(table.name)) does not match its state")
        }
        step += 1
        let update = SparseUpdate(self)
        let shared = UncheckedSendable(tables)
        firstState.withUnsafeMutableBufferPointer { first in
            secondState.withUnsafeMutableBufferPointer { second in
                // Each thread mutates only the state arrays of the tables it claimed.
                let states = UncheckedSendable((first, second))
                Parallel.forEachClaimed(tables.count, threads: threads) { t in
                    let table = shared.value[t]
                    states.value.0[t].withUnsafeMutableBufferPointer { m in
                        states.value.1[t].withUnsafeMutableBufferPointer { v in
                            update.apply(to: table, first: m.baseAddress, second: v.baseAddress)
                        }
                    }
                }
            }
        }
    }
}

/// One step's constants, and the row updates of each rule.
private struct SparseUpdate: Sendable {
    let rule: SparseUpdateRule
    let learningRate: Float, l2: Float, epsilon: Float
    let adam: AdamStep

    init(_ optimizer: SparseOptimizer) {
        rule = optimizer.rule
        learningRate = optimizer.learningRate
        l2 = optimizer.l2
        epsilon = optimizer.epsilon
        adam = AdamStep(
            learningRate: learningRate, beta1: optimizer.beta1, beta2: optimizer.beta2, epsilon: epsilon,
            step: optimizer.step, l2: l2)
    }

    /// Rows ahead whose weights and state are prefetched: touched rows are scattered over
    /// tables of up to millions of rows, so each is a few cache misses.
    static let prefetchDistance = 4

    /// Updates `table`'s touched rows; `first` and `second` are its state arrays (nil when empty).
    func apply(to table: EmbeddingTable, first: UnsafeMutablePointer<Float>?, second: UnsafeMutablePointer<Float>?) {
        let d = table.dimension
        table.withGradient { touched, gradients in
            let count = touched.count
            guard count > 0, let rows = touched.baseAddress, let g = gradients.baseAddress else { return }
            table.weights.withUnsafeMutableBufferPointer { weights in
                guard let w = weights.baseAddress else { return }
                for slot in 0..<count {
                    let ahead = slot + Self.prefetchDistance
                    if ahead < count {
                        let base = Int(rows[ahead]) &* d
                        prefetchRow(w + base, d)
                        if rule == .lazyAdam, let first, let second {
                            prefetchRow(first + base, d)
                            prefetchRow(second + base, d)
                        }
                    }
                    let row = Int(rows[slot])
                    let base = row &* d
                    let gradient = g + slot &* d
                    switch rule {
                    case .sgd:
                        sgd(w + base, gradient, d)
                    case .rowwiseAdagrad:
                        guard let first else { return }
                        rowwiseAdagrad(w + base, gradient, d, accumulator: first + row)
                    case .lazyAdam:
                        guard let first, let second else { return }
                        adam.update(w + base, gradient, first + base, second + base, count: d)
                    }
                }
            }
        }
    }

    @inline(__always)
    private func prefetchRow(_ row: UnsafeMutablePointer<Float>, _ d: Int) {
        compactrec_prefetch_for_write(row)
        if d > 1 { compactrec_prefetch_for_write(row + (d - 1)) }
    }

    @inline(__always)
    private func sgd(_ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ d: Int) {
        for k in 0..<d { w[k] -= learningRate * (g[k] + l2 * w[k]) }
    }

    @inline(__always)
    private func rowwiseAdagrad(
        _ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ d: Int,
        accumulator: UnsafeMutablePointer<Float>
    ) {
        var meanSquare: Float = 0
        for k in 0..<d {
            let gk = g[k] + l2 * w[k]
            meanSquare += gk * gk
        }
        accumulator.pointee += meanSquare / Float(d)
        let scale = learningRate / (accumulator.pointee.squareRoot() + epsilon)
        for k in 0..<d { w[k] -= scale * (g[k] + l2 * w[k]) }
    }
}
