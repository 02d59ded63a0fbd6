import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct LibFMFormatTests {
    static func fixture(_ name: String) throws -> String {
        let files = try #require(Bundle.module.url(forResource: "files", withExtension: nil))
        return files.appendingPathComponent("libfm/" + name).path
    }

    static func row(_ label: UInt8, _ categorical: [String?]) -> RawRow {
        RawRow(label: label, dense: [], categorical: categorical, multiValued: [])
    }

    static func dataError(_ body: () throws(DataError) -> Void) -> DataError? {
        do throws(DataError) {
            try body()
            return nil
        } catch {
            return error
        }
    }

    /// The problem `format` finds in `text` (nil when it parses), and the row it made.
    static func parse(_ format: LibFMFormat, _ text: String) -> (RowProblem?, RawRow?) {
        var rows = ParsedRows(schema: format.schema)
        rows.beginRow()
        do throws(RowProblem) {
            try Array(text.utf8).withUnsafeBufferPointer { (line) throws(RowProblem) in try format.parse(line, into: &rows) }
            rows.endRow()
            return (nil, rows.row(0))
        } catch {
            return (error, nil)
        }
    }

    static let frappeRows: [RawRow] = [
        row(1, ["11", "2301", "5040", "5047", "5050", "5052", "5056", "5061", "5072", "5101"]),
        row(0, ["870", "3122", "5042", "5045", "5051", "5053", "5057", "5063", "5090", "5234"]),
        // "+1", tab separators and a 1.0 value.
        row(1, ["11", "4417", "5041", "5045", "5050", "5052", "5056", "5061", "5072", "5101"]),
        // "-1.0", a 0-valued feature (absent, but it keeps its position) and missing fields.
        row(0, ["870", nil, "5043", nil, nil, nil, nil, nil, nil, nil]),
        // "0" and trailing spaces.
        row(0, ["12", "2302", "5040", "5047", "5050", "5052", "5056", "5064", "5072", "5102"]),
        // "1.0".
        row(1, ["13", "2303", "5044", "5047", "5051", "5052", "5058", "5065", "5073", "5103"]),
    ]

    @Test func readsFrappeStyleLibSVM() throws {
        let path = try Self.fixture("frappe-sample.libfm")
        var format = try LibFMFormat(file: path)
        #expect(format.layout == .libSVM)
        #expect(format.fieldCount == 10)
        #expect(format.hasLabels)
        #expect(format.schema == Schema(dense: [], categorical: (0..<10).map { "f\($0)" }))
        let rows = try RowFileReader.readAll(&format, paths: [path])
        #expect(rows.count == Self.frappeRows.count)
        for (row, want) in zip(rows, Self.frappeRows) { #expect(row == want) }
    }

    @Test func decidesInStart() throws {
        let path = try Self.fixture("frappe-sample.libfm")
        var format = LibFMFormat()
        #expect(format.layout == nil)
        #expect(format.schema.categorical.isEmpty)
        let isHeader = try Array("1 11:1 2301:1 5040:1".utf8).withUnsafeBufferPointer { (line) throws(DataError) in
            try format.start(file: path, firstLine: line)
        }
        #expect(!isHeader)
        #expect(format.layout == .libSVM)
        #expect(format.schema.categorical == ["f0", "f1", "f2"])
    }

    @Test func fieldCountOverride() throws {
        let path = try Self.fixture("frappe-sample.libfm")
        var format = LibFMFormat(fieldCount: 12)
        let rows = try RowFileReader.readAll(&format, paths: [path])
        #expect(format.layout == .libSVM)
        #expect(format.schema.categorical.count == 12)
        #expect(rows.map(\.categorical) == Self.frappeRows.map { $0.categorical + [nil, nil] })

        let error = Self.dataError { () throws(DataError) in
            var narrow = LibFMFormat(fieldCount: 3)
            _ = try RowFileReader.readAll(&narrow, paths: [path])
        }
        guard case .badRow(let p, let line, let problem)? = error else {
            Issue.record("expected badRow, got \(String(describing: error))")
            return
        }
        #expect(p == path && line == 1 && problem.kind == "too many fields")
    }

    @Test func readsLibFFM() throws {
        let path = try Self.fixture("sample.libffm")
        var format = try LibFMFormat(file: path)
        #expect(format.layout == .libFFM)
        #expect(format.fieldCount == 3)
        // Line 1 ends in CR LF; the last line has no newline.
        let rows = try RowFileReader.readAll(&format, paths: [path])
        #expect(
            rows == [
                Self.row(1, ["3", "17", "40"]),
                Self.row(0, ["5", nil, "41"]),
                // 0:3:0 is absent; fields in any order.
                Self.row(0, [nil, "18", "40"]),
                Self.row(1, ["6", "19", "42"]),
            ])
    }

    @Test func labels() throws {
        let format = LibFMFormat(layout: .libSVM, fieldCount: 2)
        for (text, label) in [("1", 1), ("+1", 1), ("1.0", 1), ("0", 0), ("-1", 0), ("0.0", 0), ("-1.0", 0)] {
            let (problem, row) = Self.parse(format, text + " 7:1")
            #expect(problem == nil)
            #expect(row?.label == UInt8(label), "label \(text)")
            #expect(row?.categorical == ["7", nil])
        }
        for text in ["2", "yes", "0.5", "-2", "1x"] {
            #expect(Self.parse(format, text + " 7:1").0?.kind == "bad label", "label \(text)")
        }
    }

    @Test func rowProblems() throws {
        let svm = LibFMFormat(layout: .libSVM, fieldCount: 2)
        #expect(Self.parse(svm, "1 7:1 8:1 9:1").0?.kind == "too many fields")
        #expect(Self.parse(svm, "1 7").0?.kind == "malformed feature")
        #expect(Self.parse(svm, "1 a:1").0?.kind == "malformed feature")
        #expect(Self.parse(svm, "1 7:").0?.kind == "malformed feature")
        #expect(Self.parse(svm, "1 7:x").0?.kind == "malformed feature")
        #expect(Self.parse(svm, "1 0:7:1").0?.kind == "malformed feature")
        let numeric = Self.parse(svm, "1 7:0.25").0
        #expect(numeric?.kind == "numeric feature value")
        #expect(numeric?.detail.contains("not supported in libFM input yet") == true)
        #expect(numeric?.detail.contains("dense column") == true)

        let ffm = LibFMFormat(layout: .libFFM, fieldCount: 3)
        #expect(Self.parse(ffm, "1 0:7:1 2:9:1").1?.categorical == ["7", nil, "9"])
        #expect(Self.parse(ffm, "1 0:7:1 3:9:1").0?.kind == "too many fields")
        #expect(Self.parse(ffm, "1 0:7:1 0:8:1").0?.kind == "repeated field")
        #expect(Self.parse(ffm, "1 0:7:0 0:8:1").0?.kind == "repeated field")
        #expect(Self.parse(ffm, "1 0:7:1 8:1").0?.kind == "malformed feature")
        #expect(Self.parse(ffm, "1 x:7:1").0?.kind == "malformed feature")
        #expect(Self.parse(ffm, "1 0::1").0?.kind == "malformed feature")
        #expect(Self.parse(ffm, "1 1:7:2").0?.kind == "numeric feature value")
    }

    @Test func badFiles() throws {
        let cases: [(file: String, line: Int, kind: String)] = [
            ("bad-label.libfm", 3, "bad label"),
            ("bad-token.libfm", 2, "malformed feature"),
            ("too-many-fields.libfm", 2, "too many fields"),
            ("numeric-value.libfm", 2, "numeric feature value"),
            ("repeated-field.libffm", 2, "repeated field"),
            ("field-beyond.libffm", 2, "too many fields"),
            ("mixed.libffm", 2, "malformed feature"),
        ]
        for c in cases {
            let path = try Self.fixture(c.file)
            let error = Self.dataError { () throws(DataError) in
                var format = try LibFMFormat(file: path)
                _ = try RowFileReader.readAll(&format, paths: [path])
            }
            guard case .badRow(let p, let line, let problem)? = error else {
                Issue.record("\(c.file): expected badRow, got \(String(describing: error))")
                continue
            }
            #expect(p == path, "\(c.file)")
            #expect(line == c.line, "\(c.file)")
            #expect(problem.kind == c.kind, "\(c.file): \(problem.detail)")
        }
    }

    @Test func layoutMustAgreeAcrossFiles() throws {
        let ffm = try Self.fixture("sample.libffm")
        let svm = try Self.fixture("frappe-sample.libfm")
        let error = Self.dataError { () throws(DataError) in
            var format = try LibFMFormat(file: ffm)
            _ = try RowFileReader.readAll(&format, paths: [ffm, svm])
        }
        guard case .badHeader(let path, let reason)? = error else {
            Issue.record("expected badHeader, got \(String(describing: error))")
            return
        }
        #expect(path == svm)
        #expect(reason.contains("libSVM"))

        let given = Self.dataError { () throws(DataError) in
            var format = LibFMFormat(layout: .libFFM, fieldCount: 10)
            _ = try RowFileReader.readAll(&format, paths: [svm])
        }
        guard case .badHeader(let p, _)? = given else {
            Issue.record("expected badHeader, got \(String(describing: given))")
            return
        }
        #expect(p == svm)
    }

    @Test func undecidedFormatRefusesRows() {
        let (problem, _) = Self.parse(LibFMFormat(), "1 7:1")
        #expect(problem?.kind == "unknown field count")
    }

    @Test func missingFile() throws {
        let path = try Self.fixture("no-such-file.libfm")
        let error = Self.dataError { () throws(DataError) in _ = try LibFMFormat(file: path) }
        #expect(error == .fileNotFound(path: path))
    }

    @Test func firstLineWithoutFeatures() throws {
        var format = LibFMFormat()
        let error = Self.dataError { () throws(DataError) in
            _ = try Array("1".utf8).withUnsafeBufferPointer { (line) throws(DataError) in
                try format.start(file: "x.libfm", firstLine: line)
            }
        }
        guard case .badHeader(let path, let reason)? = error else {
            Issue.record("expected badHeader, got \(String(describing: error))")
            return
        }
        #expect(path == "x.libfm")
        #expect(reason.contains("no features"))
    }
}
