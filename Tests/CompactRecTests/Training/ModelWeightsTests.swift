import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

/// Parameters are named by path, files key them by name, and files written before names
/// (values in the model's order) are still read.
@Suite struct ModelWeightsTests {
    static func models(_ store: ColumnStore) throws -> [(String, ModelConfiguration)] {
        var all: [(String, ModelConfiguration)] = []
        for kind in ModelKind.allCases {
            var plain = ModelConfiguration(kind: kind, dimension: 8)
            (plain.mlp, plain.bottomMLP, plain.topMLP, plain.batchNorm) = ([16], [16], [16], true)
            all.append(("\(kind)", plain))
            guard kind != .lr else { continue }
            var mlet = plain
            mlet.embedding = .mlet(MLETEmbeddingMethod(innerWidths: Array(repeating: 16, count: 8)))
            all.append(("\(kind)-mlet", mlet))
            var mixed = plain
            mixed.embedding = .plain(PlainEmbeddingMethod(widths: [2, 4, 8, 2, 4, 8, 2, 4]))
            all.append(("\(kind)-widths", mixed))
        }
        return all
    }

    @Test func everyModelNamesItsParametersByPathAndRestoresByName() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, _) = try TrainerTests.dataset(in: directory)
        for (name, configuration) in try Self.models(store) {
            let model = try ModelFactory.make(configuration, store: store, seed: 1)
            let names = model.sparseTables.map(\.name) + model.denseParameters.map(\.name)
            #expect(Set(names).count == names.count, "\(name): \(names)")
            #expect(
                names.allSatisfy { ["embedding.", "linear.", "mlp.", "bottom_mlp.", "top_mlp.", "cross."].contains(where: $0.hasPrefix) },
                "\(name): \(names.filter { !$0.hasPrefix("embedding.") && !$0.hasPrefix("linear.") })")
            if configuration.kind != .lr { #expect(model.embedding.tables.map(\.name).first == "embedding.C1") }

            // Values listed in reverse order go back to their own parameters.
            let source = try ModelFactory.make(configuration, store: store, seed: 2)
            let saved = ModelWeights(source)
            let reversed = ModelWeights(
                tables: zip(saved.tableNames ?? [], saved.tables).reversed().map { ($0, $1.rows, $1.dimension, $1.values) },
                dense: zip(saved.denseNames ?? [], saved.dense).reversed().map { ($0, $1) }, states: saved.states)
            try reversed.restore(into: model, source: "reversed")
            #expect(CheckpointTests.flatWeights(model) == CheckpointTests.flatWeights(source), "\(name)")

            // A missing or misshapen parameter is named.
            let missing = ModelWeights(tables: [], dense: [], states: saved.states)
            #expect(missing.mismatch(with: model)?.contains("has no table embedding.C1") == true || configuration.kind == .lr)
            let wrong = ModelWeights(
                tables: zip(saved.tableNames ?? [], saved.tables).map { ($0, $1.rows, $1.dimension, $1.values) },
                dense: zip(saved.denseNames ?? [], saved.dense).map { ($0, $0.hasSuffix(".weight") ? Matrix(rows: 1, columns: 1) : $1) },
                states: saved.states)
            let reason = try #require(wrong.mismatch(with: model))
            #expect(reason.contains(".weight is 1 x 1"), "\(name): \(reason)")
        }
    }

    /// A field named like one of the model's own weights is refused rather than overwritten.
    @Test func factoryRefusesAFieldThatCollidesWithTheModelsNames() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let schema = TestData.write("label: y\ncategorical: [bias, c]\n", to: "s.yaml", in: directory)
        let data = TestData.write("y,bias,c\n1,a,x\n0,b,y\n1,a,y\n", to: "d.csv", in: directory)
        _ = try Preparer.prepare(
            format: DelimitedFormat(schemaPath: schema), formatName: "schema", inputs: [data], output: directory + "/p")
        let store = try ColumnStore(directory: directory + "/p")
        #expect { _ = try ModelFactory.make(ModelConfiguration(kind: .fm, dimension: 4), store: store, seed: 1) } throws: { error in
            (error as? ModelError) == .parameterNameCollision(name: "linear.bias", source: directory + "/p")
        }
    }

    /// A weights file and a checkpoint as version 1 wrote them (no names, the model's order) are
    /// still read and restored by position.
    @Test func filesWrittenBeforeNamesAreStillRead() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, _) = try TrainerTests.dataset(in: directory)
        let configuration = CheckpointTests.configuration(store, options: CheckpointTests.options(), batchNorm: true)
        let source = try ModelFactory.make(configuration.model, store: store, seed: 5)
        let weights = ModelWeights(source)

        var writer = ByteWriter()
        writer.append(WeightsFile.magic)
        writer.append(UInt32(1))
        writer.append(string: try jsonText(WeightsFile.Header(configuration: configuration, step: 3, validation: nil)))
        weights.encode(into: &writer, named: false)
        writer.appendChecksum()
        let path = directory + "/v1.weights"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(writer.bytes)))
        let file = try WeightsFile.read(from: path)
        #expect(file.weights.tableNames == nil && file.header.step == 3)
        let model = try ModelFactory.make(configuration.model, store: store, seed: 6)
        try file.weights.restore(into: model, source: path)
        #expect(CheckpointTests.flatWeights(model) == CheckpointTests.flatWeights(source))

        // The current version names every value.
        try WeightsFile(configuration: configuration, step: 3, validation: nil, weights: weights).write(to: directory + "/v2.weights")
        let named = try WeightsFile.read(from: directory + "/v2.weights")
        #expect(named.weights.tableNames == source.sparseTables.map(\.name))
        #expect(named.weights.denseNames == source.denseParameters.map(\.name))
    }
}
