import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct GumbelSoftmaxTests {
    @Test func argmaxOfSamplesFollowsSoftmaxOfAlpha() {
        // The Gumbel-max property: argmax(log_softmax(alpha) + g) is distributed as softmax(alpha),
        // and so is the argmax of the tempered weights, at any temperature.
        let alpha: [Float] = [1, 0, -1, 0.5]
        let expected = GumbelSoftmax.softmax(alpha)
        var random = SeededRandom(seed: 11)
        var counts = [0, 0, 0, 0]
        let draws = 40_000
        var weightSums = [Double](repeating: 0, count: 4)
        for _ in 0..<draws {
            let sample = GumbelSoftmax(alpha: alpha, temperature: 0.5, random: &random)
            #expect(abs(sample.weights.reduce(0, +) - 1) < 1e-5)
            let top = sample.weights.indices.max { sample.weights[$0] < sample.weights[$1] } ?? 0
            counts[top] += 1
            for i in 0..<4 { weightSums[i] += Double(sample.weights[i]) }
        }
        for i in 0..<4 {
            // Binomial standard error at 40,000 draws is at most 0.0025: allow four of them.
            #expect(abs(Double(counts[i]) / Double(draws) - Double(expected[i])) < 0.01, "candidate \(i)")
        }
        // Tempered weights are softer than one-hot but lean the same way.
        #expect(weightSums[0] > weightSums[3] && weightSums[3] > weightSums[1] && weightSums[1] > weightSums[2])
    }

    @Test func lowTemperatureGivesNearlyOneHotWeights() {
        var random = SeededRandom(seed: 12)
        var nearlyOneHot = 0
        for _ in 0..<1000 {
            let sample = GumbelSoftmax(alpha: [0.2, 0.1, 0, -0.3, 0.4], temperature: 0.01, random: &random)
            if (sample.weights.max() ?? 0) > 0.99 { nearlyOneHot += 1 }
        }
        #expect(nearlyOneHot > 950)
    }

    @Test func gumbelNoiseHasItsMeanAndVariance() {
        // Gumbel(0, 1): mean = Euler's gamma (0.5772), variance = pi^2 / 6 (1.6449).
        var random = SeededRandom(seed: 13)
        let draws = (0..<100_000).map { _ in Double(GumbelSoftmax.gumbel(&random)) }
        let mean = draws.reduce(0, +) / Double(draws.count)
        let variance = draws.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(draws.count)
        #expect(abs(mean - 0.5772) < 0.02)
        #expect(abs(variance - Double.pi * Double.pi / 6) < 0.05)
    }

    @Test func alphaGradientMatchesFiniteDifferences() {
        // L = sum_i c_i p_i(alpha) for fixed noise.
        let noise: [Float] = [0.3, -0.5, 1.2, 0.1]
        let c: [Double] = [0.7, -1.1, 0.4, 2.0]
        let alpha: [Float] = [0.2, -0.4, 0.9, 0.1]
        let temperature: Float = 0.6
        func loss(_ alpha: [Float]) -> Double {
            zip(GumbelSoftmax(alpha: alpha, temperature: temperature, noise: noise).weights, c).reduce(0) { $0 + Double($1.0) * $1.1 }
        }
        let sample = GumbelSoftmax(alpha: alpha, temperature: temperature, noise: noise)
        let analytic = sample.alphaGradient(weightGradient: c.map { Float($0) }, alpha: alpha)
        for i in 0..<4 {
            var plus = alpha
            var minus = alpha
            plus[i] += 1e-2
            minus[i] -= 1e-2
            let numeric = (loss(plus) - loss(minus)) / 2e-2
            #expect(abs(Double(analytic[i]) - numeric) < 1e-3, "alpha[\(i)]: analytic \(analytic[i]), numeric \(numeric)")
        }
        // Adding a constant to alpha changes nothing, so the gradient sums to zero.
        #expect(abs(analytic.reduce(0, +)) < 1e-5)
    }

    @Test func temperatureSchedules() {
        let published = TemperatureSchedule.published
        #expect(published.temperature(samplesSeen: 0, plannedSamples: 100) == 1)
        // t = 2,000,000 / 2,000 = 1,000 units: 1 - 0.05.
        #expect(abs(published.temperature(samplesSeen: 2_000_000, plannedSamples: 100) - 0.95) < 1e-6)
        #expect(published.temperature(samplesSeen: 50_000_000, plannedSamples: 100) == 0.01)
        let length = TemperatureSchedule.searchLength
        #expect(length.temperature(samplesSeen: 0, plannedSamples: 1000) == 1)
        #expect(abs(length.temperature(samplesSeen: 500, plannedSamples: 1000) - 0.505) < 1e-6)
        #expect(abs(length.temperature(samplesSeen: 1000, plannedSamples: 1000) - 0.01) < 1e-6)
        #expect(abs(length.temperature(samplesSeen: 5000, plannedSamples: 1000) - 0.01) < 1e-6)
    }
}
