#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

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
    var firstMoments: [[Float]]
    var secondMoments: [[Float]]

    /// An optimizer for `parameters` (order fixed: state is kept per index).
    public init(rule: DenseUpdateRule, parameters: [DenseParameter], learningRate: Float,
                beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
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
        step += 1
        let lr = learningRate
        let correction1 = 1 - powf(beta1, Float(step))
        let correction2 = 1 - powf(beta2, Float(step))
        for (p, parameter) in parameters.enumerated() {
            let gradient = parameter.gradient
            switch rule {
            case .sgd:
                parameter.value.withUnsafeMutableBufferPointer { w in
                    gradient.withUnsafeBufferPointer { g in
                        for i in 0..<w.count { w[i] -= lr * g[i] }
                    }
                }
            case .adam:
                let (b1, b2, eps) = (beta1, beta2, epsilon)
                parameter.value.withUnsafeMutableBufferPointer { w in
                    gradient.withUnsafeBufferPointer { g in
                        firstMoments[p].withUnsafeMutableBufferPointer { m in
                            secondMoments[p].withUnsafeMutableBufferPointer { v in
                                for i in 0..<w.count {
                                    m[i] = b1 * m[i] + (1 - b1) * g[i]
                                    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                                    w[i] -= lr * (m[i] / correction1) / ((v[i] / correction2).squareRoot() + eps)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
