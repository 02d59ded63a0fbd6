import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

/// Checkpoints, resume and the run directory's files.
@Suite struct CheckpointTests {
    static func configuration(
        _ store: ColumnStore, options: TrainingOptions, batchNorm: Bool = false,
        mlet: Bool = false, fieldWidths: Bool = false
    ) -> RunConfiguration {
        var model = ModelConfiguration(kind: .deepfm, dimension: 8)
        model.mlp = [32, 16]
        model.batchNorm = batchNorm
        model.dropout = batchNorm ? 0.1 : 0
        let fields = store.manifest.fields.compactMap(\.cardinality).indices
        let widths = fieldWidths ? fields.map { [2, 8, 4][$0 % 3] } : nil
        model.embedding =
            mlet
            ? .mlet(MLETEmbeddingMethod(innerWidths: fields.map { _ in 24 }, widths: widths))
            : .plain(PlainEmbeddingMethod(widths: widths))
        return RunConfiguration(model: model, options: options, dataset: DatasetIdentity(store))
    }

    static func options() -> TrainingOptions {
        var options = TrainingOptions()
        options.epochs = 2
        options.batchSize = 512
        options.learningRate = 3e-3
        options.threads = 1
        options.evaluateEvery = 7
        options.patience = nil
        options.logEvery = 3
        return options
    }

    static func flatWeights(_ model: any CTRModel) -> [Float] {
        model.sparseTables.flatMap(\.weights) + model.denseParameters.flatMap(\.value.storage)
    }

    /// Interrupting after `stopAt` steps and resuming ends with the same weights, metrics and
    /// BatchNorm/dropout state as an uninterrupted run; for MLET, the checkpoint keeps the wide
    /// tables and maps, while `best.weights` holds the folded tables the final test reads (also
    /// with per-field widths, where the maps are two factors per field).
    @Test(arguments: [(10, false, false, false), (21, true, false, false), (13, false, true, false), (9, false, true, true)])
    func resumeEndsWithTheSameWeights(stopAt: Int, batchNorm: Bool, mlet: Bool, fieldWidths: Bool) throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, _) = try TrainerTests.dataset(in: directory)
        let configuration = Self.configuration(store, options: Self.options(), batchNorm: batchNorm, mlet: mlet, fieldWidths: fieldWidths)

        let whole = try ModelFactory.make(configuration.model, store: store, seed: 1)
        let wholeRun = TrainingRun(directory: directory + "/whole", configuration: configuration, resume: false)
        let expected = try Trainer(model: whole, configuration: configuration.model, store: store, options: configuration.options).fit(
            run: wholeRun)

        let run = TrainingRun(directory: directory + "/parts", configuration: configuration, resume: false)
        let first = try ModelFactory.make(configuration.model, store: store, seed: 1)
        let interrupted = Trainer(model: first, configuration: configuration.model, store: store, options: configuration.options)
        #expect(throws: TrainingError.interrupted(step: stopAt, checkpoint: run.checkpointPath)) {
            _ = try interrupted.fit(run: run, shouldStop: { interrupted.cursor.step == stopAt })
        }
        // A fresh process: a new model with other initial weights, restored from the checkpoint.
        let second = try ModelFactory.make(configuration.model, store: store, seed: 99)
        let resumed = TrainingRun(directory: run.directory, configuration: configuration, resume: true)
        let report = try Trainer(model: second, configuration: configuration.model, store: store, options: configuration.options).fit(
            run: resumed)

        #expect(report.test == expected.test)
        #expect(report.validationHistory == expected.validationHistory)
        #expect(report.steps == expected.steps)
        #expect(Self.flatWeights(second) == Self.flatWeights(whole))
        #expect(second.trainingStates.map(\.stateWords) == whole.trainingStates.map(\.stateWords))
        #expect(whole.trainingStates.isEmpty == !batchNorm)

        // The log shows the resumed start and ends with the same test metrics.
        let lines = try String(contentsOfFile: run.metricsLogPath, encoding: .utf8).split(separator: "\n")
        let records = try lines.map { try JSONDecoder().decode(MetricsRecord.self, from: Data($0.utf8)) }
        #expect(records.filter { $0.event == .start }.map(\.resumed) == [false, true])
        #expect(records.last?.event == .end)
        #expect(records.last?.auc == expected.test.auc)
    }

    @Test func bestWeightsFileHoldsTheBestEvaluation() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, _) = try TrainerTests.dataset(in: directory)
        let configuration = Self.configuration(store, options: Self.options())
        let model = try ModelFactory.make(configuration.model, store: store, seed: 1)
        let run = TrainingRun(directory: directory + "/run", configuration: configuration, resume: false)
        let report = try Trainer(model: model, configuration: configuration.model, store: store, options: configuration.options).fit(
            run: run)
        let file = try WeightsFile.read(from: run.bestWeightsPath)
        #expect(file.header.validation == report.bestValidation)
        #expect(file.header.configuration == configuration)
        let restored = try ModelFactory.make(configuration.model, store: store, seed: 5)
        try file.weights.restore(into: restored, source: run.bestWeightsPath)
        #expect(try Evaluation.measure(restored, on: store, part: .test) == report.test)
    }

    @Test func runDirectoryRefusesToOverwriteOrResumeNothing() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, _) = try TrainerTests.dataset(in: directory)
        var options = Self.options()
        options.epochs = 1
        let configuration = Self.configuration(store, options: options)
        let fresh = TrainingRun(directory: directory + "/run", configuration: configuration, resume: true)
        #expect(throws: TrainingError.nothingToResume(directory: fresh.directory)) {
            _ = try Trainer(
                model: ModelFactory.make(configuration.model, store: store, seed: 1), configuration: configuration.model, store: store,
                options: options
            ).fit(run: fresh)
        }
        let run = TrainingRun(directory: fresh.directory, configuration: configuration, resume: false)
        let report = try Trainer(
            model: ModelFactory.make(configuration.model, store: store, seed: 1), configuration: configuration.model, store: store,
            options: options
        ).fit(run: run)
        #expect(throws: TrainingError.runExists(directory: run.directory, step: report.steps)) {
            _ = try Trainer(
                model: ModelFactory.make(configuration.model, store: store, seed: 1), configuration: configuration.model, store: store,
                options: options
            ).fit(run: run)
        }
        // Resuming with another batch size would not continue the same training.
        var other = options
        other.batchSize = 256
        let mismatched = TrainingRun(directory: run.directory, configuration: Self.configuration(store, options: other), resume: true)
        #expect {
            _ = try Trainer(
                model: ModelFactory.make(configuration.model, store: store, seed: 1), configuration: configuration.model, store: store,
                options: other
            ).fit(run: mismatched)
        } throws: { error in
            guard case .resumeMismatch(_, let differences) = error as? TrainingError else { return false }
            return differences == ["--batch-size (512 in the checkpoint)"]
        }
    }

    @Test func corruptTruncatedAndForeignFilesAreNamedErrors() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, _) = try TrainerTests.dataset(in: directory)
        let configuration = Self.configuration(store, options: Self.options())
        let model = try ModelFactory.make(configuration.model, store: store, seed: 1)
        let path = directory + "/c.bin"
        try Checkpoint(
            configuration: configuration, cursor: TrainerCursor(), weights: ModelWeights(model),
            sparseState: OptimizerState(step: 3, first: [[1, 2]], second: []),
            denseState: OptimizerState(step: 3, first: [], second: [[4]])
        ).write(to: path)
        let read = try Checkpoint.read(from: path)
        #expect(read.configuration == configuration)
        #expect(read.sparseState.first == [[1, 2]] && read.denseState.second == [[4]] && read.sparseState.step == 3)
        #expect(read.weights.fits(model))
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        func expectError(_ contents: [UInt8], containing text: String) throws {
            try Data(contents).write(to: URL(fileURLWithPath: path))
            #expect { _ = try Checkpoint.read(from: path) } throws: { error in
                let message = (error as? TrainingError)?.errorDescription ?? ""
                return message.contains(path) && message.contains(text)
            }
        }
        bytes[bytes.count / 2] ^= 0xFF
        try expectError(bytes, containing: "checksum")
        try expectError(Array(bytes[0..<100]), containing: "checksum")
        try expectError(Array("CRWEIGHT".utf8) + [1, 0, 0, 0] + Array(repeating: 0, count: 16), containing: "not a CompactRec checkpoint")
        var newer = Array("CRCHECKP".utf8) + [9, 0, 0, 0]
        var writer = ByteWriter()
        writer.append(newer)
        writer.appendChecksum()
        newer = writer.bytes
        try expectError(newer, containing: "newer")
        try expectError([], containing: "empty")
        #expect(throws: TrainingError.badCheckpoint(path: directory + "/none.bin", reason: "no such checkpoint file")) {
            _ = try Checkpoint.read(from: directory + "/none.bin")
        }
    }

    @Test func nonFiniteLossNamesTheLastGoodCheckpoint() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, _) = try TrainerTests.dataset(in: directory)
        let configuration = Self.configuration(store, options: Self.options())
        let model = try ModelFactory.make(configuration.model, store: store, seed: 1)
        let run = TrainingRun(directory: directory + "/run", configuration: configuration, resume: false)
        let trainer = Trainer(model: model, configuration: configuration.model, store: store, options: configuration.options)
        var poisoned = false
        #expect {
            _ = try trainer.fit(
                run: run,
                progress: { progress in
                    // After the first checkpoint (step 7), poison a weight: step 8's loss is NaN.
                    if progress.step == 7 && !poisoned {
                        model.denseParameters[0].value[0, 0] = .nan
                        poisoned = true
                    }
                })
        } throws: { error in
            guard case .nonFiniteLoss(step: 8, let loss, checkpoint: run.checkpointPath) = error as? TrainingError else { return false }
            return loss.isNaN
        }
        // The checkpoint is the good one from step 7.
        let checkpoint = try Checkpoint.read(from: run.checkpointPath)
        #expect(checkpoint.cursor.step == 7)
        #expect(checkpoint.weights.dense.allSatisfy { $0.storage.allSatisfy(\.isFinite) })
    }
}
