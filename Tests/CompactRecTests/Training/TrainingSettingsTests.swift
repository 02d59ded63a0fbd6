import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData

/// Settings resolution: the command line wins, then the experiment file, then the declared
/// default; every refusal names the setting as its origin spells it, the value and the origin.
@Suite struct TrainingSettingsTests {
    static func message(_ body: () throws -> Any) -> String? {
        do {
            _ = try body()
            return nil
        } catch {
            return (error as? SettingError)?.errorDescription
        }
    }

    @Test func precedenceAndProvenanceOfEveryRefusal() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, _) = try TrainerTests.dataset(in: directory)
        var commandLine = ExperimentFile()
        var file = ExperimentFile()
        (file.dim, file.epochs, file.mlp) = (8, 3, [32])
        commandLine.dim = 4
        let resolved = try TrainingSettings.resolve(commandLine: commandLine, file: file, filePath: "exp.yaml", store: store)
        #expect(resolved.model.dimension == 4, "the command line wins over the file")
        #expect(resolved.options.epochs == 3 && resolved.model.mlp == [32], "the file wins over the defaults")
        #expect(resolved.options.batchSize == 4096 && resolved.model.kind == .deepfm && resolved.model.embedding == .plainTables)

        func refusal(_ commandLine: ExperimentFile, _ file: ExperimentFile? = nil) -> String? {
            Self.message { try TrainingSettings.resolve(commandLine: commandLine, file: file, filePath: "exp.yaml", store: store) }
        }
        var zero = ExperimentFile()
        zero.dim = 0
        #expect(refusal(zero) == "--dim 0 (command line) must be at least 1")
        #expect(refusal(ExperimentFile(), zero) == "dim: 0 (exp.yaml) must be at least 1")
        var mlet = ExperimentFile()
        (mlet.embedding, mlet.innerDim) = (.mlet, 8)
        #expect(
            refusal(ExperimentFile(), mlet)?.hasPrefix("inner_dim: 8 (exp.yaml) is refused: MLET's inner width of C1 (8) is below dim (16)")
                == true)
        #expect(refusal(mlet)?.hasPrefix("--inner-dim 8 (command line) is refused") == true)
        var qr = ExperimentFile()
        qr.qrCollisions = 16
        #expect(refusal(qr) == "--qr-collisions 16 (command line) is the qr method's setting; add embedding qr")
        qr.embedding = .qr
        qr.qrCollisions = 1
        #expect(refusal(qr) == "--qr-collisions 1 (command line) must be at least 2")
        var decay = ExperimentFile()
        decay.lrDecay = 2
        #expect(refusal(ExperimentFile(), decay) == "lr_decay: 2.0 (exp.yaml) must be in (0, 1]")
        #expect(throws: SettingError(ModelSetting("lr"), value: "0.0", origin: .commandLine, reason: "must be a positive number")) {
            var lr = ExperimentFile()
            lr.lr = 0
            try TrainingSettings.checkRanges(of: lr)
        }
    }

    /// Help comes from the declarations, with the default in it.
    @Test func helpStatesTheDefault() {
        #expect(TrainingSettings.dim.help == "Embedding width d (default: 16)")
        #expect(TrainingSettings.mlp.help.hasSuffix("(default: 400,400,400)"))
        #expect(TrainingSettings.optimizer.help.hasSuffix("(default: lazy-adam)"))
        #expect(ModelSetting.innerDims.option == "--inner-dims")
    }
}
