import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct SampleStatisticsTests {
    /// FDE (32)'s test AUC over seeds 1-3 in docs/BENCHMARKS.md, worked by hand: mean 0.6912;
    /// deviations -0.0007, 0.0011, -0.0004; squares 49e-8 + 121e-8 + 16e-8 = 186e-8; divided by
    /// 2 and rooted: 0.000964.
    @Test func meanAndSampleStandardDeviationOfThreeSeeds() throws {
        let statistics = try #require(SampleStatistics([0.6905, 0.6923, 0.6908]))
        #expect(statistics.count == 3)
        #expect(abs(statistics.mean - 0.6912) < 1e-12)
        #expect(abs(statistics.standardDeviation - 0.000964365) < 1e-9)
        #expect(statistics.minimum == 0.6905)
        #expect(statistics.maximum == 0.6923)
    }

    @Test func oneValueHasNoSpreadAndNoValuesNoStatistics() throws {
        let one = try #require(SampleStatistics([0.7]))
        #expect(one.mean == 0.7 && one.standardDeviation == 0 && one.minimum == 0.7 && one.maximum == 0.7)
        #expect(SampleStatistics([]) == nil)
    }
}
