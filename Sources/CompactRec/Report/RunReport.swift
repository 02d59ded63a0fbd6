import CompactRecData

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Errors reading a metrics log or writing a report. Each message names the file (and line) and
/// says what to do.
public enum RunReportError: Error, LocalizedError, Sendable, Equatable {
    /// The metrics log does not exist.
    case logNotFound(path: String)
    /// The metrics log exists but cannot be read (permissions, a directory, an I/O error).
    case logUnreadable(path: String, reason: String)
    /// A line before the last is not a metrics record.
    case badLogLine(path: String, line: Int, reason: String)
    /// The report's directory does not exist.
    case outputDirectoryMissing(path: String, directory: String)
    /// Writing the report failed.
    case writeFailed(path: String, reason: String)

    /// The message shown to the user.
    public var errorDescription: String? {
        switch self {
        case .logNotFound(let path):
            "\(path): no such metrics log. Pass the metrics.jsonl that compactrec train wrote in its run directory."
        case .logUnreadable(let path, let reason):
            "\(path): cannot be read: \(reason)."
        case .badLogLine(let path, let line, let reason):
            "\(path):\(line): not a metrics record: \(reason). Only the last line may be cut short (an interrupted write); fix or delete this line and make the report again."
        case .outputDirectoryMissing(let path, let directory):
            "\(path): cannot write: the directory \(directory) does not exist. Create it first (mkdir -p \(directory)) or choose another output path."
        case .writeFailed(let path, let reason):
            "\(path): cannot write: \(reason)."
        }
    }
}

/// The records of a metrics log, and whether its last line had to be skipped.
public struct MetricsLogContents: Sendable, Equatable {
    /// The records, in the order of the file.
    public var records: [MetricsRecord]
    /// The 1-based number of the last line when it was incomplete or garbled and so skipped
    /// (a write interrupted by a crash or a kill); `nil` when every line was read.
    public var skippedLastLine: Int?

    /// A log of `records`, noting the skipped last line if any.
    public init(records: [MetricsRecord], skippedLastLine: Int? = nil) {
        self.records = records
        self.skippedLastLine = skippedLastLine
    }
}

/// A training run's report: one self-contained HTML page (inline CSS and SVG, no scripts, no
/// network) built from its metrics log, so a run can be inspected in any browser, offline, or
/// archived with the run.
public enum RunReport {
    /// The records of the JSON-lines metrics log at `path`.
    ///
    /// A run killed mid-write leaves a cut-short last line, so a last line that does not decode
    /// is skipped; a bad line anywhere else means the file is not a metrics log (or was
    /// edited), and throws `badLogLine` with its line number. Blank lines are ignored; an empty
    /// file gives no records.
    public static func readLog(at path: String) throws(RunReportError) -> [MetricsRecord] {
        try loadLog(at: path).records
    }

    /// The metrics log at `path`, with the number of its skipped last line if it had one (see
    /// `readLog(at:)`), so a report can say the log was cut short.
    public static func loadLog(at path: String) throws(RunReportError) -> MetricsLogContents {
        let bytes = try readBytes(path)
        let lines = MetricsLogLines(bytes)
        guard let last = lines.ranges.last else { return MetricsLogContents(records: []) }
        let decoder = RunReport.logDecoder()
        var records = try decodeAllButLast(lines, path: path, decoder: decoder)
        do {
            records.append(try decoder.decode(MetricsRecord.self, from: Data(bytes[last.range])))
            return MetricsLogContents(records: records)
        } catch {
            return MetricsLogContents(records: records, skippedLastLine: last.number)
        }
    }

    /// Renders `run`'s metrics log into its `report.html`.
    public static func write(for run: TrainingRun) throws(RunReportError) {
        try write(html: html(log: try loadLog(at: run.metricsLogPath)), to: run.reportPath)
    }

    /// Writes `html` to `path` atomically: into a temporary file in the same directory, renamed
    /// over `path` when complete, so a reader never sees half a report. (It reuses the data
    /// generator's atomic writer, which names the temporary file `<path>.tmp-<pid>`.)
    public static func write(html: String, to path: String) throws(RunReportError) {
        do throws(GeneratorError) {
            let writer = try TeacherFileWriter(path: path)
            try writer.write(Array(html.utf8))
            try writer.commit()
        } catch {
            switch error {
            case .outputDirectoryMissing(let path, let directory):
                throw .outputDirectoryMissing(path: path, directory: directory)
            case .writeFailed(let path, let reason):
                throw .writeFailed(path: path, reason: reason)
            default:
                throw .writeFailed(path: path, reason: error.errorDescription ?? "\(error)")
            }
        }
    }

    /// The HTML page for `log`, noting a skipped last line.
    public static func html(log: MetricsLogContents) -> String {
        html(records: log.records, skippedLastLine: log.skippedLastLine)
    }

    /// The HTML page for the run in `records` (a whole metrics log, in file order).
    ///
    /// The page has a header (model, description, start time, resumptions), the test results
    /// from the `end` record (or a "did not finish" notice), charts of the training loss and
    /// of the validation AUC with the best evaluation marked, and a table of the evaluations.
    /// When the log holds several fresh runs, the page covers the last. `skippedLastLine`
    /// (from `loadLog`) adds a note that the log was cut short.
    public static func html(records: [MetricsRecord], skippedLastLine: Int? = nil) -> String {
        let run = RunHistory(records)
        var page = RunPage()
        page.header(run, skippedLastLine: skippedLastLine)
        page.results(run)
        page.charts(run)
        page.evaluations(run)
        return page.finished(title: run.model.map { "CompactRec run report: \($0)" } ?? "CompactRec run report")
    }

    /// How non-finite numbers (a diverged loss) are spelled in a log: JSON has no NaN, so
    /// writers encode them as these strings (see `logDecoder()`).
    public static let nonFiniteSpellings = (positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")

    /// A decoder for log lines that also reads non-finite numbers written as the strings of
    /// `nonFiniteSpellings` (a writer's `JSONEncoder` needs the matching
    /// `.convertToString` strategy, or it cannot write a NaN loss at all).
    static func logDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        let spelled = nonFiniteSpellings
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: spelled.positiveInfinity, negativeInfinity: spelled.negativeInfinity, nan: spelled.nan)
        return decoder
    }

    /// The whole file at `path`, with errors that say why it cannot be read.
    private static func readBytes(_ path: String) throws(RunReportError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else { throw .logNotFound(path: path) }
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .logUnreadable(path: path, reason: (error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
    }

    /// Decodes every line but the last, throwing `badLogLine` for the first that fails.
    private static func decodeAllButLast(
        _ lines: MetricsLogLines, path: String, decoder: JSONDecoder
    ) throws(RunReportError) -> [MetricsRecord] {
        var records: [MetricsRecord] = []
        records.reserveCapacity(lines.ranges.count)
        for line in lines.ranges.dropLast() {
            do {
                records.append(try decoder.decode(MetricsRecord.self, from: Data(lines.bytes[line.range])))
            } catch {
                throw .badLogLine(path: path, line: line.number, reason: decodingProblem(error))
            }
        }
        return records
    }

    /// A short reason for a line that does not decode, naming the key at fault.
    static func decodingProblem(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func key(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "bad value for \"\(key(context))\""
        case .keyNotFound(let codingKey, _):
            return "missing \"\(codingKey.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "wrong type for \"\(key(context))\""
        @unknown default:
            return "\(error)"
        }
    }
}

/// The non-blank lines of a JSON-lines file: byte ranges and 1-based line numbers.
struct MetricsLogLines {
    /// The file's bytes.
    let bytes: [UInt8]
    /// Each non-blank line's bytes (without the newline) and its line number.
    let ranges: [(number: Int, range: Range<Int>)]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        var ranges: [(number: Int, range: Range<Int>)] = []
        var start = 0
        var number = 1
        for index in 0...bytes.count where index == bytes.count || bytes[index] == UInt8(ascii: "\n") {
            let line = bytes[start..<index]
            if line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") && $0 != UInt8(ascii: "\r") }) {
                ranges.append((number, start..<index))
            }
            start = index + 1
            number += 1
        }
        self.ranges = ranges
    }
}

/// The run a metrics log describes, once resumptions are applied: its starts, training and
/// evaluation lines and end.
///
/// A fresh (not resumed) `start` begins a new run, and only the last run is kept. A resumed
/// `start` at step s drops the lines after step s, which the resumed run redoes from its
/// checkpoint. An `end` counts only if no start follows it.
struct RunHistory {
    /// The `start` lines of the run: the first, then one per resumption.
    private(set) var starts: [MetricsRecord] = []
    /// `train` lines with their losses.
    private(set) var trains: [MetricsRecord] = []
    /// `evaluation` lines.
    private(set) var evaluations: [MetricsRecord] = []
    /// The `end` line, if the run finished.
    private(set) var end: MetricsRecord?
    /// How many fresh runs the log holds (the history covers the last).
    private(set) var runCount = 0
    /// The last line's step, epoch and time (the run's progress so far).
    private(set) var last: MetricsRecord?

    init(_ records: [MetricsRecord]) {
        for record in records { add(record) }
        if runCount == 0 && !records.isEmpty { runCount = 1 }
    }

    private mutating func add(_ record: MetricsRecord) {
        switch record.event {
        case .start where record.resumed != true:
            // Lines before the first start (a log cut at the top) count as a run of their own.
            let runsBefore = runCount == 0 && last != nil ? 1 : runCount
            self = RunHistory([])
            runCount = runsBefore + 1
            starts = [record]
        case .start:
            // The lines after the checkpoint's step are redone by the resumed run.
            trains.removeAll { $0.step > record.step }
            evaluations.removeAll { $0.step > record.step }
            end = nil
            starts.append(record)
        case .train:
            trains.append(record)
        case .evaluation:
            evaluations.append(record)
        case .end:
            end = record
        }
        last = record
    }

    /// The model kind, from the first start (or the end).
    var model: String? { starts.first?.model ?? end?.model }

    /// The resumed starts.
    var resumptions: [MetricsRecord] { starts.filter { $0.resumed == true } }

    /// The index in `evaluations` of the best one: the last flagged best (the weights kept),
    /// or the highest AUC when the log flags none.
    var bestEvaluation: Int? {
        if let flagged = evaluations.lastIndex(where: { $0.best == true }) { return flagged }
        let scored = evaluations.indices.filter { evaluations[$0].auc?.isFinite == true }
        return scored.max { (evaluations[$0].auc ?? 0) < (evaluations[$1].auc ?? 0) }
    }
}

/// The HTML page being assembled, section by section.
struct RunPage {
    private var body = ""

    /// Model, description, times and resumptions; notes about the log itself.
    mutating func header(_ run: RunHistory, skippedLastLine: Int?) {
        body += "<h1>Run report\(run.model.map { ": " + MarkupText.escaped($0) } ?? "")</h1>\n"
        guard let first = run.starts.first else {
            body += "<p class=\"note\">The log has no start line, so the run's description is unknown.</p>\n"
            if run.last == nil { body += "<p class=\"warning\">The log is empty: there is nothing to report.</p>\n" }
            notes(run, skippedLastLine: skippedLastLine)
            return
        }
        if let description = first.description {
            body += "<p class=\"description\">\(MarkupText.escaped(description))</p>\n"
        }
        body += "<ul class=\"facts\">\n<li>Started \(RunPage.utc(first.time))</li>\n"
        let resumptions = run.resumptions
        if !resumptions.isEmpty {
            let places = resumptions.map { "step \(RunPage.grouped($0.step)) (\(RunPage.utc($0.time)))" }
            body +=
                "<li>Resumed from a checkpoint \(resumptions.count == 1 ? "once" : "\(resumptions.count) times"): at \(places.joined(separator: ", "))</li>\n"
        }
        if let last = run.last {
            let wall = ProgressBar.duration(max(0, last.time - first.time))
            body += "<li>Last line: step \(RunPage.grouped(last.step)), epoch \(last.epoch), \(wall) after the start</li>\n"
        }
        body += "</ul>\n"
        notes(run, skippedLastLine: skippedLastLine)
    }

    /// Notes about older runs in the same log and a cut-short last line.
    private mutating func notes(_ run: RunHistory, skippedLastLine: Int?) {
        if run.runCount > 1 {
            body += "<p class=\"note\">The log holds \(run.runCount) runs; this report covers the last one.</p>\n"
        }
        if let line = skippedLastLine {
            body +=
                "<p class=\"note\">The log's last line (line \(line)) was incomplete, as after an interrupted write, and was skipped.</p>\n"
        }
    }

    /// The test results, or a notice that the run did not finish.
    mutating func results(_ run: RunHistory) {
        body += "<h2>Results</h2>\n"
        guard let end = run.end else {
            let reached = run.last.map { " The figures below go up to step \(RunPage.grouped($0.step))." } ?? ""
            body +=
                "<p class=\"warning\">The run did not finish: the log has no end line (the run is still going, or was stopped or crashed).\(reached)</p>\n"
            return
        }
        let rows: [(String, String)] = [
            ("Test AUC", end.auc.map { ProgressBar.fixed($0, 4) } ?? "—"),
            ("Test logloss", end.logloss.map { ProgressBar.fixed($0, 4) } ?? "—"),
            ("Embedding parameters", end.embeddingParams.map(RunPage.grouped) ?? "—"),
            ("Total parameters", end.totalParams.map(RunPage.grouped) ?? "—"),
            ("Model size", end.modelBytes.map(RunPage.size) ?? "—"),
            ("Training speed", end.samplesPerSecond.map { "\(RunPage.grouped(Int($0.rounded()))) samples/s" } ?? "—"),
            ("Stopped early", end.stoppedEarly.map { $0 ? "yes" : "no" } ?? "—"),
            ("Steps", "\(RunPage.grouped(end.step)) (epoch \(end.epoch))"),
        ]
        body += "<table class=\"results\">\n"
        for (name, value) in rows {
            body += "<tr><th>\(MarkupText.escaped(name))</th><td>\(MarkupText.escaped(value))</td></tr>\n"
        }
        body += "</table>\n"
    }

    /// The training-loss and validation-AUC charts.
    mutating func charts(_ run: RunHistory) {
        let loss = run.trains.compactMap { record in record.loss.map { ChartPoint(x: Double(record.step), y: $0) } }
        body += "<h2>Training loss</h2>\n<figure>\n"
        body += SVGChart(title: "Training loss", xLabel: "step", yLabel: "loss", series: [ChartSeries(name: "training loss", points: loss)])
            .render()
        body += "</figure>\n"
        let auc = run.evaluations.compactMap { record in record.auc.map { ChartPoint(x: Double(record.step), y: $0) } }
        var markers: [ChartMarker] = []
        if let best = run.bestEvaluation, let value = run.evaluations[best].auc {
            let step = run.evaluations[best].step
            markers.append(
                ChartMarker(
                    point: ChartPoint(x: Double(step), y: value),
                    label: "best \(ProgressBar.fixed(value, 4)) at step \(RunPage.grouped(step))"))
        }
        body += "<h2>Validation AUC</h2>\n<figure>\n"
        body += SVGChart(
            title: "Validation AUC", xLabel: "step", yLabel: "AUC", series: [ChartSeries(name: "validation AUC", points: auc)],
            markers: markers
        ).render()
        body += "</figure>\n"
    }

    /// One row per evaluation; the best is highlighted.
    mutating func evaluations(_ run: RunHistory) {
        body += "<h2>Evaluations</h2>\n"
        guard !run.evaluations.isEmpty else {
            body += "<p>No validation evaluations were logged.</p>\n"
            return
        }
        let best = run.bestEvaluation
        body +=
            "<table class=\"evaluations\">\n<tr><th>Step</th><th>Epoch</th><th>Validation AUC</th><th>Logloss</th><th>Best so far</th></tr>\n"
        for (index, record) in run.evaluations.enumerated() {
            let auc = record.auc.map { ProgressBar.fixed($0, 4) } ?? "—"
            let logloss = record.logloss.map { ProgressBar.fixed($0, 4) } ?? "—"
            let flag = record.best == true ? "yes" : ""
            body +=
                "<tr\(index == best ? " class=\"best\"" : "")><td>\(RunPage.grouped(record.step))</td><td>\(record.epoch)</td><td>\(auc)</td><td>\(logloss)</td><td>\(flag)</td></tr>\n"
        }
        body += "</table>\n"
    }

    /// The complete document.
    func finished(title: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(MarkupText.escaped(title))</title>
        <style>
        body { font-family: sans-serif; margin: 2em auto; max-width: 720px; color: #222; line-height: 1.4; padding: 0 1em; }
        h1 { font-size: 1.5em; margin-bottom: 0.2em; }
        h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
        .description { font-family: monospace; background: #f5f5f5; padding: 0.5em; overflow-wrap: anywhere; }
        .facts { padding-left: 1.2em; }
        .note { color: #555; font-style: italic; }
        .warning { background: #fff4e5; border-left: 4px solid #f0a020; padding: 0.5em; }
        table { border-collapse: collapse; }
        th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
        th { background: #f5f5f5; }
        table.results th { text-align: left; }
        tr.best td { font-weight: bold; background: #eef6ee; }
        figure { margin: 0; }
        svg { max-width: 100%; height: auto; }
        </style>
        </head>
        <body>
        \(body)</body>
        </html>

        """
    }

    /// `value` with thousands separators (1,234,567).
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result += "," }
            result.append(digit)
        }
        return (value < 0 ? "-" : "") + result
    }

    /// A byte count in MiB/KiB with the exact count (11.8 MiB (12,345,678 bytes)).
    static func size(_ bytes: Int) -> String {
        let exact = "\(grouped(bytes)) bytes"
        let value = Double(bytes)
        let kib = 1024.0
        let mib = kib * 1024
        let gib = mib * 1024
        if value >= gib { return "\(ProgressBar.fixed(value / gib, 2)) GiB (\(exact))" }
        if value >= mib { return "\(ProgressBar.fixed(value / mib, 1)) MiB (\(exact))" }
        if value >= kib { return "\(ProgressBar.fixed(value / kib, 1)) KiB (\(exact))" }
        return exact
    }

    /// Unix `seconds` as a UTC date and time (2024-05-01 12:00:00 UTC).
    static func utc(_ seconds: Double) -> String {
        guard seconds.isFinite, abs(seconds) < 1e14 else { return "at an unknown time" }
        let total = Int(seconds.rounded(.down))
        let days = total >= 0 ? total / 86_400 : (total - 86_399) / 86_400
        let secondOfDay = total - days * 86_400
        // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shifted + 2) / 5 + 1
        let month = shifted < 10 ? shifted + 3 : shifted - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day)) \(two(secondOfDay / 3600)):\(two(secondOfDay % 3600 / 60)):\(two(secondOfDay % 60)) UTC"
    }
}
