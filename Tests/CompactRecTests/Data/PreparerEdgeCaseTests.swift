import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

/// Cases found in review: layouts without dense or categorical fields, what --force may
/// replace, output paths, errors during setup, first lines, all-bad files, overflowing values.
@Suite struct PreparerEdgeCaseTests {
    func prepare<F: LineFormat>(
        _ format: F, _ inputs: [String], _ output: String,
        _ configure: (inout PrepareOptions) -> Void = { _ in }
    ) throws -> PrepareReport {
        var options = PrepareOptions()
        configure(&options)
        return try Preparer.prepare(format: format, formatName: "test", inputs: inputs, output: output, options: options)
    }

    @Test func datasetsWithoutDenseFieldsOpenAndSummarise() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let movieLens = try MovieLensFormat(folder: TestData.fixture("movielens-1m"))
        let cases: [(any LineFormat, [String])] = [
            (AvazuFormat(), [TestData.fixture("avazu/edge-cases.csv")]),
            (movieLens, [movieLens.ratingsFile]),
            (LibFMFormat(), [TestData.fixture("libfm/frappe-sample.libfm")]),
        ]
        for (index, (format, inputs)) in cases.enumerated() {
            let output = directory + "/d\(index)"
            let report = try prepare(format, inputs, output)
            let store = try ColumnStore(directory: output)
            try store.verifyChecksums()
            #expect(store.rows == report.manifest.rows && store.rows > 0)
            #expect(store.dense(0).isEmpty)
            let summary = try DatasetSummary(store: store)
            for field in summary.fields {
                for share in (field.oovShare ?? [:]).values { #expect((0...1).contains(share)) }
            }
        }
        // MovieLens genres: a multi-valued field, counted over values.
        let genres = try #require(try DatasetManifest.load(directory: directory + "/d1").fields.first { $0.name == "genres" })
        #expect(genres.values ?? 0 > 0)
        #expect(genres.oovValues.map { $0 <= genres.values ?? 0 } == true)
    }

    @Test func datasetWithOnlyDenseFieldsOpens() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let schema = TestData.write("label: y\ndense: [x]\n", to: "s.yaml", in: directory)
        let data = TestData.write("y,x\n1,2\n0,3\n", to: "d.csv", in: directory)
        _ = try prepare(DelimitedFormat(schemaPath: schema), [data], directory + "/out")
        let store = try ColumnStore(directory: directory + "/out")
        #expect(store.rows == 2)
        #expect(store.categoricalIDs(1).isEmpty)
        #expect(store.dense(1) == [DenseTransform.log1p.apply(3)])
    }

    @Test func forceReplacesOnlyDatasetsAndNeverAnInputsDirectory() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let precious = directory + "/precious"
        try FileManager.default.createDirectory(atPath: precious, withIntermediateDirectories: true)
        let notes = TestData.write("keep me", to: "notes.txt", in: precious)
        let source = precious + "/train.tsv"
        writeSyntheticCriteo(rows: 50, seed: 1, to: source)
        #expect { _ = try prepare(CriteoFormat(), [source], precious) { $0.replaceExisting = true } } throws: { error in
            (error as? DataError)?.errorDescription?.contains("not a prepared dataset") == true
        }
        #expect(FileManager.default.fileExists(atPath: notes) && FileManager.default.fileExists(atPath: source))
        // A directory with only the input in it: still refused, it holds an input.
        try FileManager.default.removeItem(atPath: notes)
        _ = try prepare(CriteoFormat(), [source], directory + "/out")
        try FileManager.default.moveItem(atPath: source, toPath: directory + "/out/train.tsv")
        #expect {
            _ = try prepare(CriteoFormat(), [directory + "/out/train.tsv"], directory + "/out") { $0.replaceExisting = true }
        } throws: { error in (error as? DataError)?.errorDescription?.contains("inside it") == true }
        #expect(FileManager.default.fileExists(atPath: directory + "/out/train.tsv"))
    }

    @Test func trailingSlashAndStaleTemporaries() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = directory + "/train.tsv"
        writeSyntheticCriteo(rows: 50, seed: 1, to: source)
        let keep = directory + "/out.tmp-backup"
        try FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
        _ = try prepare(CriteoFormat(), [source], directory + "/out/")
        #expect(try ColumnStore(directory: directory + "/out").rows == 50)
        #expect(FileManager.default.fileExists(atPath: keep), "a name that is not OUTPUT.tmp-PID is not ours to delete")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["out", "out.tmp-backup", "train.tsv"])
    }

    @Test func errorsDuringSetupLeaveNothingBehind() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let schema = TestData.fixture("schema/missing-column.json")
        let movies = TestData.fixture("schema/movies.csv")
        #expect {
            _ = try prepare(DelimitedFormat(schemaPath: schema), [movies], directory + "/out")
        } throws: { error in
            guard case .badSchema(let path, let reason) = error as? DataError else { return false }
            return path == schema && reason.hasPrefix("column 'country' (categorical) is not in the header of \(movies);")
        }
        let criteo = TestData.fixture("criteo/edge-cases.tsv")
        #expect {
            _ = try prepare(AvazuFormat(), [criteo], directory + "/out")
        } throws: { error in
            guard case .badHeader(let path, let reason) = error as? DataError else { return false }
            return path == criteo && reason.contains("has no 'hour' column")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test func blankFirstLinesAreIgnoredAndCounted() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let rows = try String(contentsOfFile: TestData.fixture("criteo/edge-cases.tsv"), encoding: .utf8)
        let source = TestData.write("\n\r\n" + rows, to: "t.tsv", in: directory)
        let report = try prepare(CriteoFormat(), [source], directory + "/out")
        #expect(report.manifest.rows == 3)
        #expect(report.manifest.source.blankLines == 2)
        #expect(report.manifest.source.lines == 5)
        let headerFirst = TestData.write(
            "\n" + (try String(contentsOfFile: TestData.fixture("avazu/edge-cases.csv"), encoding: .utf8)),
            to: "a.csv", in: directory)
        #expect(try prepare(AvazuFormat(), [headerFirst], directory + "/avazu").manifest.rows == 3)
    }

    @Test func fileWhoseRowsAreAllBadSaysSo() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = TestData.write("2\tx\n3\ty\n", to: "bad.tsv", in: directory)
        #expect { _ = try prepare(CriteoFormat(), [source], directory + "/out") { $0.skipBadRows = true } } throws: { error in
            (error as? DataError)?.errorDescription?.contains("all 2 of its rows are bad (2 bad label)") == true
        }
    }

    @Test func denseValuesBeyondFloatRangeAreBadRows() throws {
        var format = CriteoFormat()
        var rows = ParsedRows(schema: format.schema)
        var line = (["1", "1e39"] + Array(repeating: "1", count: 12) + Array(repeating: "aa", count: 26)).joined(separator: "\t")
        _ = try line.withUTF8 { try format.start(file: "x", firstLine: $0) }
        let problem: RowProblem? = line.withUTF8 { bytes in
            rows.beginRow()
            defer { rows.abandonRow() }
            do throws(RowProblem) { try format.parse(bytes, into: &rows) } catch { return error }
            return nil
        }
        #expect(problem?.kind == "value out of range")
        #expect(problem?.detail.contains("column I1 ") == true)
    }
}
