import Foundation
import Testing
@testable import CompactRec

@Suite struct ModelFactoryTests {
    @Test func buildsEveryModelSizedFromTheDatasetAndDLRMWithoutDenseFields() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let format = try DelimitedFormat(schemaPath: TestData.fixture("schema/movies.yaml"))
        _ = try Preparer.prepare(format: format, formatName: "schema", inputs: [TestData.fixture("schema/movies.csv")],
                                 output: directory + "/out")
        let store = try ColumnStore(directory: directory + "/out")
        let cardinalities = store.manifest.fields.compactMap(\.cardinality)
        var loader = BatchLoader(store: store, part: .train, batchSize: 8)
        var batch = Batch(schema: store.schema)
        let loaded = loader.next(into: &batch)
        #expect(loaded)
        for kind in ModelKind.allCases {
            var configuration = ModelConfiguration(kind: kind, dimension: 4)
            configuration.mlp = [8]
            configuration.bottomMLP = [8]
            configuration.topMLP = [8]
            let model = try ModelFactory.make(configuration, store: store, seed: 1)
            let expectedEmbedding = kind == .lr ? cardinalities.reduce(0, +) : cardinalities.reduce(0, +) * 4
            #expect(model.embeddingParameterCount == expectedEmbedding, "\(kind)")
            #expect(model.totalParameterCount > model.embeddingParameterCount || kind == .lr)
            model.useThreads(2)
            if let deepFM = model as? DeepFM {
                #expect(deepFM.deep.mlp.threads == 2 && deepFM.interaction.threads == 2)
            }
            if let dlrm = model as? DLRM { #expect(dlrm.top.threads == 2 && dlrm.bottom?.threads == 2) }
            let logits = model.forward(batch, training: false)
            #expect(logits.rows == batch.size && logits.columns == 1)
            let finite = logits.values.allSatisfy { $0.isFinite }
            #expect(finite)
        }
        // Without dense features DLRM has no bottom MLP and dots the fields alone; with one
        // field there is no pair to dot.
        let noDense = TestData.write("label: y\ncategorical: [c, e]\n", to: "s.yaml", in: directory)
        let data = TestData.write("y,c,e\n1,a,x\n0,b,y\n1,a,y\n", to: "d.csv", in: directory)
        _ = try Preparer.prepare(format: DelimitedFormat(schemaPath: noDense), formatName: "schema", inputs: [data], output: directory + "/nd")
        let noDenseStore = try ColumnStore(directory: directory + "/nd")
        let dlrm = try #require(try ModelFactory.make(ModelConfiguration(kind: .dlrm, dimension: 4), store: noDenseStore, seed: 1) as? DLRM)
        #expect(dlrm.bottom == nil && dlrm.interaction.fields == 2 && dlrm.top.inputs == 1)
        let oneField = TestData.write("label: y\ncategorical: [c]\n", to: "s1.yaml", in: directory)
        _ = try Preparer.prepare(format: DelimitedFormat(schemaPath: oneField), formatName: "schema", inputs: [data], output: directory + "/one")
        let oneFieldStore = try ColumnStore(directory: directory + "/one")
        #expect { _ = try ModelFactory.make(ModelConfiguration(kind: .dlrm), store: oneFieldStore, seed: 1) }
            throws: { error in (error as? DataError)?.errorDescription?.contains("one embedded field and no dense features") == true }
    }
}
