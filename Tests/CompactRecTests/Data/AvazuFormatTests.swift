import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct AvazuFormatTests {
    @Test(.enabled(if: TestData.hasShared("avazu/avazu-100.csv"), "skipped: ../shared/data/avazu/avazu-100.csv is absent"))
    func readsRealSampleRows() throws {
        let path = TestData.shared("avazu/avazu-100.csv")
        var format = AvazuFormat()
        let rows = try RowFileReader.readAll(&format, paths: [path])
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline).map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        #expect(rows.count == lines.count - 1)
        #expect(format.schema.categorical.prefix(2) == ["hour_of_day", "weekday"])
        #expect(format.schema.categorical.count == header.count - 1)  // - id - click - hour + 2
        #expect(!format.schema.categorical.contains("id") && !format.schema.categorical.contains("click"))
        for (row, line) in zip(rows, lines.dropFirst()) {
            let columns = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            var byName: [String: String] = [:]
            for (name, value) in zip(header, columns) { byName[name] = value }
            #expect(row.label == UInt8(byName["click"] ?? ""))
            let hour = byName["hour"] ?? ""
            #expect(row.categorical[0] == String(hour.suffix(2)))
            for (f, name) in format.schema.categorical.enumerated().dropFirst(2) {
                #expect(row.categorical[f] == byName[name].flatMap { $0.isEmpty ? nil : $0 })
            }
        }
    }

    @Test func hourBecomesHourOfDayAndWeekday() throws {
        let rows = try readRows(AvazuFormat(), TestData.fixture("avazu/edge-cases.csv"))
        #expect(rows.count == 3)
        // 2014-10-21 was a Tuesday (1), 2014-10-26 a Sunday (6), 2014-10-30 a Thursday (3).
        #expect(rows.map { $0.categorical[0] } == ["00", "23", "05"])
        #expect(rows.map { $0.categorical[1] } == ["1", "6", "3"])
        #expect(AvazuFormat.weekday(year: 1970, month: 1, day: 1) == 3)
        #expect(AvazuFormat.weekday(year: 2000, month: 2, day: 29) == 1)
    }

    @Test func quotedFieldsCRLFAndMissingValues() throws {
        var format = AvazuFormat()
        let rows = try RowFileReader.readAll(&format, paths: [TestData.fixture("avazu/edge-cases.csv")])
        let site = try #require(format.schema.categorical.firstIndex(of: "site_id"))
        let category = try #require(format.schema.categorical.firstIndex(of: "site_category"))
        let c21 = try #require(format.schema.categorical.firstIndex(of: "C21"))
        #expect(rows[1].categorical[site] == "quoted,site")
        #expect(rows[1].categorical[category] == "say \"hi\"")
        #expect(rows[2].categorical[site] == nil)
        #expect(rows[2].categorical[c21] == "79")  // last field, no final newline
        #expect(rows[0].categorical[c21] == "79")  // CR of CR LF stripped
        #expect(rows.map(\.label) == [0, 1, 0])
    }

    @Test func badRows() throws {
        let path = TestData.fixture("avazu/bad-rows.csv")
        var format = AvazuFormat()
        #expect {
            _ = try RowFileReader.readAll(&format, paths: [path])
        } throws: { error in
            guard case .badRow(path, 3, let problem) = error as? DataError else { return false }
            return problem.kind == "bad hour"
        }
        var buffer = ParsedRows(schema: format.schema)
        var line = "3,1,14102100,1005,0,\"open,b,c,d,e,f,g,h,i,1,2,1,2,3,4,5,6,7,8"
        let problem: RowProblem? = line.withUTF8 { bytes in
            buffer.beginRow()
            defer { buffer.abandonRow() }
            do throws(RowProblem) { try format.parse(bytes, into: &buffer) } catch { return error }
            return nil
        }
        #expect(problem?.kind == "unterminated quote")
        var short = "3,1,14102100,1005"
        let shortProblem: RowProblem? = short.withUTF8 { bytes in
            buffer.beginRow()
            defer { buffer.abandonRow() }
            do throws(RowProblem) { try format.parse(bytes, into: &buffer) } catch { return error }
            return nil
        }
        #expect(shortProblem?.kind == "wrong column count")
    }

    @Test func fileWithoutHeaderIsRejected() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = TestData.write("1,0,14102100,1005\n", to: "noheader.csv", in: directory)
        #expect {
            _ = try readRows(AvazuFormat(), path)
        } throws: { error in
            guard case .badHeader(path, let reason) = error as? DataError else { return false }
            return reason.contains("hour")
        }
    }
}
