import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct ProjectedEmbeddingTests {
    /// The folded inference tables give exactly the vectors training computes (row x projection).
    @Test func foldedTablesReproduceTheForwardPass() throws {
        var random = SeededRandom(seed: 4)
        let layer = ProjectedEmbedding(
            cardinalities: [6, 5, 7], widths: [2, 4, 9], dimension: 4, categoricalCount: 3,
            names: ["a", "b", "c"], standardDeviation: 0.5, random: &random)
        #expect(layer.outputDimensions == [4, 4, 4])
        #expect(layer.projections.map { $0 == nil } == [false, true, false], "k = d needs no projection")
        #expect(layer.parameterCount == 6 * 2 + 5 * 4 + 7 * 9 + 2 * 4 + 9 * 4)
        let ids: [UInt32] = [0, 1, 2, 5, 4, 6, 3, 0, 0]
        let batch = Batch(labels: [0, 1, 0], dense: Matrix(rows: 3, columns: 0), ids: ids, categoricalCount: 3)
        let output = layer.forward(batch, training: false)
        let form = layer.inferenceForm()
        // Field a (k = 2 < d) keeps its projection: 6 x 2 + 2 x 4 = 20 values are fewer than the
        // folded 6 x 4 = 24. Field b (k = d) has none; field c (k > d) is folded.
        #expect(form.widths == [2, 4, 4])
        #expect(form.projections.count == 1)
        #expect(form.parameterCount == 6 * 2 + 2 * 4 + 5 * 4 + 7 * 4)
        #expect(form.tables[0].weights == layer.tables[0].weights)
        // Fold a's kept projection here, to compare every field as an n x d table below.
        let folded = (0..<6).flatMap { r in
            (0..<4).map { j in (0..<2).reduce(Float(0)) { $0 + layer.tables[0].weights[r * 2 + $1] * form.projections[0][$1, j] } }
        }
        let tables = [EmbeddingTable(name: "a", rows: 6, dimension: 4, weights: folded), form.tables[1], form.tables[2]]
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
        configuration.embedding = .plain(PlainEmbeddingMethod(widths: [2, 4, 8, 16, 2, 4, 8, 16]))
        let deepFM = try ModelFactory.make(configuration, store: store, seed: 1)
        #expect(deepFM.embedding is ProjectedEmbedding)
        #expect(deepFM.embedding.outputDimensions == Array(repeating: 8, count: 8))
        configuration.kind = .wd
        let wideAndDeep = try ModelFactory.make(configuration, store: store, seed: 1)
        #expect(wideAndDeep.embedding is FullEmbedding)
        #expect(wideAndDeep.embedding.outputDimensions == [2, 4, 8, 16, 2, 4, 8, 16])
        configuration.embedding = .plain(PlainEmbeddingMethod(widths: [2, 4]))
        #expect(throws: ModelError.invalidSetting(.dims, reason: "2 widths given, the dataset has 8 embedded fields")) {
            _ = try ModelFactory.make(configuration, store: store, seed: 1)
        }
    }
}
