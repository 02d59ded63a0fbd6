import CompactRec
import CompactRecData

/// `compactrec predict`: scores a file of raw rows, in the format the model was trained on,
/// into a CSV file, streaming.
///
/// The input is read in blocks of whole lines; each block is cut into one piece per thread,
/// and every thread parses its piece, encodes it with the model's vocabularies and scores it
/// with a model instance of its own (`Predictor`'s pool), in batches of `batchSize` rows. The
/// scores are written in input order to `OUTPUT.tmp-PID`, renamed to `OUTPUT` when complete.
/// Memory is one block and its scores, whatever the file size.
///
/// Output: a header line, then per data row its 1-based line number in the input, its label
/// when the input has a label column, and the click probability (`line,label,score` or
/// `line,score`). A malformed row stops prediction with its file, line and reason.
public enum FilePrediction {
    /// What a finished prediction did.
    public struct Report: Sendable, Codable {
        /// Rows scored.
        public var rows: Int
        /// Whether the input had a label column.
        public var labeled: Bool
        /// Bytes of input read.
        public var inputBytes: Int
        /// Wall-clock seconds.
        public var seconds: Double
        /// Rows per second over the whole run (reading, scoring and writing).
        public var rowsPerSecond: Double
    }

    /// Scores the raw rows of `input` with `predictor` into the CSV file `output`, on
    /// `threads` threads; `progress` is told the input bytes done and rows scored.
    public static func run(
        _ predictor: Predictor, input: String, output: String, threads: Int = Parallel.defaultThreads,
        batchSize: Int = 4096, blockSize: Int = 8 << 20,
        progress: (@Sendable (_ bytesDone: Int, _ bytesTotal: Int, _ rows: Int) -> Void)? = nil
    ) throws(PredictionError) -> Report {
        let header = predictor.file.header
        let reader: any LineFormat
        let files: [String]
        do { (reader, files) = try header.input.reader(schema: header.schema, inputs: [input], labelsOptional: true) } catch {
            throw .input(error)
        }
        var run = PredictionRun(
            predictor: predictor, path: files[0], output: output, threads: max(1, threads),
            batchSize: max(1, batchSize), progress: progress)
        return try run.execute(format: reader, blockSize: blockSize)
    }
}

/// One thread's reused buffers: parsed rows, a batch, and what its piece of a block gave.
struct PredictionWorker: Sendable {
    var rows: ParsedRows
    var batch: Batch
    /// Lines in the piece; line (0-based, within the piece) of each row; the first bad row.
    var lines = 0
    var rowLines: [Int32] = []
    var problem: (line: Int, problem: RowProblem)?
    var scores: [Float] = []
    var text: [UInt8] = []

    init(schema: Schema) {
        rows = ParsedRows(schema: schema)
        batch = Batch(schema: schema)
    }

    /// Parses, encodes and scores `piece`.
    mutating func score<F: LineFormat>(_ piece: UnsafeBufferPointer<UInt8>, format: F, predictor: Predictor, batchSize: Int) {
        rows.removeAll()
        rowLines.removeAll(keepingCapacity: true)
        scores.removeAll(keepingCapacity: true)
        problem = nil
        lines = 0
        var iterator = LineIterator(piece)
        while let line = iterator.next() {
            defer { lines += 1 }
            if line.isEmpty { continue }
            rows.beginRow()
            do throws(RowProblem) {
                try format.parse(line, into: &rows)
                rows.endRow()
                rowLines.append(Int32(lines))
            } catch {
                rows.abandonRow()
                problem = (lines, error)
                break
            }
        }
        let encoder = predictor.encoder
        rows.transformDense(encoder.transform, missingValue: encoder.missingValue)
        for start in stride(from: 0, to: rows.count, by: batchSize) {
            encoder.encode(rows, range: start..<min(start + batchSize, rows.count), into: &batch)
            scores.append(contentsOf: predictor.logits(batch).lazy.map(Predictor.probability))
        }
    }

    /// The CSV lines of the piece's rows, whose first line is line `firstLine` of the file.
    mutating func format(firstLine: Int, labeled: Bool) {
        text.removeAll(keepingCapacity: true)
        for (i, line) in rowLines.enumerated() {
            var record = "\(firstLine + Int(line)),"
            if labeled { record += "\(rows.labels[rows.labels.startIndex + i])," }
            record += "\(scores[i])\n"
            text.append(contentsOf: record.utf8)
        }
    }
}

/// The state of one `FilePrediction.run`.
private struct PredictionRun {
    let predictor: Predictor
    let path: String
    let output: String
    let threads: Int
    let batchSize: Int
    let progress: (@Sendable (Int, Int, Int) -> Void)?
    let started = monotonicSeconds()
    var rows = 0
    var fileLine = 0
    var labeled = false

    init(
        predictor: Predictor, path: String, output: String, threads: Int, batchSize: Int,
        progress: (@Sendable (Int, Int, Int) -> Void)?
    ) {
        self.predictor = predictor
        self.path = path
        self.output = output
        self.threads = threads
        self.batchSize = batchSize
        self.progress = progress
    }

    mutating func execute<F: LineFormat>(format initial: F, blockSize: Int) throws(PredictionError) -> FilePrediction.Report {
        var format = initial
        let reader: BlockLineReader
        let writer: AtomicFileWriter
        do { reader = try BlockLineReader(path: path, blockSize: blockSize) } catch { throw .input(error) }
        do { writer = try AtomicFileWriter(path: output) } catch { throw .writeFailed(path: output, reason: error.localizedDescription) }
        let schema = predictor.file.header.schema
        let workers = SharedArray(repeating: PredictionWorker(schema: schema), count: threads)
        var isFirstBlock = true
        do {
            while try reader.nextBlock({ (block) throws -> Void in
                var body = block
                if isFirstBlock {
                    isFirstBlock = false
                    body = try start(&format, block: block, writer: writer)
                }
                try score(body, format: format, workers: workers, writer: writer)
                progress?(reader.bytesRead, reader.size, rows)
            }) != nil {}
            try writer.commit()
        } catch let error as PredictionError {
            throw error
        } catch let error as DataError {
            throw .input(error)
        } catch {
            throw .writeFailed(path: output, reason: error.localizedDescription)
        }
        let seconds = monotonicSeconds() - started
        return .init(
            rows: rows, labeled: labeled, inputBytes: reader.bytesRead, seconds: seconds,
            rowsPerSecond: Double(rows) / max(seconds, 1e-9))
    }

    /// Shows the format the first non-blank line (a header is skipped), checks that the rows
    /// have the model's fields, writes the CSV header; returns the block without the header.
    private mutating func start<F: LineFormat>(
        _ format: inout F, block: UnsafeBufferPointer<UInt8>,
        writer: AtomicFileWriter
    ) throws -> UnsafeBufferPointer<UInt8> {
        let (first, leadingBlank, rest) = LineIterator.firstNonBlankLine(of: block)
        let isHeader = try format.start(file: path, firstLine: first)
        let expected = predictor.file.header.schema
        guard format.schema == expected else {
            throw PredictionError.schemaMismatch(
                path: path,
                reason: "its columns give the fields "
                    + format.schema.fields.map(\.name).joined(separator: ", ") + ", but the model was trained on "
                    + expected.fields.map(\.name).joined(separator: ", "))
        }
        labeled = format.hasLabels
        try writer.append(text: labeled ? "line,label,score\n" : "line,score\n")
        guard isHeader else { return block }
        fileLine = leadingBlank + 1
        return block.slice(rest..<block.count)
    }

    /// Scores one block on all threads and appends its lines to `writer`.
    private mutating func score<F: LineFormat>(
        _ block: UnsafeBufferPointer<UInt8>, format: F, workers: SharedArray<PredictionWorker>,
        writer: AtomicFileWriter
    ) throws {
        let pieces = splitOnLines(block, parts: threads).map { UncheckedSendable($0) }
        let (predictor, batchSize) = (self.predictor, self.batchSize)
        Parallel.forEach(pieces.count, threads: threads) { i in
            workers.modify(i) { $0.score(pieces[i].value, format: format, predictor: predictor, batchSize: batchSize) }
        }
        var firstLines: [Int] = []
        var line = fileLine
        for i in 0..<pieces.count {
            let worker = workers[i]
            if let (relative, problem) = worker.problem {
                throw PredictionError.badRow(path: path, line: line + relative + 1, problem: problem)
            }
            firstLines.append(line + 1)
            line += worker.lines
        }
        let (labeled, starts) = (self.labeled, firstLines)
        Parallel.forEach(pieces.count, threads: threads) { i in
            workers.modify(i) { $0.format(firstLine: starts[i], labeled: labeled) }
        }
        for i in 0..<pieces.count {
            try workers.modify(i) { worker in try writer.append(worker.text) }
            rows += workers[i].rowLines.count
        }
        fileLine = line
    }
}
