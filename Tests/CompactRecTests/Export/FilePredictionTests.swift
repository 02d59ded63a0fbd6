import CompactRecTestSupport
import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

/// `predict` on raw files: rows without labels, unseen categories, rows by name, bad rows.
@Suite struct FilePredictionTests {
    /// Rows without the label column (Criteo's 39-column test.txt layout) score as the same rows
    /// with labels do; unseen values score as the OOV row; rows given by name score the same.
    @Test func unlabeledUnseenAndNamedRowsScoreAlike() throws {
        let trained = try TrainedModel(TrainedModel.deepFM, rows: 6000)
        defer { try? FileManager.default.removeItem(atPath: trained.directory) }
        let predictor = try Predictor(path: trained.modelPath)
        let lines = try String(contentsOfFile: trained.rawFile, encoding: .utf8).split(separator: "\n").prefix(50).map(String.init)
        let unlabeled = lines.map { $0.split(separator: "\t", omittingEmptySubsequences: false).dropFirst().joined(separator: "\t") }
        // Two rows whose C1 is a value no training row has: both use C1's OOV row.
        var unseen = unlabeled[0].split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        unseen[13] = "never-seen-1"
        let first = unseen.joined(separator: "\t")
        unseen[13] = "never-seen-2"
        let second = unseen.joined(separator: "\t")
        let input = trained.directory + "/unlabeled.tsv"
        try ((unlabeled + [first, "", second]).joined(separator: "\n") + "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let report = try FilePrediction.run(predictor, input: input, output: trained.directory + "/u.csv", threads: 2)
        #expect(report.rows == 52 && !report.labeled)
        let scores = try ScoresCSV(path: trained.directory + "/u.csv")
        #expect(scores.header == "line,score")
        #expect(scores.lines == Array(1...51) + [53], "the blank line 52 is not a row")

        try (lines.joined(separator: "\n") + "\n").write(toFile: trained.directory + "/labeled.tsv", atomically: true, encoding: .utf8)
        _ = try FilePrediction.run(predictor, input: trained.directory + "/labeled.tsv", output: trained.directory + "/l.csv", threads: 1)
        let labeled = try ScoresCSV(path: trained.directory + "/l.csv")
        for line in 1...50 { #expect(labeled.byLine[line]?.score == scores.byLine[line]?.score) }

        let oov = try #require(scores.byLine[51]?.score)
        #expect(scores.byLine[53]?.score == oov)
        #expect(oov != scores.byLine[1]?.score, "C1's OOV row is not the original value's row")

        var named = try trained.namedRows(50)
        named.append(named[0].merging(["C1": .text("never-seen-3")]) { $1 })
        let byName = try predictor.probabilities(named: named)
        for line in 1...50 { #expect(abs(byName[line - 1] - (scores.byLine[line]?.score ?? .nan)) <= 1e-6) }
        #expect(abs(byName[50] - oov) <= 1e-6)
        // Missing fields are the missing id, exactly like empty columns.
        let empty = Array(repeating: "", count: 21).joined(separator: "\t")
        try (empty + "\n").write(toFile: trained.directory + "/empty.tsv", atomically: true, encoding: .utf8)
        _ = try FilePrediction.run(predictor, input: trained.directory + "/empty.tsv", output: trained.directory + "/e.csv")
        let allMissing = try ScoresCSV(path: trained.directory + "/e.csv").byLine[1]?.score
        #expect(try abs(predictor.probabilities(named: [[:]])[0] - (allMissing ?? .nan)) <= 1e-6)
    }

    @Test func badRowsAndWrongLayoutsStopWithFileAndLine() throws {
        let trained = try TrainedModel(TrainedModel.deepFM, rows: 3000)
        defer { try? FileManager.default.removeItem(atPath: trained.directory) }
        let predictor = try Predictor(path: trained.modelPath)
        let lines = try String(contentsOfFile: trained.rawFile, encoding: .utf8).split(separator: "\n").prefix(2000).map(String.init)
        var broken = lines
        broken[1234] = broken[1234].replacingOccurrences(of: "\t", with: "\tx", options: [], range: broken[1234].range(of: "\t"))
        let input = trained.directory + "/broken.tsv"
        try (broken.joined(separator: "\n") + "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let output = trained.directory + "/broken.csv"
        #expect {
            try FilePrediction.run(predictor, input: input, output: output, threads: 2, blockSize: 1 << 14)
        } throws: { error in
            guard case .badRow(let path, 1235, let problem) = error as? PredictionError else { return false }
            return path == input && problem.kind == "non-numeric value"
                && (error as? PredictionError)?.errorDescription?.hasPrefix("\(input):1235: column I1") == true
        }
        #expect(!FileManager.default.fileExists(atPath: output), "no partial output is left")

        // Three columns: neither the labeled (22) nor the unlabeled (21) layout of 8 categorical fields.
        let short = trained.directory + "/short.tsv"
        try "1\t2\t3\n".write(toFile: short, atomically: true, encoding: .utf8)
        #expect(throws: PredictionError.badRow(path: short, line: 1, problem: .columnCount(expected: "22", found: 3))) {
            try FilePrediction.run(predictor, input: short, output: output)
        }
        #expect(throws: PredictionError.input(.fileNotFound(path: trained.directory + "/none.tsv"))) {
            try FilePrediction.run(predictor, input: trained.directory + "/none.tsv", output: output)
        }
    }

    /// Named rows with values a field does not take are refused, naming the row and field.
    @Test func namedRowsOfTheWrongShapeAreRefused() throws {
        let trained = try TrainedModel(TrainedModel.deepFM, rows: 3000)
        defer { try? FileManager.default.removeItem(atPath: trained.directory) }
        let predictor = try Predictor(path: trained.modelPath)
        #expect(throws: PredictionError.unknownField(row: 1, name: "C99", known: trained.store.schema.fields.map(\.name))) {
            try predictor.probabilities(named: [[:], ["C99": .text("a")]])
        }
        #expect(
            throws: PredictionError.wrongType(row: 0, field: "I1", expected: "a number or null (a dense field)", found: "the string \"5\"")
        ) {
            try predictor.probabilities(named: [["I1": .text("5")]])
        }
        let categorical = "a string, an integer or null (a categorical field)"
        #expect(throws: PredictionError.wrongType(row: 0, field: "C1", expected: categorical, found: "the number 1.5")) {
            try predictor.probabilities(named: [["C1": .number(1.5)]])
        }
        #expect(throws: PredictionError.wrongType(row: 0, field: "C1", expected: categorical, found: "the boolean true")) {
            try predictor.probabilities(named: [["C1": .unsupported("the boolean true")]])
        }
        #expect(throws: PredictionError.outOfRange(row: 0, field: "I2", value: 1e300)) {
            try predictor.probabilities(named: [["I2": .number(1e300)]])
        }
        #expect(try predictor.probabilities(named: []).isEmpty)
    }
}
