import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct CriteoFormatTests {
    @Test(.enabled(if: TestData.hasShared("criteo/criteo-100.tsv"), "skipped: ../shared/data/criteo/criteo-100.tsv is absent"))
    func readsRealSampleRows() throws {
        let path = TestData.shared("criteo/criteo-100.tsv")
        let rows = try readRows(CriteoFormat(), path)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.isEmpty }
        #expect(rows.count == 100)
        #expect(lines.count == 100)
        // Every field of every row against an independent split of the source line.
        for (row, line) in zip(rows, lines) {
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            #expect(columns.count == 40)
            #expect(row.label == UInt8(columns[0]))
            for i in 0..<13 {
                if columns[1 + i].isEmpty { #expect(row.dense[i].isNaN) } else { #expect(row.dense[i] == Float(columns[1 + i])) }
            }
            for c in 0..<26 {
                #expect(row.categorical[c] == (columns[14 + c].isEmpty ? nil : columns[14 + c]))
            }
        }
        #expect(rows.contains { $0.label == 1 } && rows.contains { $0.label == 0 })
        #expect(rows.contains { $0.dense.contains { $0.isNaN } }, "the sample has missing integers")
    }

    @Test func edgeCases() throws {
        let rows = try readRows(CriteoFormat(), TestData.fixture("criteo/edge-cases.tsv"))
        #expect(rows.count == 3)
        #expect(rows[0].label == 0)
        #expect(rows[0].dense[4] == 1382)
        #expect(rows[0].dense[11].isNaN)
        #expect(rows[0].categorical[0] == "10000001")
        #expect(rows[0].categorical[21] == nil)
        // Line 2 ends with CR LF: the CR must not stick to the last field.
        #expect(rows[1].label == 1)
        #expect(rows[1].dense[1] == -1)
        #expect(rows[1].categorical[25] == nil)
        #expect(rows[1].categorical[0] == "a000001a")
        // Line 3 has no final newline, negative and huge integers and non-ASCII bytes.
        #expect(rows[2].dense[0] == -3)
        #expect(rows[2].dense[1] == 1e20)
        #expect(rows[2].dense[12] == Float(12_345_678_901 as Double))
        #expect(rows[2].categorical[0] == "caf\u{E9}\u{E9}\u{E9}")
        #expect(rows[2].categorical[1] == "日本語")
        #expect(rows[2].categorical[25] == "ffffffff")
    }

    @Test func badRowsNameFileLineAndProblem() throws {
        let path = TestData.fixture("criteo/bad-rows.tsv")
        var format = CriteoFormat()
        #expect {
            _ = try RowFileReader.readAll(&format, paths: [path])
        } throws: { error in
            guard case .badRow(let file, let line, let problem) = error as? DataError else { return false }
            return file == path && line == 2 && problem.kind == "wrong column count"
                && (error as? DataError)?.errorDescription?.contains("bad-rows.tsv:2:") == true
        }
        var buffer = ParsedRows(schema: format.schema)
        func problem(_ line: String) -> RowProblem? {
            var text = line
            return text.withUTF8 { bytes in
                buffer.beginRow()
                defer { buffer.abandonRow() }
                do throws(RowProblem) { try format.parse(bytes, into: &buffer) } catch { return error }
                return nil
            }
        }
        let ints = Array(repeating: "1", count: 13)
        let cats = Array(repeating: "aa", count: 26)
        #expect(problem((["1", "1", "x7"] + ints.dropFirst(2) + cats).joined(separator: "\t"))?.kind == "non-numeric value")
        #expect(problem((["1", "1", "x7"] + ints.dropFirst(2) + cats).joined(separator: "\t"))?.detail.contains("I2") == true)
        #expect(problem((["2"] + ints + cats).joined(separator: "\t"))?.kind == "bad label")
        #expect(problem((["1"] + ints + cats + ["extra"]).joined(separator: "\t"))?.kind == "wrong column count")
        #expect(problem((["1"] + ints + cats).joined(separator: "\t")) == nil)
    }

    @Test func unlabeledTestLayoutIsDetected() throws {
        let rows = try readRows(CriteoFormat(), TestData.fixture("criteo/unlabeled.tsv"))
        #expect(rows.count == 1)
        #expect(rows[0].dense == Array(repeating: 1, count: 13))
        #expect(rows[0].categorical == Array(repeating: "aa", count: 26))
    }

    @Test func missingAndEmptyFiles() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let empty = TestData.write("", to: "empty.tsv", in: directory)
        #expect(throws: DataError.emptyFile(path: empty)) { _ = try readRows(CriteoFormat(), empty) }
        #expect(throws: DataError.fileNotFound(path: directory + "/nope.tsv")) { _ = try readRows(CriteoFormat(), directory + "/nope.tsv") }
        #expect(throws: DataError.unreadable(path: directory, reason: "it is a directory, not a file")) {
            _ = try readRows(CriteoFormat(), directory)
        }
    }
}
