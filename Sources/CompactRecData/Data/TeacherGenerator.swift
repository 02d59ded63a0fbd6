import Dispatch

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// Writes synthetic click logs in Criteo-Kaggle's exact TSV layout, labelled by a hidden
/// "teacher" click model whose truth (and oracle AUC) is known, so that training runs on the data
/// can be judged against the best achievable score.
///
/// Lines are `label \t I1..I13 \t C1..C26`: the label 0/1, thirteen integer counts (empty when
/// missing, small negatives in I2) and categorical values as 8 lower-case hex digits (empty when
/// missing). A value's hex string is a bijection of its id within the field, so distinct values
/// never collide. See `TeacherModel` for the click function.
///
/// Rows are made in chunks of `configuration.chunkRows`, chunk `c` from
/// `SeededRandom(seed: seed, stream: c)`, on all cores, and written in order: the bytes depend
/// on the seed (and chunk size) only, never on the number of threads.
public struct TeacherGenerator: Sendable {
    /// The settings (validated).
    public let configuration: TeacherConfiguration
    /// Worker threads used.
    public let threads: Int
    /// The hidden teacher.
    let model: TeacherModel
    /// Seconds spent drawing and calibrating the teacher in `init`.
    public let teacherSeconds: Double

    /// Validates `configuration`, then draws and calibrates the teacher (about half a second and
    /// 130 MB for the default 4.6 million values on two cores).
    public init(configuration: TeacherConfiguration) throws(GeneratorError) {
        try configuration.validate()
        let start = ContinuousClock.now
        self.configuration = configuration
        threads = max(1, configuration.threads ?? Parallel.defaultThreads)
        model = TeacherModel(configuration: configuration, threads: threads)
        teacherSeconds = TeacherGenerator.seconds(since: start)
    }

    /// Number of chunks (each with its own random stream).
    public var chunkCount: Int { (configuration.rows + configuration.chunkRows - 1) / configuration.chunkRows }

    /// The truth file written beside `path`: the path without its extension, plus
    /// `.teacher.json` (`/data/train.tsv` -> `/data/train.teacher.json`).
    public static func truthPath(forOutput path: String) -> String {
        let nameStart = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        let name = path[nameStart...]
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            return String(path[..<dot]) + ".teacher.json"
        }
        return path + ".teacher.json"
    }

    /// Generates chunk `index` in memory: its lines, the teacher's probabilities and labels.
    public func chunk(_ index: Int) -> TeacherChunk {
        precondition(index >= 0 && index < chunkCount, "chunk \(index) is out of 0..<\(chunkCount)")
        let slot = TeacherChunkSlot(rows: min(configuration.chunkRows, configuration.rows), fields: configuration.fields)
        fill(chunk: index, slot: slot)
        return TeacherChunk(
            firstRow: slot.firstRow,
            bytes: Array(UnsafeBufferPointer(start: slot.bytes, count: slot.byteCount)),
            probabilities: Array(UnsafeBufferPointer(start: slot.probabilities, count: slot.rowCount)),
            labels: Array(UnsafeBufferPointer(start: slot.labels, count: slot.rowCount)))
    }

    /// Generates every row without writing it and returns the truth (with the oracle): what
    /// `write` would record, for callers that only need the numbers.
    public func evaluate(progress: ((Int, Int) -> Void)? = nil) -> TeacherTruth {
        truth(generate(writer: nil, progress: progress).totals)
    }

    /// Writes the data to `path` and the truth to `truthPath(forOutput: path)`, each atomically
    /// (to `<file>.tmp-<pid>`, then renamed). `progress` is called on the calling thread with
    /// (rows done, rows in all) after each group of chunks.
    @discardableResult
    public func write(to path: String, progress: ((Int, Int) -> Void)? = nil) throws(GeneratorError) -> TeacherSummary {
        let start = ContinuousClock.now
        let truthPath = TeacherGenerator.truthPath(forOutput: path)
        let writer = try TeacherFileWriter(path: path)
        let (totals, failure) = generate(writer: writer, progress: progress)
        do throws(GeneratorError) {
            if let failure { throw failure }
            try writer.commit()
        } catch {
            writer.discard()
            throw error
        }
        let truth = truth(totals)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json: [UInt8]
        do {
            json = Array(try encoder.encode(truth)) + [ASCII.newline]
        } catch {
            throw .writeFailed(path: truthPath, reason: "cannot encode the truth: \(error)")
        }
        let truthWriter = try TeacherFileWriter(path: truthPath)
        do throws(GeneratorError) {
            try truthWriter.write(json)
            try truthWriter.commit()
        } catch {
            truthWriter.discard()
            throw error
        }
        let seconds = TeacherGenerator.seconds(since: start)
        return TeacherSummary(
            output: path, truthFile: truthPath, rows: configuration.rows, bytes: totals.bytes,
            seconds: seconds, megabytesPerSecond: seconds > 0 ? Double(totals.bytes) / seconds / 1e6 : 0,
            teacherSeconds: teacherSeconds, threads: threads, clickRate: truth.clickRate, oracle: truth.oracle, truth: truth)
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = start.duration(to: .now)
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    // MARK: Generation

    /// Sums over the whole run.
    struct GenerationTotals {
        var bytes = 0
        var positives = 0
        var probabilitySum = 0.0
        var randomProbabilities: [Double] = []
        var randomLabels: [UInt8] = []
        var sequentialProbabilities: [Double] = []
        var sequentialLabels: [UInt8] = []
    }

    /// Makes every chunk, `threads` at a time, and (with a writer) writes them in order. Writing
    /// group `g` runs on a writer thread while group `g + 1` is computed into a second set of
    /// buffers, so a slow disk does not idle the cores. Returns the first write error, if any
    /// (generation stops there).
    private func generate(
        writer: TeacherFileWriter?,
        progress: ((Int, Int) -> Void)?
    ) -> (totals: GenerationTotals, error: GeneratorError?) {
        let rows = configuration.rows
        let slotRows = min(configuration.chunkRows, rows)
        let perSet = min(threads, chunkCount)
        let slotSets = (0..<(writer == nil ? 1 : 2)).map { _ in
            (0..<perSet).map { _ in TeacherChunkSlot(rows: slotRows, fields: configuration.fields) }
        }
        let writeQueue = DispatchQueue(label: "compactrec.teacher.writer")
        let pendingWrite = DispatchGroup()
        let failure = TeacherWriteFailure()
        let sequentialStart = DataSplit.sequentialRanges(rows: rows).test.lowerBound
        let splitSeed = configuration.splitSeed
        var totals = GenerationTotals()
        let expectedTest = rows / 10 + 1024
        totals.randomProbabilities.reserveCapacity(expectedTest + expectedTest / 8)
        totals.randomLabels.reserveCapacity(expectedTest + expectedTest / 8)
        totals.sequentialProbabilities.reserveCapacity(rows - sequentialStart)
        totals.sequentialLabels.reserveCapacity(rows - sequentialStart)
        var next = 0
        var groupIndex = 0
        while next < chunkCount {
            // This set was last written two groups ago; that write finished before the last one
            // was queued.
            let slots = Array(slotSets[groupIndex % slotSets.count].prefix(min(perSet, chunkCount - next)))
            let base = next
            Parallel.forEach(slots.count, threads: threads) { i in
                self.fill(chunk: base + i, slot: slots[i])
            }
            pendingWrite.wait()
            if let error = failure.error { return (totals, error) }
            if let writer {
                writeQueue.async(group: pendingWrite) {
                    for slot in slots {
                        do throws(GeneratorError) {
                            try writer.write(UnsafeRawBufferPointer(start: slot.bytes, count: slot.byteCount))
                        } catch {
                            failure.error = error
                            return
                        }
                    }
                }
            }
            for slot in slots {
                totals.bytes += slot.byteCount
                for r in 0..<slot.rowCount {
                    let row = slot.firstRow + r
                    let p = slot.probabilities[r]
                    let label = slot.labels[r]
                    totals.positives += Int(label)
                    totals.probabilitySum += p
                    if DataSplit.randomPart(row: UInt64(row), seed: splitSeed) == .test {
                        totals.randomProbabilities.append(p)
                        totals.randomLabels.append(label)
                    }
                    if row >= sequentialStart {
                        totals.sequentialProbabilities.append(p)
                        totals.sequentialLabels.append(label)
                    }
                }
            }
            next += slots.count
            groupIndex += 1
            progress?(min(next * configuration.chunkRows, rows), rows)
        }
        pendingWrite.wait()
        return (totals, failure.error)
    }

    /// Fills `slot` with chunk `index`: draws each row, scores it, samples its label, formats it.
    private func fill(chunk index: Int, slot: TeacherChunkSlot) {
        var rng = SeededRandom(seed: configuration.seed, stream: UInt64(index))
        let first = index * configuration.chunkRows
        let count = min(configuration.chunkRows, configuration.rows - first)
        let scratch = slot.scratch
        let model = self.model
        let fieldCount = configuration.fields
        let fields = model.fieldSpecs
        var p = slot.bytes
        for r in 0..<count {
            model.drawRow(&rng, into: scratch)
            let probability = model.probability(model.components(of: scratch))
            let label: UInt8 = rng.nextUnitDouble() < probability ? 1 : 0
            slot.probabilities[r] = probability
            slot.labels[r] = label

            p[0] = ASCII.zero + label
            p += 1
            for j in 0..<TeacherConfiguration.denseCount {
                p[0] = ASCII.tab
                p += 1
                let v = scratch.dense[j]
                if v != TeacherModel.missingDense { p = TeacherText.writeInteger(v, to: p) }
            }
            for f in 0..<fieldCount {
                p[0] = ASCII.tab
                p += 1
                let k = Int(scratch.ranks[f])
                if k >= 0 {
                    let spec = fields[f]
                    TeacherText.writeHex(spec.code(ofID: spec.id(ofRank: k)), to: p)
                    p += 8
                }
            }
            p[0] = ASCII.newline
            p += 1
        }
        slot.firstRow = first
        slot.rowCount = count
        slot.byteCount = slot.bytes.distance(to: p)
    }

    // MARK: Truth

    private func truth(_ totals: GenerationTotals) -> TeacherTruth {
        let rows = configuration.rows
        let names = configuration.categoricalNames
        let categorical = model.fieldList.enumerated().map { f, spec in
            TeacherCategoricalTruth(
                name: names[f], cardinality: spec.cardinality, zipfExponent: spec.zipf.exponent,
                usefulRank: TeacherRank(spec.rank), missingRate: spec.missingRate,
                weightScale: spec.rank > 0 ? spec.weightScale : 0,
                vectorScale: spec.rank > 0 ? spec.vectorScale : 0)
        }
        let dense = model.denseList.enumerated().map { j, spec in
            TeacherDenseTruth(
                name: "I\(j + 1)", role: spec.signal ? .signal : .noise, missingRate: spec.missingRate,
                logMean: spec.logMean, logStd: spec.logStd, offset: Int(spec.offset))
        }
        let scales = model.scales
        let deviations = model.rawStandardDeviations
        let function = TeacherFunctionTruth(
            bias: model.bias, firstOrderScale: scales.firstOrder, pairwiseScale: scales.pairwise,
            mlpScale: scales.mlp,
            partStandardDeviations: [
                scales.firstOrder * deviations.firstOrder,
                scales.pairwise * deviations.pairwise, scales.mlp * deviations.mlp,
            ],
            logitStandardDeviation: configuration.logitStandardDeviation,
            embeddingDimension: TeacherModel.dimension, mlpHidden: TeacherModel.hidden,
            targetClickRate: configuration.targetClickRate)
        let oracle = TeacherOracle(
            random: TeacherGenerator.metrics(
                split: "random", seed: configuration.splitSeed,
                totals.randomProbabilities, totals.randomLabels),
            sequential: TeacherGenerator.metrics(
                split: "sequential", seed: nil,
                totals.sequentialProbabilities, totals.sequentialLabels))
        return TeacherTruth(
            seed: configuration.seed, rows: rows, chunkRows: configuration.chunkRows,
            layout: configuration.layoutName, columns: configuration.columnCount,
            clickRate: Double(totals.positives) / Double(rows),
            meanProbability: totals.probabilitySum / Double(rows),
            teacher: function, dense: dense, categorical: categorical, oracle: oracle)
    }

    private static func metrics(
        split: String, seed: UInt64?, _ probabilities: [Double],
        _ labels: [UInt8]
    ) -> TeacherOracleMetrics {
        let positives = labels.reduce(0) { $0 + Int($1) }
        return TeacherOracleMetrics(
            split: split, splitSeed: seed, testRows: labels.count, positives: positives,
            auc: try? AUC.compute(scores: probabilities, labels: labels),
            logloss: try? LogLoss.fromProbabilities(probabilities, labels: labels),
            clickRate: labels.isEmpty ? 0 : Double(positives) / Double(labels.count))
    }
}

/// One worker's output buffer for a chunk (allocated once per run, reused for every chunk).
final class TeacherChunkSlot: @unchecked Sendable {
    /// Longest possible line: label, 13 x (tab + sign + 9 digits), fields x (tab + 8), newline.
    static func maximumLineBytes(fields: Int) -> Int { 1 + TeacherConfiguration.denseCount * 11 + fields * 9 + 1 }

    let bytes: UnsafeMutablePointer<UInt8>
    let probabilities: UnsafeMutablePointer<Double>
    let labels: UnsafeMutablePointer<UInt8>
    let scratch: TeacherScratch
    var firstRow = 0
    var rowCount = 0
    var byteCount = 0

    init(rows: Int, fields: Int) {
        let capacity = rows * TeacherChunkSlot.maximumLineBytes(fields: fields)
        bytes = .allocate(capacity: capacity)
        probabilities = .allocate(capacity: rows)
        labels = .allocate(capacity: rows)
        scratch = TeacherScratch(fields: fields)
    }

    deinit {
        bytes.deallocate()
        probabilities.deallocate()
        labels.deallocate()
    }
}

/// Hand-written number formatting into a byte buffer (no String per value).
enum TeacherText {
    /// Writes `value` in decimal at `p`; returns the position after it.
    @inline(__always)
    static func writeInteger(_ value: Int64, to p: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        var q = p
        var n: UInt64
        if value < 0 {
            q[0] = ASCII.minus
            q += 1
            n = value.magnitude
        } else {
            n = UInt64(value)
        }
        if n < 10 {
            q[0] = ASCII.zero + UInt8(truncatingIfNeeded: n)
            return q + 1
        }
        var digits = 2
        var limit: UInt64 = 100
        while n >= limit && digits < 19 {
            digits += 1
            limit &*= 10
        }
        let end = q + digits
        var i = end
        while n >= 10 {
            let quotient = n / 10
            i -= 1
            i[0] = ASCII.zero + UInt8(truncatingIfNeeded: n - quotient * 10)
            n = quotient
        }
        i -= 1
        i[0] = ASCII.zero + UInt8(truncatingIfNeeded: n)
        return end
    }

    /// Writes `value` as exactly 8 lower-case hex digits at `p` (SWAR: all nibbles at once).
    @inline(__always)
    static func writeHex(_ value: UInt32, to p: UnsafeMutablePointer<UInt8>) {
        var x = UInt64(value)
        x = ((x & 0xFFFF_0000) << 16) | (x & 0xFFFF)
        x = ((x & 0x0000_FF00_0000_FF00) << 8) | (x & 0x0000_00FF_0000_00FF)
        x = ((x & 0x00F0_00F0_00F0_00F0) << 4) | (x & 0x000F_000F_000F_000F)
        // Byte i now holds nibble i (0 = least significant); 10...15 become 'a'...'f'.
        let letters = ((x &+ 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101
        let ascii = x &+ 0x3030_3030_3030_3030 &+ letters &* 39
        UnsafeMutableRawPointer(p).storeBytes(of: ascii.bigEndian, as: UInt64.self)
    }
}

/// `write(2)`, under a name the writer's own `write` method does not shadow.
private func posixWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

/// The first error of the writer thread (read only after waiting for it).
final class TeacherWriteFailure: @unchecked Sendable {
    var error: GeneratorError?
}

/// Writes a file atomically: to `<path>.tmp-<pid>`, renamed over `path` on `commit()`.
///
/// `@unchecked Sendable`: one thread at a time uses it (the generator's writer queue, then the
/// caller after waiting for that queue).
public final class TeacherFileWriter: @unchecked Sendable {
    let path: String
    let temporaryPath: String
    private var descriptor: Int32
    private var finished = false

    /// Opens the temporary file; fails with an actionable message when the directory is missing.
    public init(path: String) throws(GeneratorError) {
        self.path = path
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        var info = stat()
        if stat(directory, &info) != 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw .outputDirectoryMissing(path: path, directory: directory) }
            throw .writeFailed(path: path, reason: String(cString: strerror(code)))
        }
        if (info.st_mode & S_IFMT) != S_IFDIR {
            throw .outputDirectoryMissing(path: path, directory: directory)
        }
        if stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            throw .writeFailed(path: path, reason: "it is a directory; give a file name")
        }
        temporaryPath = path + ".tmp-\(getpid())"
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if descriptor < 0 {
            throw .writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
    }

    deinit { if !finished { discard() } }

    /// Appends `bytes` (retrying short writes).
    public func write(_ bytes: UnsafeRawBufferPointer) throws(GeneratorError) {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let n = posixWrite(descriptor, base, min(remaining, 1 << 30))
            if n < 0 {
                if errno == EINTR { continue }
                throw .writeFailed(path: path, reason: String(cString: strerror(errno)))
            }
            base += n
            remaining -= n
        }
    }

    /// Appends the bytes of `array`.
    public func write(_ array: [UInt8]) throws(GeneratorError) {
        var failure: GeneratorError?
        array.withUnsafeBytes { raw in
            do throws(GeneratorError) { try write(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Closes the file and renames it into place.
    public func commit() throws(GeneratorError) {
        let closed = close(descriptor)
        descriptor = -1
        if closed != 0 {
            throw .writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
        if rename(temporaryPath, path) != 0 {
            throw .writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
        finished = true
    }

    /// Closes and deletes the temporary file.
    public func discard() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        unlink(temporaryPath)
        finished = true
    }
}
