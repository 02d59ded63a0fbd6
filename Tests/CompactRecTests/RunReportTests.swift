import Foundation
import Testing

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Counts the elements of an XML document and records whether it parsed.
private final class XMLCheck: NSObject, XMLParserDelegate {
    var elements: [String: Int] = [:]
    var text = ""

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]
    ) {
        elements[name, default: 0] += 1
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    /// Parses `xml`; nil when it is not well-formed.
    static func parse(_ xml: String) -> XMLCheck? {
        let check = XMLCheck()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = check
        return parser.parse() ? check : nil
    }
}

/// The `points` attribute of each polyline in `svg`, as coordinate pairs.
private func polylinePoints(_ svg: String) -> [[String]] {
    svg.components(separatedBy: "<polyline").dropFirst().map { chunk in
        let after = chunk.components(separatedBy: "points=\"")[1]
        return after.prefix { $0 != "\"" }.split(separator: " ").map(String.init)
    }
}

/// The `<svg>...</svg>` elements inside an HTML page.
private func svgElements(_ html: String) -> [String] {
    html.components(separatedBy: "<svg ").dropFirst().map { "<svg " + $0.components(separatedBy: "</svg>")[0] + "</svg>" }
}

private func record(_ event: MetricsRecord.Event, step: Int, epoch: Int = 1, _ configure: (inout MetricsRecord) -> Void = { _ in })
    -> MetricsRecord
{
    var record = MetricsRecord(event: event, step: step, epoch: epoch, time: 1_714_564_800 + Double(step))
    configure(&record)
    return record
}

/// A finished run: start, train lines every 100 steps, evaluations every 500, end.
private func finishedRun() -> [MetricsRecord] {
    var records = [
        record(.start, step: 0) {
            $0.model = "deepfm"
            $0.description = "deepfm <full> dim=16 & more"
        }
    ]
    for step in stride(from: 100, through: 2000, by: 100) {
        records.append(
            record(.train, step: step) {
                $0.loss = 0.6 - Double(step) / 20000
                $0.samplesPerSecond = 50000
            })
        if step % 500 == 0 {
            let aucs: [Int: Double] = [500: 0.70, 1000: 0.75, 1500: 0.78, 2000: 0.77]
            let auc = aucs[step] ?? 0
            records.append(
                record(.evaluation, step: step) {
                    $0.auc = auc
                    $0.logloss = 0.5
                    $0.best = step != 2000
                })
        }
    }
    records.append(
        record(.end, step: 2000, epoch: 2) {
            $0.auc = 0.81234
            $0.logloss = 0.44321
            $0.model = "deepfm"
            $0.embeddingParams = 1_234_567
            $0.totalParams = 1_300_000
            $0.modelBytes = 5_200_000
            $0.samplesPerSecond = 51234.4
            $0.stoppedEarly = false
        })
    return records
}

private func jsonLines(_ records: [MetricsRecord]) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return try records.map { String(decoding: try encoder.encode($0), as: UTF8.self) + "\n" }.joined()
}

@Suite struct RunReportTests {
    // MARK: Ticks

    @Test func niceStepsAreOneTwoFive() {
        #expect(ChartAxisScale.niceStep(0.3) == (5, -1))
        #expect(ChartAxisScale.niceStep(1000) == (1, 3))
        #expect(ChartAxisScale.niceStep(1.5) == (2, 0))
        #expect(ChartAxisScale.niceStep(7) == (1, 1))
        #expect(ChartAxisScale.niceStep(0.0004) == (5, -4))
    }

    @Test func ticksOnHandComputedRanges() {
        // 0...1 in 5: rough step 0.2 -> 2 x 10^-1.
        #expect(ChartAxisScale(covering: 0, 1).ticks == [0, 0.2, 0.4, 0.6, 0.8, 1.0])
        // -3...7: rough 2 -> step 2; floor(-1.5) = -2 -> -4, ceil(3.5) = 4 -> 8.
        #expect(ChartAxisScale(covering: -3, 7).ticks == [-4, -2, 0, 2, 4, 6, 8])
        // 0...97: rough 19.4 -> step 20; ceil(4.85) = 5 -> 100.
        #expect(ChartAxisScale(covering: 0, 97).ticks == [0, 20, 40, 60, 80, 100])
        // 0.71...0.79: rough 0.016 -> step 0.02; floor(35.5) = 35 -> 0.70, ceil(39.5) = 40 -> 0.80.
        #expect(ChartAxisScale(covering: 0.79, 0.71).ticks == [0.7, 0.72, 0.74, 0.76, 0.78, 0.8])
        // Ten million steps in 6: rough 1.67e6 -> step 2e6.
        let steps = ChartAxisScale(covering: 0, 1e7, targetIntervals: 6)
        #expect(steps.ticks == [0, 2e6, 4e6, 6e6, 8e6, 1e7])
        #expect(steps.ticks.map(steps.label) == ["0", "2M", "4M", "6M", "8M", "10M"])
        // A bound that is itself a tick adds no extra tick (0.3 / 0.1 = 2.9999...).
        #expect(ChartAxisScale(covering: 0.3, 0.7, targetIntervals: 4).ticks == [0.3, 0.4, 0.5, 0.6, 0.7])
    }

    @Test func degenerateRangesAreWidened() {
        // All zero: -1...1, rough 0.4 -> step 0.5.
        #expect(ChartAxisScale(covering: 0, 0).ticks == [-1, -0.5, 0, 0.5, 1])
        // All 5: 4.5...5.5, rough 0.2; floor(22.5) = 22 -> 4.4, ceil(27.5) = 28 -> 5.6.
        let five = ChartAxisScale(covering: 5, 5)
        #expect(five.ticks == [4.4, 4.6, 4.8, 5.0, 5.2, 5.4, 5.6])
        #expect(five.ticks.map(five.label) == ["4.4", "4.6", "4.8", "5.0", "5.2", "5.4", "5.6"])
        #expect(ChartAxisScale(covering: 0, 1).label(0) == "0")
        #expect(ChartAxisScale(covering: .nan, 3).ticks == [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    }

    @Test func labelsUseStepDecimalsAndSuffixes() {
        let auc = ChartAxisScale(covering: 0.71, 0.79)
        #expect(auc.label(0.72) == "0.72")
        let thousands = ChartAxisScale(covering: 0, 97_000)
        #expect(thousands.ticks == [0, 20_000, 40_000, 60_000, 80_000, 100_000])
        #expect(thousands.label(40_000) == "40k")
        #expect(ChartAxisScale(covering: 0, 97).label(60) == "60")
    }

    // MARK: Downsampling

    @Test func downsamplingKeepsEndsAndExtremes() {
        // 200,000 points over ten million steps, with one spike and one dip.
        var points = (0..<200_000).map { ChartPoint(x: Double($0) * 50, y: 1 + Double($0 % 7) / 100) }
        points[123_457].y = 100
        points[77_777].y = -100
        let kept = ChartDownsampler.downsample(points, maximum: 2000)
        #expect(kept.count <= 2000)
        #expect(kept.count >= 1900)
        #expect(kept.first == points.first)
        #expect(kept.last == points.last)
        #expect(kept.contains(points[123_457]))
        #expect(kept.contains(points[77_777]))
        #expect(zip(kept, kept.dropFirst()).allSatisfy { $0.x < $1.x })
        #expect(ChartDownsampler.downsample(Array(points.prefix(10)), maximum: 2000) == Array(points.prefix(10)))
    }

    @Test func longSeriesRenderAtMostTheLimit() throws {
        let points = (0...1_000_000).map { ChartPoint(x: Double($0) * 10, y: sin(Double($0) / 1000)) }
        let svg = SVGChart(title: "long", xLabel: "step", yLabel: "y", series: [ChartSeries(name: "s", points: points)]).render()
        let lines = polylinePoints(svg)
        #expect(lines.count == 1)
        #expect(lines[0].count <= SVGChart.maximumPoints)
        #expect(XMLCheck.parse(svg) != nil)
        #expect(svg.contains(">10M</text>"))
    }

    // MARK: SVG

    @Test func chartsAreWellFormedInEveryCase() throws {
        let cases: [SVGChart] = [
            SVGChart(
                title: "one line", xLabel: "step", yLabel: "loss",
                series: [ChartSeries(name: "a", points: [ChartPoint(x: 1, y: 2), ChartPoint(x: 2, y: 1)])]),
            SVGChart(title: "one point", xLabel: "x", yLabel: "y", series: [ChartSeries(name: "a", points: [ChartPoint(x: 100, y: 0.5)])]),
            SVGChart(
                title: "flat", xLabel: "x", yLabel: "y",
                series: [ChartSeries(name: "a", points: (0..<5).map { ChartPoint(x: Double($0), y: 3) })]),
            SVGChart(
                title: "two", xLabel: "x", yLabel: "y",
                series: [
                    ChartSeries(name: "train", points: [ChartPoint(x: 0, y: 1), ChartPoint(x: 1, y: 2)]),
                    ChartSeries(name: "empty", points: []),
                ], markers: [ChartMarker(point: ChartPoint(x: 1, y: 2), label: "best <2>")]),
        ]
        for chart in cases {
            let svg = chart.render()
            let parsed = try #require(XMLCheck.parse(svg), "\(chart.title) is not well-formed:\n\(svg)")
            #expect(parsed.elements["svg"] == 1)
            #expect(!svg.contains("nan") && !svg.contains("inf"))
        }
        // A lone point is a dot, not an (invisible) one-point line.
        let lone = cases[1].render()
        #expect(polylinePoints(lone).isEmpty)
        #expect(XMLCheck.parse(lone)?.elements["circle"] == 1)
        // The legend appears with two series only, and names the empty one.
        #expect(cases[3].render().contains("empty (no data)"))
        #expect(!cases[0].render().contains("(no data)"))
    }

    @Test func emptyChartSaysNoData() throws {
        let empty = SVGChart(title: "t", xLabel: "x", yLabel: "y", series: [ChartSeries(name: "a", points: [])]).render()
        let parsed = try #require(XMLCheck.parse(empty))
        #expect(parsed.text.contains("no data"))
        #expect(parsed.elements["polyline"] == nil)
        let allNaN = SVGChart(title: "t", xLabel: "x", yLabel: "y", series: [ChartSeries(name: "a", points: [ChartPoint(x: 1, y: .nan)])])
            .render()
        #expect(allNaN.contains(">no data<"))
    }

    @Test func titlesAndLabelsAreEscaped() throws {
        let svg = SVGChart(
            title: "loss <a> & \"b\"", xLabel: "x<1", yLabel: "y&z",
            series: [
                ChartSeries(name: "</text><script>", points: [ChartPoint(x: 0, y: 0)]),
                ChartSeries(name: "b", points: [ChartPoint(x: 1, y: 1)]),
            ]
        ).render()
        #expect(svg.contains("loss &lt;a&gt; &amp; &quot;b&quot;"))
        #expect(svg.contains("x&lt;1") && svg.contains("y&amp;z"))
        #expect(!svg.contains("<script>") && !svg.contains("<a>"))
        let parsed = try #require(XMLCheck.parse(svg))
        #expect(parsed.text.contains("loss <a> & \"b\""))
        #expect(MarkupText.escaped("a\u{1}b") == "a\u{FFFD}b")
    }

    @Test func nonFinitePointsAreSkipped() throws {
        let points = [
            ChartPoint(x: 0, y: 1), ChartPoint(x: 1, y: .nan), ChartPoint(x: 2, y: 0.5),
            ChartPoint(x: .infinity, y: 1), ChartPoint(x: 3, y: -.infinity), ChartPoint(x: 4, y: 0.25),
        ]
        let svg = SVGChart(title: "t", xLabel: "x", yLabel: "y", series: [ChartSeries(name: "a", points: points)]).render()
        #expect(polylinePoints(svg).first?.count == 3)
        #expect(XMLCheck.parse(svg)?.elements["circle"] == 3)
        // The y axis covers the finite values only: 0.25...1 -> ticks 0.2...1.0.
        #expect(svg.contains(">0.2</text>") && svg.contains(">1.0</text>"))
    }

    // MARK: HTML

    @Test func reportShowsTheEndResults() throws {
        let html = RunReport.html(records: finishedRun())
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<td>0.8123</td>"))
        #expect(html.contains("<td>0.4432</td>"))
        #expect(html.contains("1,234,567"))
        #expect(html.contains("51,234 samples/s"))
        #expect(html.contains("5.0 MiB (5,200,000 bytes)"))
        #expect(html.contains("deepfm &lt;full&gt; dim=16 &amp; more"))
        #expect(html.contains("2024-05-01 12:00:00 UTC"))
        #expect(!html.contains("did not finish"))
        #expect(!html.contains("<script"))
        // The best evaluation is the last flagged one (step 1500), marked on the chart and in the table.
        #expect(html.contains("best 0.7800 at step 1,500"))
        #expect(html.contains("<tr class=\"best\"><td>1,500</td>"))
        let charts = svgElements(html)
        #expect(charts.count == 2)
        for chart in charts { #expect(XMLCheck.parse(chart) != nil) }
    }

    @Test func unfinishedAndResumedRunsAreSaidSo() {
        var records = Array(finishedRun().dropLast())
        // Resumed from the checkpoint at step 1000: the lines after it were redone.
        records.append(
            record(.start, step: 1000) {
                $0.model = "deepfm"
                $0.resumed = true
            })
        records.append(
            record(.evaluation, step: 1500) {
                $0.auc = 0.79
                $0.best = true
            })
        let html = RunReport.html(records: records, skippedLastLine: 31)
        #expect(html.contains("The run did not finish"))
        #expect(html.contains("Resumed from a checkpoint once: at step 1,000"))
        #expect(html.contains("line 31"))
        #expect(html.contains("best 0.7900 at step 1,500"))
        #expect(html.components(separatedBy: "<td>1,500</td>").count == 2)
        #expect(!html.contains("<td>2,000</td>"))
    }

    @Test func aNewRunInTheSameLogStartsAfresh() {
        var records = finishedRun()
        records.append(record(.start, step: 0) { $0.model = "dcn" })
        let html = RunReport.html(records: records)
        #expect(html.contains("Run report: dcn"))
        #expect(html.contains("holds 2 runs"))
        #expect(html.contains("did not finish"))
        #expect(RunReport.html(records: []).contains("The log is empty"))
    }

    // MARK: Reading and writing

    @Test func truncatedLastLineIsTolerated() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let records = finishedRun()
        let text = try jsonLines(records)
        let whole = TestData.write(text, to: "whole.jsonl", in: directory)
        #expect(try RunReport.readLog(at: whole) == records)
        let cut = TestData.write(text + "{\"event\":\"train\",\"st", to: "cut.jsonl", in: directory)
        let log = try RunReport.loadLog(at: cut)
        #expect(log.records == records)
        #expect(log.skippedLastLine == records.count + 1)
        #expect(try RunReport.readLog(at: TestData.write("\n\n", to: "blank.jsonl", in: directory)).isEmpty)
    }

    @Test func badMiddleLineThrowsWithItsNumber() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var lines = try jsonLines(finishedRun()).split(separator: "\n").map(String.init)
        lines[2] = "{\"event\":\"train\",\"st"
        let path = TestData.write(lines.joined(separator: "\n") + "\n", to: "bad.jsonl", in: directory)
        #expect(throws: RunReportError.badLogLine(path: path, line: 3, reason: "not valid JSON")) {
            try RunReport.readLog(at: path)
        }
        lines[2] = "{\"event\":\"train\",\"epoch\":1,\"time\":5}"
        let missing = TestData.write(lines.joined(separator: "\n"), to: "missing.jsonl", in: directory)
        do {
            _ = try RunReport.readLog(at: missing)
            Issue.record("a line without a step was accepted")
        } catch {
            let message = error.errorDescription ?? ""
            #expect(message.hasPrefix("\(missing):3: "))
            #expect(message.contains("missing \"step\""))
        }
        #expect(throws: RunReportError.logNotFound(path: directory + "/nope.jsonl")) {
            try RunReport.readLog(at: directory + "/nope.jsonl")
        }
    }

    @Test func writeIsAtomicAndLeavesNoTemporaryFile() throws {
        let directory = TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/report.html"
        let html = RunReport.html(records: finishedRun())
        try RunReport.write(html: "old", to: path)
        try RunReport.write(html: html, to: path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["report.html"])
        #expect(FileManager.default.contents(atPath: path) == Data(html.utf8))
        #expect(throws: RunReportError.outputDirectoryMissing(path: directory + "/no/report.html", directory: directory + "/no")) {
            try RunReport.write(html: html, to: directory + "/no/report.html")
        }
    }
}
