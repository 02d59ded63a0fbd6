import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

/// Writes `count` random Criteo-layout rows (with missing values, skewed categories) to `path`.
func writeSyntheticCriteo(rows count: Int, seed: UInt64, to path: String) {
    var random = SeededRandom(seed: seed)
    var text = ""
    for _ in 0..<count {
        var columns = [random.next() % 4 == 0 ? "1" : "0"]
        for i in 0..<13 {
            columns.append(random.next() % 5 == 0 ? "" : String(Int(random.next() % 1000) - (i == 1 ? 3 : 0)))
        }
        for f in 0..<26 {
            let r = random.nextUnitDouble()
            // Skewed: a few values are frequent, many are rare (some seen once).
            let id = Int(pow(r, 3) * Double(10 + f * 40))
            columns.append(random.next() % 10 == 0 ? "" : String(format: "%08x", id * 2_654_435_761 % 4_294_967_291 + f))
        }
        text += columns.joined(separator: "\t") + "\n"
    }
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
}

@Suite struct PreparerTests {
    @Test func roundTripsLabelsDenseValuesAndIDs() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = directory + "/train.tsv"
        writeSyntheticCriteo(rows: 3_000, seed: 7, to: source)
        var options = PrepareOptions()
        options.minCount = 2
        options.blockSize = 16 << 10  // many blocks, each split between two threads
        options.threads = 2
        let report = try Preparer.prepare(
            format: CriteoFormat(), formatName: "criteo", inputs: [source],
            output: directory + "/prepared", options: options)
        let store = try ColumnStore(directory: directory + "/prepared")
        try store.verifyChecksums()
        let sourceRows = try readRows(CriteoFormat(), source)
        #expect(store.rows == 3_000)
        #expect(report.manifest.rows == 3_000)
        let vocabularies = try store.vocabularies()

        // Training-row counts, computed independently of the preparer.
        var trainCounts = [[String: UInt64]](repeating: [:], count: 26)
        for (i, row) in sourceRows.enumerated() where DataSplit.randomPart(row: UInt64(i), seed: 42) == .train {
            for (f, value) in row.categorical.enumerated() { if let value { trainCounts[f][value, default: 0] += 1 } }
        }
        var parts = [0, 0, 0]
        for (i, row) in sourceRows.enumerated() {
            #expect(store.label(i) == row.label)
            #expect(store.part(i) == DataSplit.randomPart(row: UInt64(i), seed: 42))
            parts[store.part(i).rawValue] += 1
            #expect(store.dense(i) == row.dense.map { DenseTransform.log1p.apply($0) })
            let ids = store.categoricalIDs(i)
            for f in 0..<26 {
                let id = ids[f]
                guard let value = row.categorical[f] else {
                    #expect(id == Vocabulary.missingID)
                    continue
                }
                if trainCounts[f][value, default: 0] >= 2 {
                    #expect(id >= Vocabulary.firstValueID)
                    #expect(vocabularies[f].value(at: Int(id - Vocabulary.firstValueID)) == value)
                    #expect(vocabularies[f].id(of: value) == id)
                } else {
                    #expect(id == Vocabulary.oovID)
                }
            }
        }
        #expect(report.manifest.split.rows == ["train": parts[0], "validation": parts[1], "test": parts[2]])
        #expect(store.rowIndices(of: .test).count == parts[2])
        // Vocabulary: kept values by decreasing training count, counts exact.
        for f in 0..<26 {
            let kept = trainCounts[f].filter { $0.value >= 2 }
            #expect(vocabularies[f].valueCount == kept.count)
            #expect(vocabularies[f].cardinality == kept.count + 2)
            #expect(vocabularies[f].counts == vocabularies[f].counts.sorted(by: >))
            for index in 0..<vocabularies[f].valueCount {
                #expect(kept[vocabularies[f].value(at: index)] == vocabularies[f].counts[index])
            }
        }
    }

    @Test func resultDoesNotDependOnThreadsOrBlockSize() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = directory + "/train.tsv"
        writeSyntheticCriteo(rows: 1_500, seed: 3, to: source)
        var one = PrepareOptions()
        one.threads = 1
        one.blockSize = 1 << 20
        var two = PrepareOptions()
        two.threads = 2
        two.blockSize = 8 << 10
        let a = try Preparer.prepare(format: CriteoFormat(), formatName: "criteo", inputs: [source], output: directory + "/a", options: one)
        let b = try Preparer.prepare(format: CriteoFormat(), formatName: "criteo", inputs: [source], output: directory + "/b", options: two)
        #expect(a.manifest.files == b.manifest.files)
        #expect(a.manifest.fields == b.manifest.fields)
    }

    @Test func sequentialSplitTakesTheLastLines() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = directory + "/train.tsv"
        writeSyntheticCriteo(rows: 1_000, seed: 5, to: source)
        var options = PrepareOptions()
        options.split = .sequential
        options.blockSize = 8 << 10
        let report = try Preparer.prepare(
            format: CriteoFormat(), formatName: "criteo", inputs: [source],
            output: directory + "/out", options: options)
        #expect(report.manifest.split.rows == ["train": 800, "validation": 100, "test": 100])
        let store = try ColumnStore(directory: directory + "/out")
        #expect(store.rowIndices(of: .validation) == Array(800..<900))
        #expect(store.rowIndices(of: .test) == Array(900..<1000))
    }

    @Test func multiValuedFieldsRoundTrip() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let format = try DelimitedFormat(schemaPath: TestData.fixture("schema/movies.yaml"))
        var options = PrepareOptions()
        options.split = .sequential  // 3 rows: train gets row 0 and 1
        let report = try Preparer.prepare(
            format: format, formatName: "schema", inputs: [TestData.fixture("schema/movies.csv")],
            output: directory + "/out", options: options)
        let store = try ColumnStore(directory: directory + "/out")
        let vocabularies = try store.vocabularies()
        let tags = vocabularies[2]
        #expect(tags.name == "tags")
        #expect(report.manifest.split.rows["train"] == 2)
        // Train rows hold tags a, b, c once each: ties keep first-seen order.
        #expect(store.multiValuedIDs(field: 0, row: 0) == [2, 3, 4])
        #expect(store.multiValuedIDs(field: 0, row: 1) == [])
        #expect(store.multiValuedIDs(field: 0, row: 2) == [3])
        #expect((0..<3).map { tags.value(at: $0) } == ["a", "b", "c"])
        #expect(store.dense(1) == [0, DenseTransform.log1p.apply(1000)])
        #expect(store.dense(0) == [DenseTransform.log1p.apply(3.5), 0])  // -2 clipped to 0 by log(1 + max(x, 0))
    }

    @Test func badRowsStopOrAreSkippedAndCounted() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = TestData.fixture("criteo/bad-rows.tsv")
        #expect(throws: DataError.badRow(path: source, line: 2, problem: .columnCount(expected: "40", found: 39))) {
            _ = try Preparer.prepare(format: CriteoFormat(), formatName: "criteo", inputs: [source], output: directory + "/out")
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/out"), "a failed prepare leaves no output")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(leftovers.isEmpty, "no temporary directory left behind: \(leftovers)")
        var options = PrepareOptions()
        options.skipBadRows = true
        let report = try Preparer.prepare(
            format: CriteoFormat(), formatName: "criteo", inputs: [source],
            output: directory + "/out", options: options)
        #expect(report.manifest.rows == 2)
        #expect(report.manifest.source.skippedRows == ["wrong column count": 1, "non-numeric value": 1, "bad label": 1])
        #expect(report.skippedExamples.first?.hasPrefix(source + ":2:") == true)
    }

    @Test func refusesToOverwriteWithoutForceAndReplacesAtomicallyWithIt() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = directory + "/train.tsv"
        writeSyntheticCriteo(rows: 200, seed: 1, to: source)
        _ = try Preparer.prepare(format: CriteoFormat(), formatName: "criteo", inputs: [source], output: directory + "/out")
        #expect {
            _ = try Preparer.prepare(format: CriteoFormat(), formatName: "criteo", inputs: [source], output: directory + "/out")
        } throws: { error in
            guard case .writeFailed(let path, let reason) = error as? DataError else { return false }
            return path == directory + "/out" && reason.hasPrefix("it already exists; pass --force")
        }
        var options = PrepareOptions()
        options.replaceExisting = true
        options.minCount = 3
        let report = try Preparer.prepare(
            format: CriteoFormat(), formatName: "criteo", inputs: [source], output: directory + "/out", options: options)
        #expect(try DatasetManifest.load(directory: directory + "/out").preprocessing.minCount == 3)
        #expect(report.manifest.preprocessing.minCount == 3)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["out", "train.tsv"])
    }

    @Test func interruptedPrepareLeavesNothingThatLooksComplete() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // What a killed prepare leaves: a temporary directory of a process that no longer exists.
        let stale = directory + "/out.tmp-999999"
        try FileManager.default.createDirectory(atPath: stale, withIntermediateDirectories: true)
        #expect { _ = try ColumnStore(directory: stale) } throws: { error in
            guard case .badDataset(let path, let reason) = error as? DataError else { return false }
            return path == stale && reason.hasPrefix("has no dataset.json")
        }
        let source = directory + "/train.tsv"
        writeSyntheticCriteo(rows: 100, seed: 1, to: source)
        _ = try Preparer.prepare(format: CriteoFormat(), formatName: "criteo", inputs: [source], output: directory + "/out")
        #expect(!FileManager.default.fileExists(atPath: stale), "stale temporaries are cleaned up")
    }

    @Test func missingEmptyAndUnlabeledInputs() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let empty = TestData.write("", to: "empty.tsv", in: directory)
        #expect(throws: DataError.emptyFile(path: empty)) {
            _ = try Preparer.prepare(format: CriteoFormat(), formatName: "criteo", inputs: [empty], output: directory + "/out")
        }
        #expect(throws: DataError.fileNotFound(path: directory + "/none.tsv")) {
            _ = try Preparer.prepare(
                format: CriteoFormat(), formatName: "criteo", inputs: [directory + "/none.tsv"], output: directory + "/out")
        }
        #expect(throws: DataError.unreadable(path: directory, reason: "it is a directory, not a file")) {
            _ = try Preparer.prepare(format: CriteoFormat(), formatName: "criteo", inputs: [directory], output: directory + "/out")
        }
        #expect {
            _ = try Preparer.prepare(
                format: CriteoFormat(), formatName: "criteo", inputs: [TestData.fixture("criteo/unlabeled.tsv")], output: directory + "/out"
            )
        } throws: { error in
            if case .badHeader(_, let reason) = error as? DataError { return reason.contains("no label") }
            return false
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/out"))
    }

    @Test func corruptDatasetsAreRejectedWithSpecificMessages() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = directory + "/train.tsv"
        writeSyntheticCriteo(rows: 300, seed: 2, to: source)
        let out = directory + "/out"
        _ = try Preparer.prepare(format: CriteoFormat(), formatName: "criteo", inputs: [source], output: out)

        // A flipped byte in the data: caught by the checksum.
        let dense = out + "/dense.f32"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dense)))
        bytes[100] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: dense))
        let store = try ColumnStore(directory: out)
        #expect { try store.verifyChecksums() } throws: { error in
            (error as? DataError)?.errorDescription?.contains("checksum mismatch") == true
        }
        // A truncated file: caught on open.
        try Data(bytes.prefix(bytes.count - 4)).write(to: URL(fileURLWithPath: dense))
        #expect { _ = try ColumnStore(directory: out) } throws: { error in
            (error as? DataError)?.errorDescription?.contains("truncated or corrupt") == true
        }
        // A manifest from a newer version.
        let manifestPath = out + "/dataset.json"
        let text = try String(contentsOfFile: manifestPath, encoding: .utf8)
            .replacingOccurrences(of: "\"formatVersion\" : 1", with: "\"formatVersion\" : 99")
        try text.write(toFile: manifestPath, atomically: true, encoding: .utf8)
        #expect { _ = try ColumnStore(directory: out) } throws: { error in
            (error as? DataError)?.errorDescription?.contains("newer than this compactrec") == true
        }
        // A corrupt vocabulary.
        let vocabularyPath = out + "/vocabulary.bin"
        var vocabulary = try [UInt8](Data(contentsOf: URL(fileURLWithPath: vocabularyPath)))
        vocabulary[20] ^= 1
        #expect { _ = try VocabularyFile.decode(vocabulary, path: vocabularyPath) } throws: { error in
            (error as? DataError)?.errorDescription?.contains("checksum mismatch") == true
        }
        // Ten bytes: shorter than the 16-byte prefix, refused before anything is read.
        #expect(throws: DataError.badDataset(path: vocabularyPath, reason: "not a CompactRec vocabulary file (bad magic)")) {
            _ = try VocabularyFile.decode(Array(vocabulary.prefix(10)), path: vocabularyPath)
        }
    }
}
