import CompactRecData

/// The update rule for dense parameters (MLP weights, projections).
public enum DenseUpdateRule: String, Sendable, Codable, CaseIterable {
    /// Adam (Kingma & Ba), the default for CTR models' dense layers.
    case adam
    /// Plain SGD.
    case sgd
}

/// Updates dense parameters from their (full) gradients.
public final class DenseOptimizer {
    /// The rule.
    public let rule: DenseUpdateRule
    /// Step size.
    public var learningRate: Float
    /// Adam's beta1, beta2, epsilon.
    public let beta1: Float, beta2: Float, epsilon: Float
    /// Steps taken.
    public internal(set) var step = 0
    /// Cores `apply` may use on large parameters (each value's update is independent, so any
    /// count gives the same result).
    public var threads = Parallel.defaultThreads
    var firstMoments: [[Float]]
    var secondMoments: [[Float]]

    /// An optimizer for `parameters` (order fixed: state is kept per index).
    public init(
        rule: DenseUpdateRule, parameters: [DenseParameter], learningRate: Float,
        beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8
    ) {
        self.rule = rule
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        let needsMoments = rule == .adam
        firstMoments = parameters.map { [Float](repeating: 0, count: needsMoments ? $0.value.count : 0) }
        secondMoments = parameters.map { [Float](repeating: 0, count: needsMoments ? $0.value.count : 0) }
    }

    /// Optimizer state in floats.
    public var stateCount: Int { firstMoments.reduce(0) { $0 + $1.count } + secondMoments.reduce(0) { $0 + $1.count } }

    /// Applies one step to every parameter (in the order given at init).
    public func apply(to parameters: [DenseParameter]) {
        precondition(
            parameters.count == firstMoments.count, "DenseOptimizer: \(parameters.count) parameters, state for \(firstMoments.count)")
        step += 1
        let adam = AdamStep(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, step: step)
        let lr = learningRate
        for (p, parameter) in parameters.enumerated() {
            let count = parameter.value.count
            precondition(parameter.gradient.count == count, "DenseOptimizer: \(parameter.name)'s gradient has another shape")
            switch rule {
            case .sgd:
                parameter.value.withUnsafeMutableBufferPointer { w in
                    parameter.gradient.withUnsafeBufferPointer { g in
                        guard let wp = w.baseAddress, let gp = g.baseAddress else { return }
                        let pointers = UncheckedSendable((wp, gp))
                        Elementwise.forEachRowRange(rows: count, workPerRow: 1, threads: threads) { range in
                            let (w, g) = pointers.value
                            for i in range { w[i] -= lr * g[i] }
                        }
                    }
                }
            case .adam:
                precondition(
                    firstMoments[p].count == count && secondMoments[p].count == count,
                    "DenseOptimizer: \(parameter.name) does not match its moments")
                parameter.value.withUnsafeMutableBufferPointer { w in
                    parameter.gradient.withUnsafeBufferPointer { g in
                        firstMoments[p].withUnsafeMutableBufferPointer { m in
                            secondMoments[p].withUnsafeMutableBufferPointer { v in
                                guard let wp = w.baseAddress, let gp = g.baseAddress,
                                    let mp = m.baseAddress, let vp = v.baseAddress
                                else { return }
                                let pointers = UncheckedSendable((wp, gp, mp, vp))
                                // Chunks of 8-value groups, so the SIMD and scalar split of each
                                // value is the same for any thread count.
                                let groups = (count + 7) / 8
                                Elementwise.forEachRowRange(rows: groups, workPerRow: 8, threads: threads) { range in
                                    let (w, g, m, v) = pointers.value
                                    let start = range.lowerBound * 8
                                    let end = min(count, range.upperBound * 8)
                                    adam.update(w + start, g + start, m + start, v + start, count: end - start)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
