import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct DelimitedFormatTests {
    @Test func readsColumnsNamedBySchema() throws {
        let format = try DelimitedFormat(schemaPath: TestData.fixture("schema/movies.yaml"))
        #expect(format.schema == Schema(dense: ["price", "score"], categorical: ["user", "city"], multiValued: ["tags"]))
        let rows = try readRows(format, TestData.fixture("schema/movies.csv"))
        #expect(rows.count == 3)
        #expect(rows[0] == RawRow(label: 1, dense: [3.5, -2], categorical: ["u1", "Paris"], multiValued: [["a", "b", "c"]]))
        #expect(rows[1] == RawRow(label: 0, dense: [.nan, 1000], categorical: ["u2", "Saint-\u{C9}tienne; FR"], multiValued: [[]]))
        #expect(rows[2] == RawRow(label: 1, dense: [7, 0.25], categorical: ["u\"3", "Lyon"], multiValued: [["b"]]))
    }

    @Test func headerlessFileUsesColumnsList() throws {
        let format = try DelimitedFormat(schemaPath: TestData.fixture("schema/headerless.yaml"))
        let rows = try readRows(format, TestData.fixture("schema/headerless.tsv"))
        #expect(rows == [RawRow(label: 1, dense: [2], categorical: ["x"]), RawRow(label: 0, dense: [.nan], categorical: ["y"])])
    }

    /// For prediction the label column may be left out, with a header or without one.
    @Test func predictionFilesMayLeaveOutTheLabel() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var format = try DelimitedFormat(schemaPath: TestData.fixture("schema/movies.yaml"))
        format.labelRequired = false
        let withHeader = TestData.write("user;price;city;ignored;score;tags\nu1;3.5;Paris;zz;-2;a|b|c\n", to: "movies.csv", in: directory)
        var reader = format
        let rows = try RowFileReader.readAll(&reader, paths: [withHeader])
        #expect(!reader.hasLabels)
        #expect(rows == [RawRow(label: 0, dense: [3.5, -2], categorical: ["u1", "Paris"], multiValued: [["a", "b", "c"]])])

        var headerless = try DelimitedFormat(schemaPath: TestData.fixture("schema/headerless.yaml"))
        headerless.labelRequired = false
        var unlabeled = headerless
        let unlabeledRows = try RowFileReader.readAll(&unlabeled, paths: [TestData.write("2\tx\n\ty\n", to: "h.tsv", in: directory)])
        #expect(!unlabeled.hasLabels)
        #expect(unlabeledRows == [RawRow(label: 0, dense: [2], categorical: ["x"]), RawRow(label: 0, dense: [.nan], categorical: ["y"])])
        var labeled = headerless
        #expect(try RowFileReader.readAll(&labeled, paths: [TestData.fixture("schema/headerless.tsv")]).map(\.label) == [1, 0])
        #expect(labeled.hasLabels)
        // Training still needs the label.
        let moviesSchema = TestData.fixture("schema/movies.yaml")
        #expect {
            _ = try readRows(try DelimitedFormat(schemaPath: moviesSchema), withHeader)
        } throws: { error in
            guard case .badSchema(let path, let reason) = error as? DataError else { return false }
            return path == moviesSchema && reason.hasPrefix("column 'liked' (label) is not in the header of \(withHeader);")
        }
    }

    @Test func schemaNamingAMissingColumnIsAnError() throws {
        let schemaPath = TestData.fixture("schema/missing-column.json")
        let format = try DelimitedFormat(schemaPath: schemaPath)
        #expect {
            _ = try readRows(format, TestData.fixture("schema/movies.csv"))
        } throws: { error in
            guard case .badSchema(schemaPath, let reason) = error as? DataError else { return false }
            return reason.contains("'country'") && reason.contains("movies.csv")
        }
    }

    @Test func invalidSchemaFiles() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(throws: DataError.fileNotFound(path: directory + "/none.yaml")) {
            _ = try DelimitedFormat(schemaPath: directory + "/none.yaml")
        }
        let noLabel = TestData.write("dense: [a]\n", to: "nolabel.yaml", in: directory)
        #expect { _ = try DelimitedFormat(schemaPath: noLabel) } throws: { error in
            guard case .badSchema(noLabel, let reason) = error as? DataError else { return false }
            return reason.hasPrefix("not a valid schema file") && reason.contains("label")
        }
        let twice = TestData.write("label: a\ndense: [a]\n", to: "twice.yaml", in: directory)
        #expect { _ = try DelimitedFormat(schemaPath: twice) } throws: { error in
            if case .badSchema(twice, let reason) = error as? DataError { return reason.contains("twice") }
            return false
        }
        let badDelimiter = TestData.write("label: a\ndelimiter: ';;'\n", to: "delim.yaml", in: directory)
        #expect {
            _ = try DelimitedFormat(schemaPath: badDelimiter)
        } throws: { error in
            guard case .badSchema(badDelimiter, let reason) = error as? DataError else { return false }
            return reason.hasPrefix("'delimiter' must be one ASCII character") && reason.hasSuffix("not \";;\"")
        }
    }

    @Test func nonNumericDenseValueNamesTheColumn() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = TestData.write("user;liked;price;city;ignored;score;tags\nu1;1;cheap;P;z;1;a\n", to: "d.csv", in: directory)
        #expect {
            _ = try readRows(DelimitedFormat(schemaPath: TestData.fixture("schema/movies.yaml")), data)
        } throws: { error in
            guard case .badRow(data, 2, let problem) = error as? DataError else { return false }
            return problem.kind == "non-numeric value" && problem.detail.contains("price")
        }
    }
}
