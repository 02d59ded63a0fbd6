import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

/// A small world generated once and shared by the tests that only read it (debug builds are slow).
private enum SmallWorld {
    static let configuration = TeacherConfiguration(
        rows: 20_000, seed: 7, fields: 8,
        cardinalities: [10, 100, 1_000, 5_000, 70_000, 30, 400, 2_000],  // 70,000: rejection-inversion
        ranks: [1, 0, 4, 8, 2, 0, 16, 2],
        chunkRows: 4_096, calibrationRows: 4_000)
    static let generator: TeacherGenerator = {
        do { return try TeacherGenerator(configuration: configuration) } catch { fatalError("\(error)") }
    }()
    static let chunks: [TeacherChunk] = (0..<generator.chunkCount).map { generator.chunk($0) }
    static let truth: TeacherTruth = generator.evaluate()
    static let lines: [[Substring]] = {
        chunks.flatMap { chunk in
            String(decoding: chunk.bytes, as: UTF8.self)
                .split(separator: "\n", omittingEmptySubsequences: false).dropLast()
                .map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
        }
    }()
}

private func makeTemporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "compactrec-teacher-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite struct TeacherGeneratorTests {
    @Test func sameSeedGivesSameBytesWhateverTheThreads() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func run(threads: Int, seed: UInt64, name: String) throws -> (Data, Data) {
            let configuration = TeacherConfiguration(
                rows: 3_000, seed: seed, fields: 5, cardinalities: [20, 300, 70_000, 2, 1_000],
                ranks: [2, 0, 4, 1, 8], chunkRows: 500, calibrationRows: 1_000, threads: threads)
            let path = directory + "/" + name + ".tsv"
            let summary = try TeacherGenerator(configuration: configuration).write(to: path)
            #expect(summary.truthFile == directory + "/" + name + ".teacher.json")
            return (
                try Data(contentsOf: URL(fileURLWithPath: path)),
                try Data(contentsOf: URL(fileURLWithPath: summary.truthFile))
            )
        }
        let one = try run(threads: 1, seed: 3, name: "one")
        let three = try run(threads: 3, seed: 3, name: "three")
        let other = try run(threads: 2, seed: 4, name: "other")
        #expect(one.0 == three.0)
        #expect(one.1 == three.1)
        #expect(one.0 != other.0)
        #expect(!one.0.isEmpty)
        // Nothing but the data and truth files is left behind.
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(
            names == [
                "one.teacher.json", "one.tsv", "other.teacher.json", "other.tsv",
                "three.teacher.json", "three.tsv",
            ])
    }

    @Test func criteoLayout() throws {
        // The full 26-field layout, with small cardinalities to stay fast.
        let configuration = TeacherConfiguration(
            rows: 2_000, seed: 5, cardinalities: [50], chunkRows: 1_000, calibrationRows: 1_000)
        let generator = try TeacherGenerator(configuration: configuration)
        #expect(configuration.layoutName == "criteo-kaggle")
        let text = (0..<generator.chunkCount).map { String(decoding: generator.chunk($0).bytes, as: UTF8.self) }.joined()
        #expect(text.hasSuffix("\n"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 2_000)
        var negatives = 0
        var missingDense = 0
        for line in lines {
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
            #expect(columns.count == 40)
            guard columns.count == 40 else { continue }
            #expect(columns[0] == "0" || columns[0] == "1")
            for column in columns[1...13] {
                if column.isEmpty {
                    missingDense += 1
                    continue
                }
                let value = Int(column)
                #expect(value.map { $0 >= -3 && $0 <= 999_999_999 } == true)
                if let value, value < 0 { negatives += 1 }
            }
            for column in columns[14...] {
                if column.isEmpty { continue }
                #expect(column.count == 8)
                #expect(column.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) })
            }
        }
        #expect(negatives > 0)
        #expect(missingDense > 0)
    }

    @Test func criteoLikeLayoutHasOnePlusThirteenPlusFieldsColumns() {
        for line in SmallWorld.lines.prefix(500) {
            #expect(line.count == 1 + 13 + 8)
        }
        #expect(SmallWorld.configuration.layoutName == "criteo-like")
        #expect(SmallWorld.truth.columns == 22)
    }

    @Test func clickRateIsCalibrated() {
        let labels = SmallWorld.chunks.flatMap(\.labels)
        #expect(labels.count == 20_000)
        let rate = Double(labels.reduce(0) { $0 + Int($1) }) / Double(labels.count)
        #expect(abs(rate - 0.25) < 0.02)
        #expect(abs(SmallWorld.truth.clickRate - rate) < 1e-12)
        #expect(abs(SmallWorld.truth.meanProbability - 0.25) < 0.02)
    }

    @Test func valuesAreZipfSkewed() {
        // C4 has 5,000 values: the most frequent should dwarf the median value's count.
        var counts: [Substring: Int] = [:]
        for line in SmallWorld.lines where !line[13 + 4].isEmpty { counts[line[13 + 4], default: 0] += 1 }
        let sorted = counts.values.sorted()
        let top = sorted.last ?? 0
        let median = sorted[sorted.count / 2]
        #expect(top > 20 * median)
        #expect(counts.count > 500)
        // The large field (rejection-inversion sampler) is skewed too.
        var large: [Substring: Int] = [:]
        for line in SmallWorld.lines where !line[13 + 5].isEmpty { large[line[13 + 5], default: 0] += 1 }
        #expect((large.values.max() ?? 0) > 500)
        #expect(large.count > 2_000)
    }

    @Test func zipfSamplersFollowTheLaw() {
        for count in [100, 100_000] {  // alias table, then rejection-inversion
            let table = UnsafeMutablePointer<UInt64>.allocate(capacity: max(ZipfSampler.tableSize(count: count), 1))
            defer { table.deallocate() }
            let sampler = ZipfSampler(count: count, exponent: 1.1, table: table)
            var rng = SeededRandom(seed: 9)
            var hits = [Int](repeating: 0, count: 3)
            let draws = 40_000
            for _ in 0..<draws {
                let k = sampler.sample(&rng)
                #expect(k >= 0 && k < count)
                if k < 3 { hits[k] += 1 }
            }
            for k in 0..<3 {
                let expected = sampler.probability(ofRank: k) * Double(draws)
                #expect(abs(Double(hits[k]) - expected) < 5 * expected.squareRoot() + 5)
            }
        }
    }

    @Test func truthFlagsNoiseFieldsAndRoundTrips() throws {
        let truth = SmallWorld.truth
        #expect(truth.categorical.map(\.name) == ["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"])
        #expect(
            truth.categorical.map(\.usefulRank) == [
                .useful(1), .noise, .useful(4), .useful(8),
                .useful(2), .noise, .useful(16), .useful(2),
            ])
        #expect(truth.categorical.map(\.cardinality) == SmallWorld.configuration.cardinalities)
        for field in truth.categorical {
            #expect(field.zipfExponent >= 1.05 && field.zipfExponent <= 1.2)
            if field.usefulRank == .noise { #expect(field.weightScale == 0 && field.vectorScale == 0) }
        }
        #expect(truth.dense.count == 13)
        #expect(truth.dense.contains { $0.role == .noise })
        #expect(truth.dense.allSatisfy { $0.missingRate >= 0.05 && $0.missingRate <= 0.40 })
        let json = try JSONEncoder().encode(truth)
        #expect(String(decoding: json, as: UTF8.self).contains("\"usefulRank\":\"noise\""))
        #expect(try JSONDecoder().decode(TeacherTruth.self, from: json) == truth)
    }

    @Test func oracleMatchesAnIndependentRecomputation() throws {
        let probabilities = SmallWorld.chunks.flatMap(\.probabilities)
        let labels = SmallWorld.chunks.flatMap(\.labels)
        let rows = probabilities.count
        // Brute-force pair counting, independent of AUC.compute.
        func pairAUC(_ indices: [Int]) -> Double {
            var wins = 0.0
            var pairs = 0.0
            for i in indices where labels[i] == 1 {
                for j in indices where labels[j] == 0 {
                    pairs += 1
                    if probabilities[i] > probabilities[j] { wins += 1 } else if probabilities[i] == probabilities[j] { wins += 0.5 }
                }
            }
            return wins / pairs
        }
        let randomTest = (0..<rows).filter { DataSplit.randomPart(row: UInt64($0), seed: 42) == .test }
        let sequentialTest = Array(DataSplit.sequentialRanges(rows: rows).test)
        let oracle = SmallWorld.truth.oracle
        #expect(oracle.random.testRows == randomTest.count)
        #expect(oracle.random.splitSeed == 42)
        #expect(oracle.sequential.testRows == 2_000)
        let randomAUC = try #require(oracle.random.auc)
        let sequentialAUC = try #require(oracle.sequential.auc)
        #expect(abs(randomAUC - pairAUC(randomTest)) < 1e-12)
        #expect(abs(sequentialAUC - pairAUC(sequentialTest)) < 1e-12)
        #expect(randomAUC > 0.6 && randomAUC < 0.95)
        var loss = 0.0
        for i in randomTest {
            let p = min(max(probabilities[i], 1e-7), 1 - 1e-7)
            loss -= labels[i] == 1 ? Foundation.log(p) : Foundation.log(1 - p)
        }
        #expect(abs(try #require(oracle.random.logloss) - loss / Double(randomTest.count)) < 1e-9)
    }

    @Test func writtenFileMatchesChunksAndTruth() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/world.tsv"
        var reports: [(Int, Int)] = []
        let summary = try SmallWorld.generator.write(to: path) { reports.append(($0, $1)) }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes == Data(SmallWorld.chunks.flatMap(\.bytes)))
        #expect(summary.bytes == bytes.count)
        #expect(summary.truth == SmallWorld.truth)
        #expect(reports.last.map { $0.0 == 20_000 && $0.1 == 20_000 } == true)
        let stored = try JSONDecoder().decode(
            TeacherTruth.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/world.teacher.json")))
        #expect(stored == SmallWorld.truth)
    }

    @Test func categoryCodesAreABijection() {
        // The mix is invertible, so distinct ids can never share a hex string.
        var rng = SeededRandom(seed: 1)
        for _ in 0..<10_000 {
            let value = UInt32(truncatingIfNeeded: rng.next())
            #expect(TeacherFieldSpec.unmix(TeacherFieldSpec.mix(value)) == value)
        }
        for spec in SmallWorld.generator.model.fieldList where spec.cardinality <= 5_000 {
            let ids = Set((0..<spec.cardinality).map { spec.id(ofRank: $0) })
            #expect(ids.count == spec.cardinality)  // ranks -> ids is a permutation
            #expect(ids.allSatisfy { Int($0) < spec.cardinality })
            let codes = Set(ids.map { spec.code(ofID: $0) })
            #expect(codes.count == spec.cardinality)
        }
        // Frequent values are not ids 0, 1, 2...
        let spec = SmallWorld.generator.model.fieldList[3]
        #expect((0..<5).map { spec.id(ofRank: $0) } != [0, 1, 2, 3, 4])
    }

    @Test func textFormatting() {
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 32)
        defer { buffer.deallocate() }
        for value: Int64 in [0, 7, 9, 10, 99, 100, 12_345, 999_999_999, -1, -3, 1_000_000_000_000] {
            let end = TeacherText.writeInteger(value, to: buffer)
            #expect(String(decoding: UnsafeBufferPointer(start: buffer, count: buffer.distance(to: end)), as: UTF8.self) == String(value))
        }
        for value: UInt32 in [0, 1, 0xABCD_EF01, 0xFFFF_FFFF, 0x1234_5678, 0x0F0F_0F0F] {
            TeacherText.writeHex(value, to: buffer)
            let text = String(decoding: UnsafeBufferPointer(start: buffer, count: 8), as: UTF8.self)
            let expected = String(value, radix: 16)
            #expect(text == String(repeating: "0", count: 8 - expected.count) + expected)
        }
    }

    @Test func badOptionsAreRejected() {
        #expect(throws: GeneratorError.invalidRows(0)) {
            try TeacherGenerator(configuration: TeacherConfiguration(rows: 0))
        }
        #expect(throws: GeneratorError.listLength(option: "--cardinalities", count: 2, fields: 3)) {
            try TeacherGenerator(configuration: TeacherConfiguration(rows: 10, fields: 3, cardinalities: [10, 20]))
        }
        #expect(throws: GeneratorError.listLength(option: "--ranks", count: 2, fields: 3)) {
            try TeacherGenerator(configuration: TeacherConfiguration(rows: 10, fields: 3, cardinalities: [10], ranks: [1, 2]))
        }
        #expect(throws: GeneratorError.cardinalityTooSmall(field: "C2", value: 1)) {
            try TeacherGenerator(configuration: TeacherConfiguration(rows: 10, fields: 2, cardinalities: [10, 1]))
        }
        #expect(throws: GeneratorError.negativeRank(field: "C1", value: -1)) {
            try TeacherGenerator(configuration: TeacherConfiguration(rows: 10, fields: 2, cardinalities: [10], ranks: [-1, 2]))
        }
        #expect(throws: GeneratorError.rankTooLarge(field: "C2", value: 33, limit: 32)) {
            try TeacherGenerator(configuration: TeacherConfiguration(rows: 10, fields: 2, cardinalities: [10], ranks: [1, 33]))
        }
        #expect(throws: GeneratorError.invalidFieldCount(0, limit: 1_000)) {
            try TeacherGenerator(configuration: TeacherConfiguration(rows: 10, fields: 0))
        }
        #expect {  // 26 x 10^8 values x 17 floats x 4 bytes: 176.8 GB, far too much memory
            try TeacherGenerator(configuration: TeacherConfiguration(rows: 10, cardinalities: [100_000_000], ranks: [16]))
        } throws: { error in
            guard case .invalidSetting(let message) = error as? GeneratorError else { return false }
            return message.hasPrefix("the teacher would need 176.8 GB for its parameters (the limit is 8.0 GB")
        }
        #expect(throws: GeneratorError.badList(option: "--ranks", text: "1,x")) {
            try TeacherConfiguration.parseList("1,x", option: "--ranks")
        }
        #expect((try? TeacherConfiguration.parseList("10, 1_000,5", option: "--cardinalities")) == [10, 1_000, 5])
        let message = GeneratorError.listLength(option: "--ranks", count: 2, fields: 3).errorDescription ?? ""
        #expect(message.contains("--ranks") && message.contains("--fields"))
    }

    @Test func missingDirectoryIsReportedAndNothingIsWritten() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let generator = try TeacherGenerator(
            configuration: TeacherConfiguration(
                rows: 100, fields: 2, cardinalities: [10], chunkRows: 50, calibrationRows: 200))
        let path = directory + "/missing/data.tsv"
        #expect(throws: GeneratorError.outputDirectoryMissing(path: path, directory: directory + "/missing")) {
            try generator.write(to: path)
        }
        #expect(throws: GeneratorError.writeFailed(path: directory, reason: "it is a directory; give a file name")) {
            try generator.write(to: directory)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test func defaultsAndTruthPaths() {
        let configuration = TeacherConfiguration()
        #expect(configuration.cardinalities.count == 26 && configuration.ranks.count == 26)
        #expect(configuration.cardinalities.min() == 10 && configuration.cardinalities.max() == 1_000_000)
        let total = configuration.cardinalities.reduce(0, +)
        #expect(total > 3_000_000 && total < 5_000_000)
        #expect(configuration.ranks.filter { $0 == 0 }.count == 6)
        #expect(Set(configuration.ranks.filter { $0 > 0 }) == [1, 2, 4, 8, 16])
        #expect(TeacherConfiguration(fields: 30).cardinalities.count == 30)
        #expect(TeacherGenerator.truthPath(forOutput: "/data/train.tsv") == "/data/train.teacher.json")
        #expect(TeacherGenerator.truthPath(forOutput: "train") == "train.teacher.json")
        #expect(TeacherGenerator.truthPath(forOutput: "dir.v2/train") == "dir.v2/train.teacher.json")
        #expect(TeacherGenerator.truthPath(forOutput: "/tmp/.hidden") == "/tmp/.hidden.teacher.json")
    }
}
