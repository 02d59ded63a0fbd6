import Foundation
import Testing
@testable import CompactRec

@Suite struct ProjectedEmbeddingTests {
    /// The folded inference tables give exactly the vectors training computes (row x projection).
    @Test func inferenceTablesReproduceTheForwardPass() throws {
        var random = SeededRandom(seed: 4)
        let layer = ProjectedEmbedding(cardinalities: [6, 5, 7], widths: [2, 4, 9], dimension: 4, categoricalCount: 3,
                                       names: ["a", "b", "c"], standardDeviation: 0.5, random: &random)
        #expect(layer.outputDimensions == [4, 4, 4])
        #expect(layer.projections.map { $0 == nil } == [false, true, false], "k = d needs no projection")
        #expect(layer.parameterCount == 6 * 2 + 5 * 4 + 7 * 9 + 2 * 4 + 9 * 4)
        let ids: [UInt32] = [0, 1, 2, 5, 4, 6, 3, 0, 0]
        let batch = Batch(labels: [0, 1, 0], dense: Matrix(rows: 3, columns: 0), ids: ids, categoricalCount: 3)
        let output = layer.forward(batch, training: false)
        let tables = layer.inferenceTables()
        #expect(tables.map(\.dimension) == [4, 4, 4])
        #expect(tables.map(\.rows) == [6, 5, 7])
        for b in 0..<3 {
            for f in 0..<3 {
                let row = Int(ids[b * 3 + f])
                // Hand-computed product of the stored row and projection, in Double.
                let table = layer.tables[f]
                for j in 0..<4 {
                    var expected = 0.0
                    if let projection = layer.projections[f] {
                        for i in 0..<table.dimension {
                            expected += Double(table.weights[row * table.dimension + i]) * Double(projection.value[i, j])
                        }
                    } else {
                        expected = Double(table.weights[row * table.dimension + j])
                    }
                    #expect(abs(Double(output[b, f * 4 + j]) - expected) < 1e-5)
                    #expect(abs(Double(tables[f].weights[row * 4 + j]) - expected) < 1e-5)
                }
            }
        }
    }

    /// The factory projects mixed widths for models with equal-width interactions only.
    @Test func factoryProjectsWhereInteractionsNeedEqualWidths() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, _) = try TrainerTests.dataset(in: directory)
        var configuration = ModelConfiguration(kind: .deepfm, dimension: 8)
        configuration.mlp = [16]
        configuration.fieldDimensions = [2, 4, 8, 16, 2, 4, 8, 16]
        let deepFM = try ModelFactory.make(configuration, store: store, seed: 1)
        #expect(deepFM.embedding is ProjectedEmbedding)
        #expect(deepFM.embedding.outputDimensions == Array(repeating: 8, count: 8))
        configuration.kind = .wd
        let wideAndDeep = try ModelFactory.make(configuration, store: store, seed: 1)
        #expect(wideAndDeep.embedding is FullEmbedding)
        #expect(wideAndDeep.embedding.outputDimensions == [2, 4, 8, 16, 2, 4, 8, 16])
        configuration.fieldDimensions = [2, 4]
        #expect(throws: DataError.self) { _ = try ModelFactory.make(configuration, store: store, seed: 1) }
    }
}
