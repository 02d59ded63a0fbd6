import CompactRecTestSupport
import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

/// The model file: train -> export -> load -> predict reproduces in-memory evaluation; damaged
/// files are refused, each with its own reason; MLET and mixed widths ship at their inference size.
@Suite struct ModelFileTests {
    /// The models the round trip is checked for: DeepFM with plain tables, with the
    /// quotient-remainder trick (whose model file keeps its two tables per field), and DCN-v2.
    static let roundTripModels: [String: ModelConfiguration] = {
        var qr = TrainedModel.deepFM
        qr.embedding = .quotientRemainder(QuotientRemainderEmbeddingMethod(collisions: 8))
        var dcn = ModelConfiguration(kind: .dcnv2, dimension: 8)
        dcn.mlp = [32, 16]
        dcn.crossLayers = 2
        var dcnQR = dcn
        dcnQR.embedding = qr.embedding
        return ["deepfm": TrainedModel.deepFM, "deepfm-qr": qr, "dcnv2": dcn, "dcnv2-qr": dcnQR]
    }()

    /// Every row of the raw file scored by `predict`'s path equals the in-memory evaluation of
    /// the trained best model on that row (test and validation rows), to 1e-6.
    @Test(arguments: ["deepfm", "deepfm-qr", "dcnv2", "dcnv2-qr"])
    func roundTripScoresEqualInMemoryEvaluation(model name: String) throws {
        let trained = try TrainedModel(try #require(Self.roundTripModels[name]))
        defer { try? FileManager.default.removeItem(atPath: trained.directory) }
        let predictor = try Predictor(path: trained.modelPath)
        #expect(predictor.file.header.model == trained.modelFile.header.model)
        #expect(predictor.file.header.training.step == trained.trainer.cursor.bestStep)
        let output = trained.directory + "/scores.csv"
        // Small blocks and batches: many blocks, pieces and batches per piece.
        let report = try FilePrediction.run(
            predictor, input: trained.rawFile, output: output, threads: 2, batchSize: 700, blockSize: 1 << 16)
        #expect(report.rows == trained.store.rows && report.labeled)
        let scores = try ScoresCSV(path: output)
        #expect(scores.header == "line,label,score")
        for part in [SplitPart.test, .validation] {
            let logits = trained.evaluationLogits(part)
            #expect(logits.count == trained.store.rowIndices(of: part).count)
            var worst: Float = 0
            for (row, logit) in logits {
                let line = try #require(scores.byLine[row + 1])
                #expect(line.label == Int(trained.store.label(row)))
                worst = max(worst, abs(line.score - Predictor.probability(logit: logit)))
            }
            #expect(worst <= 1e-6, "largest difference on \(part.name): \(worst)")
        }
        // The file's model evaluates to the run's test metrics.
        let model = try ModelFactory.make(predictor.file.header.model, store: trained.store, seed: 9)
        try predictor.file.weights.restore(into: model, source: "test")
        #expect(try Evaluation.measure(model, on: trained.store, part: .test, batchSize: 512) == trained.report.test)
        // The quotient-remainder model's file holds its inference form: two small tables per field.
        if case .quotientRemainder = trained.modelFile.header.model.embedding {
            let names = trained.modelFile.weights.tableNames ?? []
            #expect(names.contains("embedding.C1.quotient") && names.contains("embedding.C1.remainder"))
            let largest = try #require(trained.store.manifest.fields.compactMap(\.cardinality).max())
            #expect(trained.modelFile.weights.tables.allSatisfy { $0.rows <= max(8, (largest + 7) / 8) || $0.dimension == 1 })
        }
    }

    @Test func damagedFilesAreRefusedSayingWhy() throws {
        let trained = try TrainedModel(TrainedModel.deepFM, rows: 5000)
        defer { try? FileManager.default.removeItem(atPath: trained.directory) }
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: trained.modelPath)))
        #expect(try ModelFile.decode(bytes, path: "good").header == trained.modelFile.header)

        func refusal(_ damaged: [UInt8]) -> ModelFileError? {
            do { _ = try ModelFile.decode(damaged, path: "m.crmodel") } catch { return error }
            return nil
        }
        let truncated = refusal(Array(bytes.prefix(bytes.count - 1000)))
        #expect(truncated == .truncated(path: "m.crmodel", bytes: bytes.count - 1000, expected: bytes.count))
        #expect(truncated?.errorDescription?.contains("truncated") == true)
        #expect(refusal(Array(bytes.prefix(20))) == .truncated(path: "m.crmodel", bytes: 20, expected: 24))

        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x40
        let corrupt = refusal(flipped)
        guard case .corrupt(_, let reason) = corrupt else {
            Issue.record("a flipped byte gave \(String(describing: corrupt))")
            return
        }
        #expect(reason.contains("checksum"))
        #expect(corrupt?.errorDescription?.contains("corrupt") == true)

        var newer = bytes
        newer[8] = UInt8(ModelFile.version + 1)
        #expect(refusal(newer) == .newerVersion(path: "m.crmodel", version: ModelFile.version + 1, supported: ModelFile.version))
        #expect(refusal(newer)?.errorDescription?.contains("newer") == true)

        let weights = try [UInt8](Data(contentsOf: URL(fileURLWithPath: trained.run.bestWeightsPath)))
        #expect(refusal(weights) == .notAModelFile(path: "m.crmodel"))
        #expect(refusal(bytes + [0]) != nil)

        let empty = trained.directory + "/empty.crmodel"
        FileManager.default.createFile(atPath: empty, contents: Data())
        #expect(throws: ModelFileError.unreadable(path: empty, reason: "the model file is empty")) { try ModelFile.read(from: empty) }
        let missing = trained.directory + "/missing.crmodel"
        #expect(throws: ModelFileError.unreadable(path: missing, reason: "no such model file")) { try Predictor(path: missing) }
    }

    /// An MLET model (d = 4, k = 16) exports to the size of a plain d = 4 model: the same
    /// weights section to the byte, the same configuration; only the header's provenance differs.
    @Test func mletExportsAtThePlainSize() throws {
        var mlet = ModelConfiguration(kind: .deepfm, dimension: 4)
        mlet.mlp = [16]
        let plain = mlet
        mlet.embedding = .mlet(MLETEmbeddingMethod(innerWidths: Array(repeating: 16, count: 8)))
        let wide = try TrainedModel(mlet, rows: 5000)
        defer { try? FileManager.default.removeItem(atPath: wide.directory) }
        let narrow = try TrainedModel(plain, rows: 5000)
        defer { try? FileManager.default.removeItem(atPath: narrow.directory) }
        // From the checkpoint (training form: tables and maps), folded at export.
        let mletFile = try ModelFile.export(from: wide.run.checkpointPath)
        let plainFile = narrow.modelFile
        #expect(mletFile.header.model == plain)
        #expect(mletFile.header.training.configuration.model.embedding == mlet.embedding)
        #expect(wide.modelFile.weights.hasShapes(of: mletFile.weights), "best.weights and the checkpoint fold to the same shapes")
        let (mletSections, plainSections) = (try mletFile.encoded().sections, try plainFile.encoded().sections)
        #expect(try mletFile.sections() == mletSections && plainFile.sections() == plainSections, "counted sizes are the written ones")
        #expect(mletSections.weights == plainSections.weights)
        #expect(mletSections.vocabularies == plainSections.vocabularies)
        #expect(mletSections.total - mletSections.header == plainSections.total - plainSections.header)
        #expect(mletFile.header.embeddingParameters == wide.store.manifest.fields.compactMap(\.cardinality).reduce(0, +) * 4)
        #expect(wide.report.trainingEmbeddingParameters > 4 * mletFile.header.embeddingParameters)
    }

    /// Per-field widths (`--dims`) export at the size they imply: each field's n x k table, and
    /// a k x d projection for each field narrower than d; nothing else beyond the dense layers.
    @Test func mixedDimsExportAtTheSizeTheirWidthsImply() throws {
        var configuration = ModelConfiguration(kind: .deepfm, dimension: 8)
        configuration.mlp = [16]
        let widths = [2, 8, 4, 1, 8, 3, 2, 6]
        configuration.embedding = .plain(PlainEmbeddingMethod(widths: widths))
        let trained = try TrainedModel(configuration, rows: 5000)
        defer { try? FileManager.default.removeItem(atPath: trained.directory) }
        let file = trained.modelFile
        let cardinalities = trained.store.manifest.fields.compactMap(\.cardinality)
        let expected = zip(cardinalities, widths).reduce(0) { $0 + $1.0 * $1.1 } + widths.filter { $0 != 8 }.reduce(0) { $0 + $1 * 8 }
        #expect(file.header.embeddingParameters == expected)
        #expect(file.header.fields.compactMap(\.width) == widths)
        let values = file.weights.tables.reduce(0) { $0 + $1.values.count } + file.weights.dense.reduce(0) { $0 + $1.count }
        #expect(values == file.header.totalParameters)
        // Counts and shapes, each table's and parameter's name (a UInt32 length and its bytes),
        // and the training states.
        let names = (file.weights.tableNames ?? []) + (file.weights.denseNames ?? [])
        #expect(names.count == file.weights.tables.count + file.weights.dense.count)
        let framing =
            8 * (3 + 2 * file.weights.tables.count + 2 * file.weights.dense.count)
            + names.reduce(0) { $0 + 4 + $1.utf8.count }
            + file.weights.states.reduce(0) { $0 + 8 * (1 + $1.count) }
        #expect(try file.encoded().sections.weights == 4 * values + framing)
        #expect(try file.sections() == file.encoded().sections)
        let plainEmbedding = cardinalities.reduce(0, +) * 8
        #expect(expected < plainEmbedding / 2, "the narrow fields make the model smaller than plain d = 8")
        // And it still predicts what the trained model does.
        let predictor = try Predictor(file: file, source: "mixed")
        let logits = trained.evaluationLogits(.test)
        var batch = Batch(schema: trained.store.schema)
        let rows = Array(trained.store.rowIndices(of: .test).prefix(300))
        batch.load(rows: rows[...], from: trained.store)
        let scores = predictor.logits(batch)
        let worst = zip(rows, scores).map { abs($1 - (logits[$0] ?? .nan)) }.max() ?? .infinity
        #expect(worst <= 1e-5)
    }
}

/// A `predict` output file read back.
struct ScoresCSV {
    var header: String
    var byLine: [Int: (label: Int?, score: Float)] = [:]
    var lines: [Int] = []

    init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var records = text.split(separator: "\n")
        header = String(records.removeFirst())
        for record in records {
            let fields = record.split(separator: ",").map(String.init)
            guard let line = Int(fields[0]), let score = fields.last.flatMap(Float.init) else { continue }
            byLine[line] = (fields.count == 3 ? Int(fields[1]) : nil, score)
            lines.append(line)
        }
    }
}
