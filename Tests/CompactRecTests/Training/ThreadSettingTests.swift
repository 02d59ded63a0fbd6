import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

/// `--threads` (`TrainingOptions.threads`) must reach every parallel region of training and
/// evaluation: the models' kernels, the embedding layers' gathers and scatters, and both
/// optimizers. With one thread no region may run wider; the default (all cores) would.
@Suite(.enabled(if: Parallel.defaultThreads >= 2, "needs 2 or more cores: with one, every region is one thread wide anyway"))
struct ThreadSettingTests {
    static func options(threads: Int) -> TrainingOptions {
        var options = TrainingOptions()
        options.batchSize = 512
        options.threads = threads
        options.evaluateEvery = 10
        return options
    }

    /// Trains `configuration` for a short epoch and returns the widest region it ran.
    static func widestRegion(_ configuration: ModelConfiguration, store: ColumnStore, threads: Int) throws -> Int {
        let model = try ModelFactory.make(configuration, store: store, seed: 1)
        let trainer = Trainer(model: model, configuration: configuration, store: store, options: options(threads: threads))
        return try Parallel.recordingWidestRegion { try trainer.fit() }.widest
    }

    static var configurations: [ModelConfiguration] {
        var all: [ModelConfiguration] = []
        for kind in ModelKind.allCases {
            var plain = ModelConfiguration(kind: kind, dimension: 8)
            (plain.mlp, plain.bottomMLP, plain.topMLP) = ([64, 32], [32], [64, 32])
            all.append(plain)
            guard kind != .lr else { continue }
            var mlet = plain
            mlet.embedding = .mlet(MLETEmbeddingMethod(innerWidths: Array(repeating: 32, count: 8)))
            all.append(mlet)
            var mixed = plain
            mixed.embedding = .plain(PlainEmbeddingMethod(widths: [2, 4, 8, 16, 2, 4, 8, 16]))
            all.append(mixed)
        }
        return all
    }

    @Test func oneThreadRunsEveryTrainingRegionInline() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, _) = try TrainerTests.dataset(in: directory)
        for configuration in Self.configurations {
            let widest = try Self.widestRegion(configuration, store: store, threads: 1)
            let name = "\(configuration.kind) \(configuration.embedding.summary)"
            #expect(widest == 1, "\(name): a region ran on \(widest) threads with --threads 1")
        }
        // The control: the recorder sees the regions at all.
        let widest = try Self.widestRegion(Self.configurations[0], store: store, threads: 2)
        #expect(widest == 2)
    }

    @Test func oneThreadRunsEverySearchRegionInline() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, _) = try TrainerTests.dataset(in: directory)
        var configuration = ModelConfiguration(kind: .deepfm, dimension: 8)
        configuration.mlp = [32]
        var searchOptions = DimensionSearchOptions()
        searchOptions.candidates = [2, 4, 8]
        for threads in [1, 2] {
            let search = try DimensionSearch(
                configuration: configuration, store: store, options: Self.options(threads: threads),
                searchOptions: searchOptions)
            let widest = try Parallel.recordingWidestRegion { try search.run() }.widest
            #expect(widest == threads, "a search region ran on \(widest) threads with --threads \(threads)")
        }
    }
}
