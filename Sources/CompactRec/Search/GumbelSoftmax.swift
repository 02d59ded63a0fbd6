import CompactRecData
import Foundation

/// AutoDim's mixing weights over one field's candidate dimensions: a differentiable sample from
/// the categorical distribution `softmax(alpha)` (Jang et al., 2017).
///
/// `p = softmax((log_softmax(alpha) + g) / tau)` with `g_i` independent Gumbel(0, 1) draws: as
/// `tau` falls the weights approach a one-hot choice of candidate `i` with probability
/// `softmax(alpha)_i`, while the gradient still reaches every `alpha_i`.
public struct GumbelSoftmax: Sendable {
    /// The Gumbel noise of the sample, one value per candidate.
    public let noise: [Float]
    /// The temperature.
    public let temperature: Float
    /// The mixing weights (sum to 1).
    public let weights: [Float]

    /// A sample for architecture weights `alpha` at `temperature`, with noise from `random`.
    public init(alpha: [Float], temperature: Float, random: inout SeededRandom) {
        let noise = alpha.map { _ in GumbelSoftmax.gumbel(&random) }
        self.init(alpha: alpha, temperature: temperature, noise: noise)
    }

    /// The weights for given noise (no noise: zeros, the deterministic `softmax(alpha / tau)`).
    public init(alpha: [Float], temperature: Float, noise: [Float]) {
        precondition(alpha.count == noise.count && !alpha.isEmpty && temperature > 0, "GumbelSoftmax: bad arguments")
        self.noise = noise
        self.temperature = temperature
        let logProbabilities = GumbelSoftmax.logSoftmax(alpha)
        weights = GumbelSoftmax.softmax(zip(logProbabilities, noise).map { ($0 + $1) / temperature })
    }

    /// A Gumbel(0, 1) draw, `-log(-log(u))` for `u` uniform in (0, 1).
    public static func gumbel(_ random: inout SeededRandom) -> Float {
        var u = random.nextUnitDouble()
        while u <= 0 || u >= 1 { u = random.nextUnitDouble() }
        return Float(-Foundation.log(-Foundation.log(u)))
    }

    /// `softmax(x)`, shifted by the maximum so that no exponential overflows.
    public static func softmax(_ x: [Float]) -> [Float] {
        let top = x.max() ?? 0
        let exps = x.map { Foundation.exp(Double($0 - top)) }
        let sum = exps.reduce(0, +)
        return exps.map { Float($0 / sum) }
    }

    /// `log(softmax(x))`, computed stably.
    public static func logSoftmax(_ x: [Float]) -> [Float] {
        let top = x.max() ?? 0
        let logSum = Foundation.log(x.reduce(0.0) { $0 + Foundation.exp(Double($1 - top)) }) + Double(top)
        return x.map { Float(Double($0) - logSum) }
    }

    /// dLoss/dalpha from dLoss/dweights, through the softmax, the temperature and the
    /// log-softmax (the noise is a constant).
    public func alphaGradient(weightGradient: [Float], alpha: [Float]) -> [Float] {
        precondition(weightGradient.count == weights.count && alpha.count == weights.count, "GumbelSoftmax: bad gradient")
        // dz_i = p_i (dp_i - <dp, p>) / tau, z being the logits before the temperature.
        let mean = zip(weightGradient, weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let dz = zip(weightGradient, weights).map { Double($1) * (Double($0) - mean) / Double(temperature) }
        // d(log_softmax(alpha))_i / dalpha_j = delta_ij - softmax(alpha)_j.
        let probabilities = GumbelSoftmax.softmax(alpha)
        let total = dz.reduce(0, +)
        return zip(dz, probabilities).map { Float($0 - total * Double($1)) }
    }
}

/// How AutoDim's Gumbel-softmax temperature falls during the search.
public enum TemperatureSchedule: String, Sendable, Codable, CaseIterable {
    /// The paper's: `tau = max(0.01, 1 - 0.00005 t)`, `t` = samples seen / 2,000 (the published
    /// schedule counted batches of 2,000). It reaches 0.01 after about 40M samples.
    case published
    /// Linear from 1 to 0.01 over the search's planned samples, so that short searches on
    /// small data anneal too.
    case searchLength = "search-length"

    /// Temperature after `samplesSeen` of `plannedSamples`.
    public func temperature(samplesSeen: Int, plannedSamples: Int) -> Float {
        switch self {
        case .published:
            return max(0.01, 1 - 0.00005 * Float(Double(samplesSeen) / 2000))
        case .searchLength:
            let fraction = plannedSamples > 0 ? min(1, Double(samplesSeen) / Double(plannedSamples)) : 1
            return max(0.01, Float(1 - 0.99 * fraction))
        }
    }
}
