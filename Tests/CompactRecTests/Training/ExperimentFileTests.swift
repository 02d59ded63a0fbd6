import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct ExperimentFileTests {
    @Test func readsEverySettingAndInlineOrFileDims() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/experiment.yaml"
        try """
        model: dlrm
        embedding: plain
        dim: 8
        dims: {C1: 4, C3: 2}
        mlp: [64, 32]
        bottom_mlp: [128, 64]
        top_mlp: [32]
        batch_norm: true
        dropout: 0.2
        batch_size: 1024
        epochs: 3
        lr: 0.002
        embedding_lr: 0.01
        optimizer: rowwise-adagrad
        dense_optimizer: sgd
        l2: 0.0001
        seed: 7
        threads: 1
        evaluate_every: 50
        patience: 4
        log_every: 5
        lr_decay: 0.5
        inner_dim: 32
        inner_dims: {C2: 48}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let file = try ExperimentFile.load(path: path)
        #expect(file.model == .dlrm && file.dim == 8 && file.mlp == [64, 32] && file.bottomMLP == [128, 64] && file.topMLP == [32])
        #expect(file.batchNorm == true && file.dropout == 0.2 && file.batchSize == 1024 && file.epochs == 3)
        #expect(file.lr == 0.002 && file.embeddingLR == 0.01 && file.optimizer == .rowwiseAdagrad && file.denseOptimizer == .sgd)
        #expect(
            file.l2 == 0.0001 && file.seed == 7 && file.threads == 1 && file.evaluateEvery == 50 && file.patience == 4 && file.logEvery == 5
        )
        #expect(file.dims == .inline(["C1": 4, "C3": 2]))
        #expect(file.lrDecay == 0.5 && file.innerDim == 32 && file.innerDims == .inline(["C2": 48]))
        let widths = try DimensionsFile.widths(["C1": 4, "C3": 2], fields: ["C1", "C2", "C3"], defaultWidth: 8, source: path)
        #expect(widths == [4, 8, 2])

        try "model: fm\ndims: widths.yaml\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try ExperimentFile.load(path: path).dims == .file("widths.yaml"))
        let dimsPath = directory + "/widths.yaml"
        try DimensionsFile.text(fields: ["C1", "C2"], widths: [3, 5]).write(toFile: dimsPath, atomically: true, encoding: .utf8)
        #expect(try DimensionsFile.widths(path: dimsPath, fields: ["C1", "C2", "C3"], defaultWidth: 16) == [3, 5, 16])
    }

    /// Learning rates halve each epoch with decay 0.5 (hand-computed), and stay put without.
    @Test func learningRateDecayPerEpoch() {
        var options = TrainingOptions()
        options.learningRate = 1e-3
        options.embeddingLearningRate = 4e-3
        #expect(options.learningRates(epoch: 3) == (1e-3, 4e-3))
        options.learningRateDecay = 0.5
        #expect(options.learningRates(epoch: 1) == (1e-3, 4e-3))
        #expect(options.learningRates(epoch: 3) == (2.5e-4, 1e-3))
    }

    @Test func misspeltKeysUnknownFieldsAndBadValuesAreErrors() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/e.yaml"
        func message(_ text: String) -> String {
            try? text.write(toFile: path, atomically: true, encoding: .utf8)
            do {
                _ = try ExperimentFile.load(path: path)
                return ""
            } catch {
                return error.localizedDescription
            }
        }
        #expect(message("model: deepfm\nlearning_rate: 0.1\n").contains("unknown setting learning_rate"))
        #expect(message("model: transformer\n").contains(path))
        #expect(message("- 1\n- 2\n").contains("mapping of settings"))
        #expect(message("\n").contains("empty"))
        #expect(throws: DataError.fileNotFound(path: directory + "/none.yaml")) {
            _ = try ExperimentFile.load(path: directory + "/none.yaml")
        }
        #expect { _ = try DimensionsFile.widths(["C9": 4], fields: ["C1"], defaultWidth: 8, source: "d.yaml") } throws: { error in
            error.localizedDescription.contains("no embedded field named C9")
        }
        #expect { _ = try DimensionsFile.widths(["C1": 0], fields: ["C1"], defaultWidth: 8, source: "d.yaml") } throws: { error in
            error.localizedDescription.contains("at least 1")
        }
    }
}
