import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

@Suite struct MovieLensFormatTests {
    /// The fixtures folder copied into the test bundle.
    static func fixture(_ name: String) throws -> String {
        let files = try #require(Bundle.module.url(forResource: "files", withExtension: nil))
        return files.appendingPathComponent(name).path
    }

    static func row(_ label: UInt8, _ categorical: [String?], genres: [String]) -> RawRow {
        RawRow(label: label, dense: [], categorical: categorical, multiValued: [genres])
    }

    /// The error `body` throws (a DataError), or nil.
    static func dataError(_ body: () throws(DataError) -> Void) -> DataError? {
        do throws(DataError) {
            try body()
            return nil
        } catch {
            return error
        }
    }

    /// Asserts `error` is `.badRow` at `path`:`line` of the given kind.
    static func expectBadRow(
        _ error: DataError?, path: String, line: Int, kind: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard case .badRow(let p, let l, let problem)? = error else {
            Issue.record("expected badRow, got \(String(describing: error))", sourceLocation: sourceLocation)
            return
        }
        #expect(p == path, sourceLocation: sourceLocation)
        #expect(l == line, sourceLocation: sourceLocation)
        #expect(problem.kind == kind, "\(problem.detail)", sourceLocation: sourceLocation)
    }

    // MARK: ml-100k

    @Test func schemaOrder() throws {
        let format = try MovieLensFormat(folder: Self.fixture("movielens-100k"))
        #expect(
            format.schema
                == Schema(
                    dense: [],
                    categorical: ["user", "item", "age", "gender", "occupation", "zip_prefix", "release_year"],
                    multiValued: ["genres"]))
        #expect(format.hasLabels)
    }

    @Test func reads100k() throws {
        let folder = try Self.fixture("movielens-100k")
        var format = try MovieLensFormat(folder: folder)
        #expect(format.layout == .ml100k)
        #expect(format.ratingsFile == folder + "/u.data")
        #expect(format.userCount == 4)
        #expect(format.movieCount == 4)
        let rows = try RowFileReader.readAll(&format, paths: [format.ratingsFile])
        let latin1Occupation = String(decoding: [0x63, 0x61, 0x66, 0xE9, 0x20, 0x6F, 0x77, 0x6E, 0x65, 0x72], as: UTF8.self)
        let expected: [RawRow] = [
            Self.row(1, ["1", "2", "37", "F", "librarian", "021", "1996"], genres: ["Drama", "Romance"]),
            Self.row(0, ["2", "4", "19", "M", "student", "606", "1997"], genres: ["Action", "Adventure", "Thriller"]),
            Self.row(1, ["3", "1", "45", "F", latin1Occupation, "H3Z", "1994"], genres: ["Animation", "Children's", "Comedy"]),
            // Movie 3 has no release date; user 4's zip code is shorter than 3 characters.
            Self.row(0, ["4", "3", "61", "M", "retired", "9", nil], genres: ["unknown"]),
            // User 9 is not in u.user: the movie side is still joined.
            Self.row(1, ["9", "2", nil, nil, nil, nil, "1996"], genres: ["Drama", "Romance"]),
            // Movie 7 is not in u.item: the user side is still joined.
            Self.row(0, ["1", "7", "37", "F", "librarian", "021", nil], genres: []),
        ]
        #expect(rows.count == expected.count)
        for (row, want) in zip(rows, expected) { #expect(row == want) }
    }

    @Test func ratingThresholdIsConfigurable() throws {
        let folder = try Self.fixture("movielens-100k")
        var atThree = try MovieLensFormat(folder: folder, ratingThreshold: 3)
        #expect(atThree.ratingThreshold == 3)
        #expect(try RowFileReader.readAll(&atThree, paths: [atThree.ratingsFile]).map(\.label) == [1, 1, 1, 0, 1, 0])
        var atFive = try MovieLensFormat(folder: folder, ratingThreshold: 5)
        #expect(try RowFileReader.readAll(&atFive, paths: [atFive.ratingsFile]).map(\.label) == [1, 0, 0, 0, 0, 0])
        var atFour = try MovieLensFormat(folder: folder)
        #expect(try RowFileReader.readAll(&atFour, paths: [atFour.ratingsFile]).map(\.label) == [1, 0, 1, 0, 1, 0])
    }

    @Test func latin1BytesSurvive() throws {
        let format = try MovieLensFormat(folder: Self.fixture("movielens-100k"))
        var rows = ParsedRows(schema: format.schema)
        rows.beginRow()
        try Array("3\t2\t4\t880000003".utf8).withUnsafeBufferPointer { try format.parse($0, into: &rows) }
        rows.endRow()
        // occupation (field 4) of user 3 is "caf\xE9 owner" in Latin-1, kept byte for byte.
        #expect(Array(rows.valueBytes(span: rows.spans[4])) == [0x63, 0x61, 0x66, 0xE9, 0x20, 0x6F, 0x77, 0x6E, 0x65, 0x72])
        // movie 2's Latin-1 title does not disturb its year.
        #expect(Array(rows.valueBytes(span: rows.spans[6])) == Array("1996".utf8))
    }

    @Test func parseIsConcurrencySafe() async throws {
        let format = try MovieLensFormat(folder: Self.fixture("movielens-100k"))
        let counts = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var rows = ParsedRows(schema: format.schema)
                    let line = Array("1\t2\t5\t880000001".utf8)
                    for _ in 0..<500 {
                        rows.beginRow()
                        do {
                            try line.withUnsafeBufferPointer { try format.parse($0, into: &rows) }
                            rows.endRow()
                        } catch {
                            rows.abandonRow()
                        }
                    }
                    return (0..<rows.count).filter { rows.row($0).categorical[6] == "1996" }.count
                }
            }
            var all: [Int] = []
            for await count in group { all.append(count) }
            return all
        }
        #expect(counts == Array(repeating: 500, count: 8))
    }

    // MARK: ml-1m

    @Test func reads1m() throws {
        let folder = try Self.fixture("movielens-1m")
        var format = try MovieLensFormat(folder: folder)
        #expect(format.layout == .ml1m)
        #expect(format.ratingsFile == folder + "/ratings.dat")
        #expect(format.userCount == 3)
        #expect(format.movieCount == 4)
        // ratings.dat has a CR LF line (line 2) and no newline after its last line; users.dat and
        // movies.dat have a CR LF line each (line 2), whose last values must not keep the CR.
        let rows = try RowFileReader.readAll(&format, paths: [format.ratingsFile])
        let expected: [RawRow] = [
            Self.row(1, ["1", "1", "35", "F", "7", "303", "1993"], genres: ["Drama"]),
            Self.row(1, ["2", "2", "18", "M", "4", "981", "1999"], genres: ["Comedy", "Romance"]),
            // Movie 3's title has no year.
            Self.row(0, ["3", "3", "50", "M", "0", "1", nil], genres: ["Sci-Fi", "Thriller"]),
            // Only the last parenthesised group of the title is the year.
            Self.row(1, ["2", "4", "18", "M", "4", "981", "2000"], genres: ["Adventure", "Children's", "Fantasy"]),
            Self.row(0, ["7", "1", nil, nil, nil, nil, "1993"], genres: ["Drama"]),
            Self.row(1, ["1", "9", "35", "F", "7", "303", nil], genres: []),
        ]
        #expect(rows.count == expected.count)
        for (row, want) in zip(rows, expected) { #expect(row == want) }
    }

    @Test func ratingsFileWithTrailingSlash() throws {
        let folder = try Self.fixture("movielens-1m")
        let format = try MovieLensFormat(folder: folder + "/")
        #expect(format.ratingsFile == folder + "/ratings.dat")
    }

    // MARK: Bad ratings lines

    @Test func badRatingLines() throws {
        let folder100k = try Self.fixture("movielens-100k")
        let folder1m = try Self.fixture("movielens-1m")
        let cases: [(folder: String, file: String, line: Int, kind: String)] = [
            (folder100k, "ratings-100k-columns.data", 3, "wrong column count"),
            (folder100k, "ratings-100k-rating.data", 2, "non-numeric value"),
            (folder1m, "ratings-1m-columns.dat", 2, "wrong column count"),
            (folder1m, "ratings-1m-rating.dat", 3, "non-numeric value"),
            (folder1m, "ratings-1m-user.dat", 2, "non-numeric value"),
        ]
        for c in cases {
            var format = try MovieLensFormat(folder: c.folder)
            let path = try Self.fixture("movielens-bad/" + c.file)
            let error = Self.dataError { () throws(DataError) in _ = try RowFileReader.readAll(&format, paths: [path]) }
            Self.expectBadRow(error, path: path, line: c.line, kind: c.kind)
        }
    }

    @Test func badRatingDetails() throws {
        let format = try MovieLensFormat(folder: Self.fixture("movielens-1m"))
        func problem(_ text: String) -> RowProblem? {
            var rows = ParsedRows(schema: format.schema)
            rows.beginRow()
            do throws(RowProblem) {
                try Array(text.utf8).withUnsafeBufferPointer { (line) throws(RowProblem) in try format.parse(line, into: &rows) }
                return nil
            } catch {
                return error
            }
        }
        #expect(problem("1::1::4::978000001") == nil)
        #expect(problem("1::1::4.5::978000001") == nil)
        #expect(
            problem("1::1::4")
                == RowProblem(
                    kind: "wrong column count", detail: "expected 4 columns (UserID::MovieID::Rating::Timestamp), found 3"))
        #expect(problem("1::1::five::978000001") == .notANumber(column: "rating", text: Array("five".utf8)))
        #expect(problem("1::x::4::978000001") == .notANumber(column: "item id", text: Array("x".utf8)))
        #expect(problem("1::1::4::") == .notANumber(column: "timestamp", text: [UInt8]()))
        // A TAB-separated line is one column in the ml-1m layout.
        #expect(problem("1\t1\t4\t978000001")?.kind == "wrong column count")
    }

    // MARK: Bad side tables and folders

    @Test func badSideTables() throws {
        let cases: [(folder: String, file: String, line: Int, kind: String)] = [
            ("100k-bad-user", "u.user", 3, "non-numeric value"),
            ("100k-bad-item", "u.item", 2, "bad genre flag"),
            ("100k-bad-date", "u.item", 2, "bad date"),
            ("1m-bad-movies", "movies.dat", 3, "wrong column count"),
            ("1m-duplicate-user", "users.dat", 4, "duplicate id"),
        ]
        for c in cases {
            let folder = try Self.fixture("movielens-bad/" + c.folder)
            let error = Self.dataError { () throws(DataError) in _ = try MovieLensFormat(folder: folder) }
            Self.expectBadRow(error, path: folder + "/" + c.file, line: c.line, kind: c.kind)
        }
        let folder = try Self.fixture("movielens-bad/1m-duplicate-user")
        let error = Self.dataError { () throws(DataError) in _ = try MovieLensFormat(folder: folder) }
        #expect(error?.errorDescription?.contains("user 2 is listed twice (first on line 2)") == true)
    }

    @Test func missingFolder() throws {
        let folder = try Self.fixture("movielens-bad/no-such-folder")
        let error = Self.dataError { () throws(DataError) in _ = try MovieLensFormat(folder: folder) }
        #expect(error == .fileNotFound(path: folder))
    }

    @Test func folderWithoutRatings() throws {
        let folder = try Self.fixture("movielens-bad/neither")
        let error = Self.dataError { () throws(DataError) in _ = try MovieLensFormat(folder: folder) }
        guard case .badHeader(let path, let reason)? = error else {
            Issue.record("expected badHeader, got \(String(describing: error))")
            return
        }
        #expect(path == folder)
        for name in ["u.data", "u.user", "u.item", "ratings.dat", "users.dat", "movies.dat"] {
            #expect(reason.contains(name))
        }
    }

    @Test func fileInsteadOfFolder() throws {
        let file = try Self.fixture("movielens-1m/ratings.dat")
        let error = Self.dataError { () throws(DataError) in _ = try MovieLensFormat(folder: file) }
        guard case .badHeader(let path, let reason)? = error else {
            Issue.record("expected badHeader, got \(String(describing: error))")
            return
        }
        #expect(path == file)
        #expect(reason.contains("not a MovieLens folder"))
    }

    @Test func missingSideTable() throws {
        let folder = try Self.fixture("movielens-bad/100k-missing-user")
        let error = Self.dataError { () throws(DataError) in _ = try MovieLensFormat(folder: folder) }
        #expect(error == .fileNotFound(path: folder + "/u.user"))
    }
}
