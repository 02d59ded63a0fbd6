import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

/// `predict` on a format with a header (Avazu): the header is skipped and counted in line
/// numbers, a test.csv without `click` is read as unlabeled, and the scores are evaluation's.
@Suite struct HeaderFormatPredictionTests {
    @Test func avazuRowsWithAndWithoutClickScoreAsEvaluation() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let columns = ["id", "click", "hour", "C1", "site_id", "app_id", "device_model"]
        var random = SeededRandom(seed: 7)
        var labeled = [columns.joined(separator: ",")]
        var unlabeled = [columns.filter { $0 != "click" }.joined(separator: ",")]
        for i in 0..<3000 {
            let site = random.next() % 40
            let app = random.next() % 25
            let device = random.next() % 60
            let click = (site + app) % 5 == 0 || random.next() % 7 == 0 ? 1 : 0
            let values = [
                "\(i)", "1410\(21 + Int(random.next() % 9))\(10 + Int(random.next() % 14))", "100\(random.next() % 3)",
                "s\(site)", "a\(app)", "d\(device)",
            ]
            labeled.append(([values[0], "\(click)"] + values.dropFirst()).joined(separator: ","))
            unlabeled.append(values.joined(separator: ","))
        }
        try (labeled.joined(separator: "\n") + "\n").write(toFile: directory + "/train.csv", atomically: true, encoding: .utf8)
        try (unlabeled.joined(separator: "\n") + "\n").write(toFile: directory + "/test.csv", atomically: true, encoding: .utf8)
        var prepare = PrepareOptions()
        prepare.input = InputSettings(format: .avazu)
        _ = try Preparer.prepare(
            format: AvazuFormat(), formatName: "avazu", inputs: [directory + "/train.csv"],
            output: directory + "/prepared", options: prepare)
        let store = try ColumnStore(directory: directory + "/prepared")
        let configuration = ModelConfiguration(kind: .fm, dimension: 4)
        var options = TrainingOptions()
        (options.batchSize, options.epochs, options.threads) = (256, 1, 1)
        let trainer = Trainer(
            model: try ModelFactory.make(configuration, store: store, seed: 2), configuration: configuration,
            store: store, options: options)
        _ = try trainer.fit()
        let inference = try #require(trainer.bestInference)
        let run = RunConfiguration(model: configuration, options: options, dataset: DatasetIdentity(store))
        let predictor = try Predictor(
            file: try ModelFile(inference: inference, training: run, step: 1, validation: nil, store: store),
            source: "avazu")

        let labeledReport = try FilePrediction.run(predictor, input: directory + "/train.csv", output: directory + "/l.csv")
        let unlabeledReport = try FilePrediction.run(predictor, input: directory + "/test.csv", output: directory + "/u.csv")
        #expect(labeledReport.labeled && !unlabeledReport.labeled && unlabeledReport.rows == 3000)
        let (withClick, withoutClick) = (try ScoresCSV(path: directory + "/l.csv"), try ScoresCSV(path: directory + "/u.csv"))
        #expect(withoutClick.lines.first == 2, "line 1 is the header")
        let model = try #require(trainer.bestModel)
        var batch = Batch(schema: store.schema)
        let rows = store.rowIndices(of: .test)
        #expect(rows.count > 200)
        batch.load(rows: rows[...], from: store)
        for (row, logit) in zip(rows, model.forward(batch, training: false).values) {
            let expected = Predictor.probability(logit: logit)
            #expect(abs((withoutClick.byLine[row + 2]?.score ?? .nan) - expected) <= 1e-6)
            #expect(withClick.byLine[row + 2]?.score == withoutClick.byLine[row + 2]?.score)
            #expect(withClick.byLine[row + 2]?.label == Int(store.label(row)))
        }
    }
}
