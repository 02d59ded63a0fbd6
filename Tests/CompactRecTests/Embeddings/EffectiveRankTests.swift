import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

/// Effective rank against hand-computed cases.
@Suite struct EffectiveRankTests {
    /// Rows on one line: one non-zero singular value, effective rank 1.
    @Test func rankOneTableHasEffectiveRankOne() {
        let values: [Float] = [1, 2, 3, 2, 4, 6, -1, -2, -3]
        #expect(abs(EffectiveRank.of(rows: 3, columns: 3, values: values) - 1) < 1e-6)
    }

    /// Singular values 3 and 1 (diag(3, 1) with a zero row): p = (0.75, 0.25),
    /// entropy = -(0.75 ln 0.75 + 0.25 ln 0.25) = 0.562335, effective rank e^0.562335 = 1.754765.
    @Test func diagonalCaseMatchesTheHandComputation() {
        let values: [Float] = [3, 0, 0, 1, 0, 0]
        #expect(abs(EffectiveRank.of(rows: 3, columns: 2, values: values) - 1.754765) < 1e-5)
        // A rotation of the same matrix has the same singular values.
        let c = Float(0.6)
        let s = Float(0.8)
        let rotated: [Float] = [3 * c, 3 * s, -s, c, 0, 0]
        #expect(abs(EffectiveRank.of(rows: 3, columns: 2, values: rotated) - 1.754765) < 1e-5)
    }

    /// Orthogonal rows of equal length use every direction equally: the full width.
    @Test func equalSingularValuesGiveTheWidth() {
        var values = [Float](repeating: 0, count: 16)
        for i in 0..<4 { values[i * 4 + i] = 2 }
        #expect(abs(EffectiveRank.of(rows: 4, columns: 4, values: values) - 4) < 1e-6)
        #expect(EffectiveRank.of(rows: 2, columns: 2, values: [0, 0, 0, 0]) == 0)
    }

    /// Jacobi eigenvalues of a dense symmetric matrix against its characteristic polynomial:
    /// [[2, 1, 0], [1, 2, 1], [0, 1, 2]] has eigenvalues 2 - sqrt 2, 2, 2 + sqrt 2.
    @Test func jacobiFindsTheEigenvalues() {
        let eigenvalues = EffectiveRank.symmetricEigenvalues([2, 1, 0, 1, 2, 1, 0, 1, 2], size: 3).sorted()
        let expected = [2 - 2.0.squareRoot(), 2, 2 + 2.0.squareRoot()]
        #expect(zip(eigenvalues, expected).allSatisfy { abs($0 - $1) < 1e-12 })
    }
}
