#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif
#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Turns raw files into a prepared dataset directory: column files that training memory-maps,
/// the vocabularies, and `dataset.json`.
///
/// One pass parses the text on all threads (each block is cut into pieces at line breaks),
/// then counts values per field on all threads (each field's vocabulary belongs to one
/// thread), writing provisional ids; a second pass over the binary id column replaces them
/// with final ids (frequent values first, rare ones OOV). Memory is bounded by the
/// vocabularies, not by the input. Everything is written into `OUTPUT.tmp-PID` and renamed to
/// `OUTPUT` only when complete.
public enum Preparer {
    /// Prepares `inputs` read with `format` into the directory `output`.
    public static func prepare<F: LineFormat>(
        format: F, formatName: String, inputs: [String], output: String,
        options: PrepareOptions = PrepareOptions(),
        progress: (@Sendable (PrepareProgress) -> Void)? = nil
    ) throws(DataError) -> PrepareReport {
        let run = try PrepareRun(
            format: format, formatName: formatName, inputs: inputs, output: output,
            options: options, progress: progress)
        return try run.execute()
    }
}

/// A raw block of bytes that may cross threads (each thread reads its own piece only).
private struct BlockPiece: @unchecked Sendable {
    let bytes: UnsafeBufferPointer<UInt8>
}

/// What parsing one piece of a block found.
private struct PieceResult: Sendable {
    var lines = 0
    var blankLines = 0
    /// Line index of each parsed row, relative to the piece's first line.
    var rowLines: [Int32] = []
    /// Bad rows: relative line index and problem.
    var problems: [(Int, RowProblem)] = []
    /// Missing values per dense field.
    var denseMissing: [Int] = []
}

private final class PrepareRun<F: LineFormat> {
    let formatName: String
    let inputs: [String]
    let output: String
    let temporary: String
    let options: PrepareOptions
    let progress: (@Sendable (PrepareProgress) -> Void)?
    var format: F
    let schema: Schema
    let threads: Int
    let start = monotonicSeconds()

    // Reading state.
    let parsed: SharedArray<ParsedRows>
    let builders: SharedArray<VocabularyBuilder>
    var totalBytes = 0
    var bytesDone = 0
    var dataLines = 0
    var plannedDataLines = 0
    var blankLines = 0
    var rows = 0
    var rowsPerPart = [0, 0, 0]
    var positivesPerPart = [0, 0, 0]
    var skipped: [String: Int] = [:]
    var skippedExamples: [String] = []
    var sourceFiles: [DatasetManifest.FileSummary] = []
    var denseMissing: [Int]
    var multiEmptyRows: [Int]

    // Writers.
    let labels: ColumnWriter
    let parts: ColumnWriter
    let dense: ColumnWriter
    let categorical: ColumnWriter
    let multiOffsets: [ColumnWriter]
    let multiIDs: [ColumnWriter]
    var multiValueCounts: [UInt64]

    init(
        format: F, formatName: String, inputs: [String], output: String, options: PrepareOptions,
        progress: (@Sendable (PrepareProgress) -> Void)?
    ) throws(DataError) {
        guard !inputs.isEmpty else { throw .invalidOption("prepare needs at least one input file") }
        guard options.minCount >= 1 else { throw .invalidOption("--min-count must be at least 1 (got \(options.minCount))") }
        self.format = format
        self.formatName = formatName
        self.inputs = inputs
        self.output = PrepareRun.withoutTrailingSlashes(output)
        self.options = options
        self.progress = progress
        threads = max(1, options.threads)
        for input in inputs {
            var info = stat()
            guard stat(input, &info) == 0 else {
                if errno == ENOENT { throw .fileNotFound(path: input) }
                throw .unreadable(path: input, reason: String(cString: strerror(errno)))
            }
            guard access(input, R_OK) == 0 else { throw .unreadable(path: input, reason: String(cString: strerror(errno))) }
            guard (info.st_mode & S_IFMT) != S_IFDIR else { throw .unreadable(path: input, reason: "it is a directory, not a file") }
            guard info.st_size > 0 else { throw .emptyFile(path: input) }
            totalBytes += Int(info.st_size)
        }
        try PrepareRun.checkReplaceable(output: self.output, inputs: inputs, replaceExisting: options.replaceExisting)
        // The schema of header formats is known after the first line, so start the first file
        // before anything is sized by it (and before anything is created on disk).
        var probe = format
        _ = try PrepareRun.firstLine(of: inputs[0]) { (line) throws(DataError) in try probe.start(file: inputs[0], firstLine: line) }
        guard probe.hasLabels else {
            throw .badHeader(path: inputs[0], reason: "its rows have no label (like Criteo's test.txt), but prepare needs labeled rows")
        }
        schema = probe.schema
        guard !(schema.dense.isEmpty && schema.vocabularyFields.isEmpty) else {
            throw .badSchema(path: inputs[0], reason: "the format defines no feature fields")
        }
        temporary = self.output + ".tmp-\(getpid())"
        PrepareRun.removeStaleTemporaries(of: self.output)
        try? FileManager.default.removeItem(atPath: temporary)
        do {
            try FileManager.default.createDirectory(atPath: temporary + "/multi", withIntermediateDirectories: true)
        } catch {
            throw .writeFailed(path: self.output, reason: "cannot create \(temporary): \(error.localizedDescription)")
        }
        parsed = SharedArray(repeating: ParsedRows(schema: schema), count: threads)
        builders = SharedArray(repeating: VocabularyBuilder(), count: schema.vocabularyFields.count)
        do throws(DataError) {
            labels = try ColumnWriter(path: temporary + "/labels.u8", element: .uint8, width: 1)
            parts = try ColumnWriter(path: temporary + "/split.u8", element: .uint8, width: 1)
            dense = try ColumnWriter(path: temporary + "/dense.f32", element: .float32, width: schema.dense.count)
            categorical = try ColumnWriter(path: temporary + "/categorical.u32", element: .uint32, width: schema.categorical.count)
            var offsets: [ColumnWriter] = []
            var ids: [ColumnWriter] = []
            for name in schema.multiValued {
                let offsetWriter = try ColumnWriter(path: temporary + "/multi/\(name).offsets.u64", element: .uint64, width: 1)
                try offsetWriter.append([UInt64(0)])
                offsets.append(offsetWriter)
                ids.append(try ColumnWriter(path: temporary + "/multi/\(name).ids.u32", element: .uint32, width: 1))
            }
            multiOffsets = offsets
            multiIDs = ids
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        multiValueCounts = [UInt64](repeating: 0, count: schema.multiValued.count)
        denseMissing = [Int](repeating: 0, count: schema.dense.count)
        multiEmptyRows = [Int](repeating: 0, count: schema.multiValued.count)
    }

    func execute() throws(DataError) -> PrepareReport {
        do throws(DataError) {
            if case .sequential = options.split { plannedDataLines = try countDataLines() }
            for input in inputs { try read(file: input) }
            guard rows > 0 else {
                throw DataError.emptyFile(path: inputs.count == 1 ? inputs[0] : inputs.joined(separator: ", "))
            }
            return try finish()
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    // MARK: Reading

    /// Calls `body` with the first line of `path`.
    static func firstLine<R>(of path: String, _ body: (UnsafeBufferPointer<UInt8>) throws(DataError) -> R) throws(DataError) -> R {
        let reader = try BlockLineReader(path: path, blockSize: 1 << 16)
        let result: R?
        do {
            result = try reader.nextBlock { (block) throws -> R in
                var lines = LineIterator(block)
                while let line = lines.next() {
                    if !line.isEmpty { return try body(line) }
                }
                return try body(block.slice(0..<0))
            }
        } catch let error as DataError { throw error } catch { throw .unreadable(path: path, reason: "\(error)") }
        guard let result else { throw .emptyFile(path: path) }
        return result
    }

    /// Data lines in all inputs (for the sequential split, which needs the total up front).
    func countDataLines() throws(DataError) -> Int {
        var total = 0
        var probe = format
        for input in inputs {
            let isHeader = try PrepareRun.firstLine(of: input) { (line) throws(DataError) in try probe.start(file: input, firstLine: line) }
            let reader = try BlockLineReader(path: input, blockSize: options.blockSize)
            var lines = 0
            do {
                while try reader.nextBlock({ (block) -> Bool in
                    lines += block.reduce(0) { $0 + ($1 == ASCII.newline ? 1 : 0) }
                    if let last = block.last, last != ASCII.newline { lines += 1 }
                    return true
                }) != nil {}
            } catch let error as DataError { throw error } catch { throw .unreadable(path: input, reason: "\(error)") }
            total += lines - (isHeader ? 1 : 0)
        }
        return total
    }

    func read(file path: String) throws(DataError) {
        let reader = try BlockLineReader(path: path, blockSize: options.blockSize)
        var fileLine = 0
        var isFirstBlock = true
        let rowsBefore = rows
        let skippedBefore = skipped.values.reduce(0, +)
        var hasHeader = false
        do {
            while try reader.nextBlock({ (block) throws -> Void in
                var body = block
                if isFirstBlock {
                    isFirstBlock = false
                    // The layout is decided by the first non-blank line; a header is skipped
                    // (blank lines before it count as blank data lines, as in countDataLines).
                    let (first, leadingBlank, rest) = LineIterator.firstNonBlankLine(of: block)
                    if try format.start(file: path, firstLine: first) {
                        hasHeader = true
                        body = block.slice(rest..<block.count)
                        fileLine = leadingBlank + 1
                        dataLines += leadingBlank
                        blankLines += leadingBlank
                    }
                    guard format.schema == schema else {
                        throw DataError.badHeader(
                            path: path, reason: "its columns differ from the first input's; all inputs must share one layout")
                    }
                }
                let lines = try process(block: body, path: path, fileLineStart: fileLine)
                fileLine += lines
                bytesDone += block.count
                progress?(PrepareProgress(stage: "reading", done: bytesDone, total: totalBytes, rows: rows))
            }) != nil {}
        } catch let error as DataError {
            throw error
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        if rows == rowsBefore {
            let skippedHere = skipped.values.reduce(0, +) - skippedBefore
            if skippedHere > 0 {
                throw .badHeader(
                    path: path,
                    reason: "all \(skippedHere) of its rows are bad ("
                        + skipped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                        + "); is this the right --format?")
            }
            throw hasHeader ? .badHeader(path: path, reason: "it has a header but no data rows") : .emptyFile(path: path)
        }
        sourceFiles.append(.init(path: path, bytes: reader.bytesRead, xxh64: hex64(reader.checksum.finalize())))
    }

    /// Parses, counts and writes one block; returns the number of lines in it.
    func process(block: UnsafeBufferPointer<UInt8>, path: String, fileLineStart: Int) throws(DataError) -> Int {
        let pieces = splitOnLines(block, parts: threads).map { BlockPiece(bytes: $0) }
        let parser = format
        let parsed = self.parsed
        let skipBad = options.skipBadRows
        let transform = options.denseTransform
        let missingValue = options.denseMissingValue

        // Phase 1: parse each piece on its own thread.
        let results: [PieceResult] = Parallel.map(pieces.count, threads: threads) { index in
            parsed.modify(index) { rows in
                rows.removeAll()
                var result = PieceResult()
                var lines = LineIterator(pieces[index].bytes)
                while let line = lines.next() {
                    defer { result.lines += 1 }
                    if line.isEmpty {
                        result.blankLines += 1
                        continue
                    }
                    rows.beginRow()
                    do throws(RowProblem) {
                        try parser.parse(line, into: &rows)
                        rows.endRow()
                        result.rowLines.append(Int32(result.lines))
                    } catch {
                        rows.abandonRow()
                        result.problems.append((result.lines, error))
                        if !skipBad { break }
                    }
                }
                result.denseMissing = [Int](repeating: 0, count: rows.denseCount)
                if rows.denseCount > 0 {
                    for (i, value) in rows.dense.enumerated() where value.isNaN { result.denseMissing[i % rows.denseCount] += 1 }
                }
                rows.transformDense(transform, missingValue: missingValue)
                return result
            }
        }

        // Bad rows, in file order.
        var lineOffset = 0
        for result in results {
            for (line, problem) in result.problems {
                let lineNumber = fileLineStart + lineOffset + line + 1
                guard skipBad else { throw .badRow(path: path, line: lineNumber, problem: problem) }
                skipped[problem.kind, default: 0] += 1
                if skippedExamples.count < 10 { skippedExamples.append("\(path):\(lineNumber): \(problem.detail)") }
            }
            lineOffset += result.lines
            blankLines += result.blankLines
            for (i, count) in result.denseMissing.enumerated() { denseMissing[i] += count }
        }

        // Split part of each row, from its data line index.
        var blockParts: [UInt8] = []
        var rowBase: [Int] = []
        lineOffset = 0
        let sequentialRanges = DataSplit.sequentialRanges(rows: plannedDataLines)
        for result in results {
            rowBase.append(blockParts.count)
            for relative in result.rowLines {
                let dataLine = dataLines + lineOffset + Int(relative)
                let part: SplitPart
                switch options.split {
                case .random(let seed): part = DataSplit.randomPart(row: UInt64(dataLine), seed: seed)
                case .sequential:
                    part =
                        sequentialRanges.train.contains(dataLine)
                        ? .train
                        : sequentialRanges.validation.contains(dataLine) ? .validation : .test
                }
                blockParts.append(UInt8(part.rawValue))
            }
            lineOffset += result.lines
        }
        dataLines += lineOffset
        let blockRows = blockParts.count

        // Phase 2: vocabulary counting, each field on one thread.
        let categoricalCount = schema.categorical.count
        let multiCount = schema.multiValued.count
        let ids = SharedArray<UInt32>(repeating: 0, count: blockRows * categoricalCount)
        let multiValues = SharedArray<[UInt32]>(repeating: [], count: multiCount)
        let builders = self.builders
        let partsOfRows = blockParts
        let bases = rowBase
        let pieceCount = results.count
        let threads = self.threads
        Parallel.forEach(threads, threads: threads) { worker in
            for field in stride(from: worker, to: categoricalCount + multiCount, by: threads) {
                builders.modify(field) { builder in
                    for piece in 0..<pieceCount {
                        let rows = parsed[piece]
                        let base = bases[piece]
                        if field < categoricalCount {
                            rows.withBuffers { keys, spans, arena in
                                partsOfRows.withUnsafeBufferPointer { parts in
                                    ids.withUnsafeMutableBufferPointer { out in
                                        builder.assign(
                                            keys: keys, spans: spans, arena: arena, stride: categoricalCount, offset: field,
                                            rows: rows.count, parts: UnsafeBufferPointer(rebasing: parts[base..<base + rows.count]),
                                            ids: UnsafeMutableBufferPointer(
                                                rebasing: out[base * categoricalCount..<(base + rows.count) * categoricalCount]))
                                    }
                                }
                            }
                        } else {
                            let m = field - categoricalCount
                            multiValues.modify(m) { out in
                                var start = 0
                                for r in 0..<rows.count {
                                    let end = rows.multiEnds[m][r]
                                    for v in start..<end {
                                        let id = rows.withBuffers { _, _, arena in
                                            builder.provisionalID(
                                                key: rows.multiKeys[m][v], arena: arena, range: ParsedRows.range(of: rows.multiSpans[m][v]),
                                                training: partsOfRows[base + r] == 0)
                                        }
                                        out.append(id)
                                    }
                                    out.append(UInt32.max)  // row separator
                                    start = end
                                }
                            }
                        }
                    }
                }
            }
        }

        // Phase 3: write the block's rows.
        for piece in 0..<pieceCount {
            let rows = parsed[piece]
            try labels.append(rows.labels)
            try dense.append(rows.dense)
            for r in 0..<rows.count {
                let part = Int(blockParts[bases[piece] + r])
                rowsPerPart[part] += 1
                positivesPerPart[part] += Int(rows.labels[r])
            }
        }
        try parts.append(blockParts)
        try ids.withRawBytes { (raw) throws(DataError) in try categorical.append(raw) }
        for m in 0..<multiCount {
            var offsets: [UInt64] = []
            var values: [UInt32] = []
            var rowStart = 0
            for id in multiValues[m] {
                if id == UInt32.max {
                    if values.count == rowStart { multiEmptyRows[m] += 1 }
                    rowStart = values.count
                    offsets.append(multiValueCounts[m] + UInt64(values.count))
                } else {
                    values.append(id)
                }
            }
            multiValueCounts[m] += UInt64(values.count)
            try multiOffsets[m].append(offsets)
            try multiIDs[m].append(values)
        }
        rows += blockRows
        guard rows <= Int(UInt32.max) else {
            throw .invalidOption("more than \(UInt32.max) rows: split the input and prepare the parts as separate datasets")
        }
        return lineOffset
    }

    // MARK: Finishing

    func finish() throws(DataError) -> PrepareReport {
        var files: [String: DatasetManifest.FileSummary] = [:]
        func record(_ writer: ColumnWriter, _ name: String, rows: Int, checksum: UInt64? = nil) throws(DataError) {
            let sum = try writer.finish(rows: rows)
            let size = (try? FileManager.default.attributesOfItem(atPath: writer.path)[.size] as? Int) ?? 0
            files[name] = .init(path: name, bytes: size, xxh64: hex64(checksum ?? sum))
        }
        try record(labels, "labels.u8", rows: rows)
        try record(parts, "split.u8", rows: rows)
        try record(dense, "dense.f32", rows: rows)
        _ = try categorical.finish(rows: rows)
        for (m, name) in schema.multiValued.enumerated() {
            try record(multiOffsets[m], "multi/\(name).offsets.u64", rows: rows + 1)
            _ = try multiIDs[m].finish(rows: Int(multiValueCounts[m]))
        }

        // Final vocabularies and the provisional -> final id maps.
        var vocabularies: [Vocabulary] = []
        var remaps: [[UInt32]] = []
        for (f, name) in schema.vocabularyFields.enumerated() {
            let (vocabulary, remap) = builders[f].finish(name: name, minCount: options.minCount)
            vocabularies.append(vocabulary)
            remaps.append(remap)
        }
        let distinct = (0..<builders.count).map { builders[$0].distinctCount }

        let remapper = IDRemapper(threads: threads)
        let categoricalCounts = try remapper.remap(
            path: temporary + "/categorical.u32", partsPath: temporary + "/split.u8",
            width: schema.categorical.count, remaps: Array(remaps.prefix(schema.categorical.count))
        ) { [progress, rows] done, total in
            progress?(PrepareProgress(stage: "finishing", done: done, total: total, rows: rows))
        }
        files["categorical.u32"] = .init(
            path: "categorical.u32", bytes: ColumnHeader.size + rows * schema.categorical.count * 4,
            xxh64: hex64(categoricalCounts.checksum))
        var multiCounts: [IDRemapper.Counts] = []
        for (m, name) in schema.multiValued.enumerated() {
            let counts = try remapper.remap(
                path: temporary + "/multi/\(name).ids.u32", partsPath: nil, width: 1,
                remaps: [remaps[schema.categorical.count + m]], progress: nil)
            files["multi/\(name).ids.u32"] = .init(
                path: "multi/\(name).ids.u32", bytes: ColumnHeader.size + Int(multiValueCounts[m]) * 4,
                xxh64: hex64(counts.checksum))
            multiCounts.append(counts)
        }

        let vocabularyBytes = VocabularyFile.encode(vocabularies)
        try writeFile(temporary + "/vocabulary.bin", vocabularyBytes)
        files["vocabulary.bin"] = .init(path: "vocabulary.bin", bytes: vocabularyBytes.count, xxh64: hex64(XXHash64.hash(vocabularyBytes)))

        let partNames = SplitPart.allCases.map(\.name)
        var fieldSummaries: [DatasetManifest.FieldSummary] = []
        for (i, name) in schema.dense.enumerated() {
            fieldSummaries.append(
                .init(
                    name: name, kind: .dense, cardinality: nil, distinctValues: nil,
                    missingRows: denseMissing[i], oovRows: nil, values: nil, oovValues: nil))
        }
        for (f, name) in schema.categorical.enumerated() {
            fieldSummaries.append(
                .init(
                    name: name, kind: .categorical, cardinality: vocabularies[f].cardinality, distinctValues: distinct[f],
                    missingRows: categoricalCounts.missing[f],
                    oovRows: Dictionary(uniqueKeysWithValues: partNames.enumerated().map { ($1, categoricalCounts.oov[f][$0]) }),
                    values: nil, oovValues: nil))
        }
        for (m, name) in schema.multiValued.enumerated() {
            let f = schema.categorical.count + m
            fieldSummaries.append(
                .init(
                    name: name, kind: .multiValued, cardinality: vocabularies[f].cardinality, distinctValues: distinct[f],
                    missingRows: multiEmptyRows[m], oovRows: nil, values: Int(multiValueCounts[m]),
                    oovValues: multiCounts[m].oov[0].reduce(0, +)))
        }
        let splitSummary: DatasetManifest.SplitSummary
        let rowsByPart = Dictionary(uniqueKeysWithValues: partNames.enumerated().map { ($1, rowsPerPart[$0]) })
        let positivesByPart = Dictionary(uniqueKeysWithValues: partNames.enumerated().map { ($1, positivesPerPart[$0]) })
        switch options.split {
        case .random(let seed):
            splitSummary = .init(kind: "random", seed: seed, rows: rowsByPart, positives: positivesByPart)
        case .sequential:
            splitSummary = .init(kind: "sequential", seed: nil, rows: rowsByPart, positives: positivesByPart)
        }
        let manifest = DatasetManifest(
            createdBy: "compactrec \(CompactRecVersion.current)",
            source: .init(
                format: formatName, files: sourceFiles, lines: dataLines, blankLines: blankLines, skippedRows: skipped,
                settings: options.input),
            schema: schema,
            preprocessing: .init(
                minCount: options.minCount, vocabularyFrom: "train", denseTransform: options.denseTransform,
                denseMissingValue: options.denseMissingValue, oovID: Vocabulary.oovID, missingID: Vocabulary.missingID),
            split: splitSummary, fields: fieldSummaries, files: files)
        try writeFile(temporary + "/dataset.json", try manifest.encoded())
        try publish()
        return PrepareReport(
            manifest: manifest, seconds: monotonicSeconds() - start, inputBytes: totalBytes,
            peakResidentBytes: ProcessInfoShim.peakResidentBytes, skippedExamples: skippedExamples)
    }

    func writeFile(_ path: String, _ bytes: [UInt8]) throws(DataError) {
        let fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0o644)
        guard fd >= 0 else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
    }

    /// Moves the finished temporary directory to the output path (replacing an old dataset
    /// only now, when the new one is complete).
    func publish() throws(DataError) {
        let manager = FileManager.default
        var displaced: String?
        if manager.fileExists(atPath: output) {
            let old = output + ".old-\(getpid())"
            guard rename(output, old) == 0 else { throw .writeFailed(path: output, reason: String(cString: strerror(errno))) }
            displaced = old
        }
        guard rename(temporary, output) == 0 else {
            let reason = String(cString: strerror(errno))
            if let displaced { rename(displaced, output) }
            throw .writeFailed(path: output, reason: reason)
        }
        if let displaced { try? manager.removeItem(atPath: displaced) }
    }

    /// Removes `OUTPUT.tmp-PID` directories left by prepares that were killed: only names
    /// whose suffix is a process id, and only when that process no longer exists.
    static func removeStaleTemporaries(of output: String) {
        let manager = FileManager.default
        let (parent, base) = split(output)
        guard let entries = try? manager.contentsOfDirectory(atPath: parent) else { return }
        for entry in entries where entry.hasPrefix(base + ".tmp-") {
            let suffix = entry.dropFirst(base.count + 5)
            guard !suffix.isEmpty, suffix.allSatisfy(\.isASCIIDigit), let pid = Int32(suffix), pid != getpid() else { continue }
            guard kill(pid, 0) != 0 && errno == ESRCH else { continue }
            try? manager.removeItem(atPath: parent + "/" + entry)
        }
    }

    /// `path` without trailing slashes (except the root).
    static func withoutTrailingSlashes(_ path: String) -> String {
        var trimmed = path
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed
    }

    /// The parent directory and last component of `path`.
    static func split(_ path: String) -> (parent: String, base: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let parent = String(path[..<slash])
        return (parent.isEmpty ? "/" : parent, String(path[path.index(after: slash)...]))
    }

    /// Refuses to overwrite anything but a previous dataset (or an empty directory), and only
    /// with `--force`; never a directory that holds one of the inputs.
    static func checkReplaceable(output: String, inputs: [String], replaceExisting: Bool) throws(DataError) {
        let manager = FileManager.default
        var info = stat()
        guard lstat(output, &info) == 0 else { return }
        let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
        guard replaceExisting else {
            throw .writeFailed(path: output, reason: "it already exists; pass --force to replace it, or choose another --output")
        }
        let contents = isDirectory ? (try? manager.contentsOfDirectory(atPath: output)) ?? [] : nil
        guard let contents, contents.isEmpty || contents.contains("dataset.json") else {
            throw .writeFailed(
                path: output,
                reason: "it exists and is not a prepared dataset; --force only replaces a dataset "
                    + "(a directory with dataset.json) or an empty directory. Choose another --output")
        }
        let outputPath = URL(fileURLWithPath: output).standardizedFileURL.resolvingSymlinksInPath().path + "/"
        for input in inputs where URL(fileURLWithPath: input).standardizedFileURL.resolvingSymlinksInPath().path.hasPrefix(outputPath) {
            throw .writeFailed(path: output, reason: "the input \(input) is inside it; replacing it would delete the input")
        }
    }
}

extension Character {
    /// 0-9.
    var isASCIIDigit: Bool { isASCII && isNumber }
}

/// Seconds on a monotonic clock.
public func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}
