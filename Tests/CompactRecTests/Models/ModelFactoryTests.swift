import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct ModelFactoryTests {
    @Test func buildsEveryModelSizedFromTheDatasetAndDLRMWithoutDenseFields() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let format = try DelimitedFormat(schemaPath: TestData.fixture("schema/movies.yaml"))
        _ = try Preparer.prepare(
            format: format, formatName: "schema", inputs: [TestData.fixture("schema/movies.csv")],
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
        _ = try Preparer.prepare(
            format: DelimitedFormat(schemaPath: noDense), formatName: "schema", inputs: [data], output: directory + "/nd")
        let noDenseStore = try ColumnStore(directory: directory + "/nd")
        let dlrm = try #require(try ModelFactory.make(ModelConfiguration(kind: .dlrm, dimension: 4), store: noDenseStore, seed: 1) as? DLRM)
        #expect(dlrm.bottom == nil && dlrm.interaction.fields == 2 && dlrm.top.inputs == 1)
        let oneField = TestData.write("label: y\ncategorical: [c]\n", to: "s1.yaml", in: directory)
        _ = try Preparer.prepare(
            format: DelimitedFormat(schemaPath: oneField), formatName: "schema", inputs: [data], output: directory + "/one")
        let oneFieldStore = try ColumnStore(directory: directory + "/one")
        #expect { _ = try ModelFactory.make(ModelConfiguration(kind: .dlrm), store: oneFieldStore, seed: 1) } throws: { error in
            (error as? ModelError)?.errorDescription?.contains("one embedded field and no dense features") == true
        }
    }
}

/// The embedding method is a value: every method round-trips through JSON (as checkpoints and
/// model files store it), files written before it existed decode to the same method, and the
/// factory builds each method's layer from it alone.
@Suite struct EmbeddingMethodTests {
    static let methods: [EmbeddingMethod] = [
        .plainTables, .plain(PlainEmbeddingMethod(widths: [2, 4])), .mlet(MLETEmbeddingMethod(innerWidths: [32, 64])),
        .mlet(MLETEmbeddingMethod(innerWidths: [32, 64], widths: [2, 8])),
        .quotientRemainder(QuotientRemainderEmbeddingMethod(collisions: 10)), .search(DimensionSearchOptions()),
    ]

    @Test func everyMethodRoundTripsThroughJSON() throws {
        for method in Self.methods {
            var configuration = ModelConfiguration(kind: .deepfm, dimension: 8)
            configuration.embedding = method
            let decoded = try JSONDecoder().decode(ModelConfiguration.self, from: JSONEncoder().encode(configuration))
            #expect(decoded == configuration, "\(method.summary)")
        }
    }

    /// A configuration written before the method was a value (checkpoint 3, model file 2) had
    /// `fieldDimensions` and `innerDimensions` instead.
    @Test func configurationsOfEarlierFilesDecodeToTheSameMethod() throws {
        let common = #""kind":"deepfm","dimension":4,"mlp":[8],"bottomMLP":[8],"topMLP":[8],"batchNorm":false,"dropout":0"#
        let cases: [(String, EmbeddingMethod)] = [
            ("{\(common)}", .plainTables),
            (#"{\#(common),"fieldDimensions":[2,4]}"#, .plain(PlainEmbeddingMethod(widths: [2, 4]))),
            (#"{\#(common),"innerDimensions":[16,16]}"#, .mlet(MLETEmbeddingMethod(innerWidths: [16, 16]))),
            (
                #"{\#(common),"innerDimensions":[16,16],"fieldDimensions":[2,4]}"#,
                .mlet(MLETEmbeddingMethod(innerWidths: [16, 16], widths: [2, 4]))
            ),
        ]
        for (json, method) in cases {
            let decoded = try JSONDecoder().decode(ModelConfiguration.self, from: Data(json.utf8))
            #expect(decoded.embedding == method, "\(json)")
            #expect(decoded.crossLayers == 3)
        }
    }

    /// Each method's layer, from the configuration alone; each method refuses what it cannot
    /// build, naming the setting.
    @Test func factoryBuildsEachMethodsLayerAndEachRefusesNamingTheSetting() throws {
        let schema = Schema(dense: ["i"], categorical: ["a", "b"], multiValued: [])
        let cardinalities = [50, 7]
        func make(_ method: EmbeddingMethod, kind: ModelKind = .deepfm, dimension: Int = 8) throws -> any EmbeddingLayer {
            var configuration = ModelConfiguration(kind: kind, dimension: dimension, embedding: method)
            configuration.mlp = [4]
            return try ModelFactory.make(configuration, schema: schema, cardinalities: cardinalities, seed: 1, source: "test").embedding
        }
        #expect(try make(.plainTables) is FullEmbedding)
        #expect(try make(.plain(PlainEmbeddingMethod(widths: [2, 8]))) is ProjectedEmbedding)
        #expect(try make(.plain(PlainEmbeddingMethod(widths: [2, 8])), kind: .wd) is FullEmbedding)
        #expect(try make(.mlet(MLETEmbeddingMethod(innerWidths: [32, 32]))) is ProjectedEmbedding)
        #expect(try make(.mlet(MLETEmbeddingMethod(innerWidths: [32, 32], widths: [2, 8]))) is MLETProjectedEmbedding)
        let qr = try #require(try make(.quotientRemainder(QuotientRemainderEmbeddingMethod(collisions: 10))) as? QuotientRemainderEmbedding)
        // Field a (50 values) splits into 5 + 10 rows; field b (7 values, at most c) keeps one plain table.
        #expect(qr.tables.map(\.name) == ["embedding.a.quotient", "embedding.a.remainder", "embedding.b"])
        #expect(qr.tables.map(\.rows) == [5, 10, 7])
        #expect(try make(.search(DimensionSearchOptions()), dimension: 32) is DimensionSearchEmbedding)

        #expect(refusedSetting { try make(.plainTables, dimension: 0) } == .dim)
        #expect(refusedSetting { try make(.plain(PlainEmbeddingMethod(widths: [2]))) } == .dims)
        #expect(refusedSetting { try make(.mlet(MLETEmbeddingMethod(innerWidths: [4, 32]))) } == .innerDims)
        #expect(refusedSetting { try make(.mlet(MLETEmbeddingMethod(innerWidths: [32, 32])), kind: .lr) } == .embedding)
        #expect(refusedSetting { try make(.quotientRemainder(QuotientRemainderEmbeddingMethod(collisions: 1))) } == .qrCollisions)
        #expect(refusedSetting { try make(.search(DimensionSearchOptions()), dimension: 16) } == .dim)
    }
}
