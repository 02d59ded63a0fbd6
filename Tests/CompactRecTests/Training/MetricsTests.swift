import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct MetricsTests {
    // MARK: AUC

    @Test func aucSimpleCase() throws {
        // Positives 0.35, 0.8; negatives 0.1, 0.4. Pairs: 0.35>0.1 win, 0.35<0.4 loss,
        // 0.8 beats both: 3 of 4.
        let auc = try AUC.compute(scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1])
        #expect(auc == 0.75)
    }

    @Test func aucAllTiedIsOneHalf() throws {
        #expect(try AUC.compute(scores: [0.3, 0.3, 0.3, 0.3, 0.3], labels: [1, 0, 0, 1, 0]) == 0.5)
    }

    @Test func aucPartialTies() throws {
        // scores [0.3, 0.7, 0.3, 0.7, 0.5, 0.9], labels [1, 1, 0, 0, 0, 1]
        // positives 0.3, 0.7, 0.9; negatives 0.3, 0.7, 0.5 (9 pairs)
        //   pos 0.3: tie with neg 0.3 (1/2), loses to 0.7 and 0.5      -> 0.5
        //   pos 0.7: beats 0.3 and 0.5, ties 0.7                       -> 2.5
        //   pos 0.9: beats all three                                   -> 3
        // AUC = 6 / 9 = 2/3. By average ranks: ranks 1.5, 1.5, 3, 4.5, 4.5, 6; positives'
        // rank sum 1.5 + 4.5 + 6 = 12; U = 12 - 3 * 4 / 2 = 6; 6 / 9.
        let auc = try AUC.compute(scores: [0.3, 0.7, 0.3, 0.7, 0.5, 0.9], labels: [1, 1, 0, 0, 0, 1])
        #expect(abs(auc - 2.0 / 3.0) < 1e-15)
    }

    @Test func aucPerfectAndReversed() throws {
        #expect(try AUC.compute(scores: [0.1, 0.2, 0.8, 0.9], labels: [0, 0, 1, 1]) == 1)
        #expect(try AUC.compute(scores: [0.9, 0.8, 0.2, 0.1], labels: [0, 0, 1, 1]) == 0)
    }

    @Test func aucAcceptsFloatScoresAndLabels() throws {
        let scores: [Float] = [-2, 3, 0.5, 0.5]
        let labels: [Float] = [0, 1, 1, 0]
        // pos 3 beats both; pos 0.5 beats -2, ties 0.5: (2 + 1.5) / 4.
        #expect(try AUC.compute(scores: scores, labels: labels) == 0.875)
    }

    @Test func aucTreatsSignedZerosAsTied() throws {
        #expect(try AUC.compute(scores: [-0.0, 0.0], labels: [1, 0] as [UInt8]) == 0.5)
    }

    @Test func aucRejectsSingleClassAndBadInput() {
        #expect(throws: MetricError.singleClass(positives: 3, negatives: 0)) {
            try AUC.compute(scores: [0.1, 0.2, 0.3], labels: [1, 1, 1])
        }
        #expect(throws: MetricError.singleClass(positives: 0, negatives: 2)) {
            try AUC.compute(scores: [0.1, 0.2], labels: [0, 0])
        }
        #expect(throws: MetricError.empty) {
            try AUC.compute(scores: [Double](), labels: [Int]())
        }
        #expect(throws: MetricError.countMismatch(scores: 2, labels: 3)) {
            try AUC.compute(scores: [0.1, 0.2], labels: [0, 1, 1])
        }
        #expect(throws: MetricError.invalidLabel(index: 1, value: 2)) {
            try AUC.compute(scores: [0.1, 0.2], labels: [0, 2])
        }
        // NaN is not equal to itself, so the case is matched rather than compared.
        #expect {
            try AUC.compute(scores: [0.1, Double.nan], labels: [0, 1])
        } throws: { error in
            guard case .invalidScore(index: 1, let value) = error as? MetricError else { return false }
            return value.isNaN
        }
    }

    @Test func aucMatchesPairCountingWithManyTies() throws {
        var rng = SeededRandom(seed: 11)
        var scores: [Double] = []
        var labels: [UInt8] = []
        for _ in 0..<600 {
            let score = Double(Int(rng.nextUnitDouble() * 20)) / 20  // 20 distinct values
            scores.append(score)
            labels.append(rng.nextUnitDouble() < 0.3 + 0.4 * score ? 1 : 0)
        }
        var wins = 0.0
        var pairs = 0.0
        for i in scores.indices where labels[i] == 1 {
            for j in scores.indices where labels[j] == 0 {
                pairs += 1
                if scores[i] > scores[j] { wins += 1 } else if scores[i] == scores[j] { wins += 0.5 }
            }
        }
        let auc = try AUC.compute(scores: scores, labels: labels)
        #expect(abs(auc - wins / pairs) < 1e-12)
        // Order of the examples does not matter.
        let order = scores.indices.reversed()
        #expect(try AUC.compute(scores: order.map { scores[$0] }, labels: order.map { labels[$0] }) == auc)
    }

    // MARK: Logloss

    @Test func loglossHandComputed() throws {
        // -(ln 0.9 + ln(1 - 0.2)) / 2 = (0.105360516 + 0.223143551) / 2 = 0.164252033
        let loss = try LogLoss.fromProbabilities([0.9, 0.2], labels: [1, 0])
        #expect(abs(loss - 0.164_252_033_4) < 1e-9)
        // -(ln 0.5) = 0.693147181
        #expect(abs(try LogLoss.fromProbabilities([0.5], labels: [1]) - 0.693_147_180_56) < 1e-10)
    }

    @Test func loglossClipsProbabilities() throws {
        // A certain mistake costs -ln(1e-7) = 16.118095651, not infinity.
        let loss = try LogLoss.fromProbabilities([0.0, 1.0], labels: [1, 0])
        #expect(abs(loss - 16.118_095_651) < 1e-6)
        #expect(try LogLoss.fromProbabilities([1.0], labels: [1]) < 1e-6)
    }

    @Test func loglossFromLogitsIsStableAndAgrees() throws {
        let logits: [Double] = [-3, -0.5, 0, 1.2, 4]
        let labels: [Double] = [0, 1, 1, 0, 1]
        let probabilities = logits.map { 1 / (1 + _exp(-$0)) }
        let fromLogits = try LogLoss.fromLogits(logits, labels: labels)
        let fromProbabilities = try LogLoss.fromProbabilities(probabilities, labels: labels)
        #expect(abs(fromLogits - fromProbabilities) < 1e-12)
        // Huge logits neither overflow nor lose the loss.
        #expect(abs(try LogLoss.fromLogits([1000.0], labels: [0.0]) - 1000) < 1e-9)
        #expect(try LogLoss.fromLogits([-1000.0], labels: [0.0]) < 1e-300)
        #expect(abs(try LogLoss.fromLogits([Float(-30)], labels: [UInt8(1)]) - 30) < 1e-9)
    }

    @Test func loglossRejectsBadInput() {
        #expect(throws: MetricError.empty) { try LogLoss.fromProbabilities([Double](), labels: [Double]()) }
        #expect(throws: MetricError.countMismatch(scores: 1, labels: 2)) {
            try LogLoss.fromLogits([0.5], labels: [0, 1])
        }
        #expect(throws: MetricError.invalidScore(index: 0, value: 1.5)) {
            try LogLoss.fromProbabilities([1.5], labels: [1])
        }
        #expect(throws: MetricError.invalidLabel(index: 0, value: -1)) {
            try LogLoss.fromProbabilities([0.5], labels: [-1.0])
        }
    }
}
