#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

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
    /// Per table: Adagrad's per-row accumulators, or Adam's first moments.
    var firstState: [[Float]]
    /// Per table: Adam's second moments (empty otherwise).
    var secondState: [[Float]]

    /// An optimizer for `tables` (their order is fixed: state is kept per table index).
    public init(rule: SparseUpdateRule, tables: [EmbeddingTable], learningRate: Float, l2: Float = 0,
                beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, initialAccumulator: Float = 0) {
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
            firstState = tables.map { [Float](repeating: initialAccumulator, count: $0.rows) }
            secondState = tables.map { _ in [] }
        case .lazyAdam:
            firstState = tables.map { [Float](repeating: 0, count: $0.rows * $0.dimension) }
            secondState = tables.map { [Float](repeating: 0, count: $0.rows * $0.dimension) }
        }
    }

    /// Optimizer state in floats (for memory accounting).
    public var stateCount: Int { firstState.reduce(0) { $0 + $1.count } + secondState.reduce(0) { $0 + $1.count } }

    /// Applies one step to every table's touched rows (the tables in the order given at init).
    public func apply(to tables: [EmbeddingTable]) {
        step += 1
        let lr = learningRate
        let l2 = l2
        let correction1 = 1 - powf(beta1, Float(step))
        let correction2 = 1 - powf(beta2, Float(step))
        for (t, table) in tables.enumerated() {
            let d = table.dimension
            let touched = table.touchedRows
            let gradients = table.gradientRows
            table.weights.withUnsafeMutableBufferPointer { w in
                gradients.withUnsafeBufferPointer { g in
                    for (slot, row) in touched.enumerated() {
                        let base = Int(row) * d
                        switch rule {
                        case .sgd:
                            for k in 0..<d { w[base + k] -= lr * (g[slot * d + k] + l2 * w[base + k]) }
                        case .rowwiseAdagrad:
                            var meanSquare: Float = 0
                            for k in 0..<d {
                                let gk = g[slot * d + k] + l2 * w[base + k]
                                meanSquare += gk * gk
                            }
                            firstState[t][Int(row)] += meanSquare / Float(d)
                            let scale = lr / (firstState[t][Int(row)].squareRoot() + epsilon)
                            for k in 0..<d { w[base + k] -= scale * (g[slot * d + k] + l2 * w[base + k]) }
                        case .lazyAdam:
                            for k in 0..<d {
                                let gk = g[slot * d + k] + l2 * w[base + k]
                                let m = beta1 * firstState[t][base + k] + (1 - beta1) * gk
                                let v = beta2 * secondState[t][base + k] + (1 - beta2) * gk * gk
                                firstState[t][base + k] = m
                                secondState[t][base + k] = v
                                w[base + k] -= lr * (m / correction1) / ((v / correction2).squareRoot() + epsilon)
                            }
                        }
                    }
                }
            }
        }
    }
}
