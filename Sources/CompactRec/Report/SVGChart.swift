import CompactRecData

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// One (x, y) point of a chart series.
public struct ChartPoint: Sendable, Equatable {
    /// Horizontal value (a step, usually).
    public var x: Double
    /// Vertical value (a loss, an AUC...).
    public var y: Double

    /// The point (`x`, `y`); non-finite coordinates are allowed and skipped when drawn.
    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }

    /// Whether both coordinates are finite, so the point can be drawn.
    public var isFinite: Bool { x.isFinite && y.isFinite }
}

/// A named line of an `SVGChart`, so several runs or metrics can share one chart.
public struct ChartSeries: Sendable, Equatable {
    /// The legend's name for the line.
    public var name: String
    /// The points, in any order (they are drawn sorted by x).
    public var points: [ChartPoint]

    /// A series called `name` through `points`.
    public init(name: String, points: [ChartPoint]) {
        self.name = name
        self.points = points
    }
}

/// A highlighted point with a label (the best evaluation, say), drawn over the lines.
public struct ChartMarker: Sendable, Equatable {
    /// Where the marker is; a non-finite point is not drawn.
    public var point: ChartPoint
    /// Text drawn beside the marker.
    public var label: String

    /// A marker at `point` labelled `label`.
    public init(point: ChartPoint, label: String) {
        self.point = point
        self.label = label
    }
}

/// An axis scale with "nice" ticks: evenly spaced at 1, 2 or 5 times a power of ten, the first
/// tick at or below the data and the last at or above it, so labels read as round numbers.
public struct ChartAxisScale: Sendable, Equatable {
    /// The tick values, ascending; the first and last are the axis ends.
    public let ticks: [Double]
    /// The spacing between ticks.
    public let step: Double
    /// The power of ten of `step` (`step` is 1, 2 or 5 times `10^stepExponent`); sets label decimals.
    public let stepExponent: Int

    /// The start of the axis (the first tick).
    public var lower: Double { ticks.first ?? 0 }
    /// The end of the axis (the last tick).
    public var upper: Double { ticks.last ?? 1 }

    /// A scale covering `low...high` (either order) with about `targetIntervals` steps.
    ///
    /// A zero-width range (one point, or all values equal) is widened by 10% of the value on each
    /// side (by 1 around zero), so the line sits inside the axis instead of on a degenerate one.
    /// Non-finite bounds give the scale of 0...1.
    public init(covering low: Double, _ high: Double, targetIntervals: Int = 5) {
        var lo = min(low, high)
        var hi = max(low, high)
        if !lo.isFinite || !hi.isFinite {
            lo = 0
            hi = 1
        }
        let intervals = Double(max(1, targetIntervals))
        if hi - lo <= max(abs(lo), abs(hi)) * 1e-9 {
            let center = lo / 2 + hi / 2
            let pad = center == 0 ? 1 : abs(center) / 10
            lo = center - pad
            hi = center + pad
        }
        // hi / n - lo / n rather than (hi - lo) / n: the difference of two huge values can overflow.
        let (nice, exponent) = ChartAxisScale.niceStep(hi / intervals - lo / intervals)
        let step = ChartAxisScale.value(multiple: 1, nice: nice, exponent: exponent)
        // The tolerance keeps a bound that is itself a tick (0.3 / 0.1 = 2.9999...) from adding one.
        let first = Int((lo / step + 1e-9).rounded(.down))
        let last = max(first + 1, Int((hi / step - 1e-9).rounded(.up)))
        ticks = (first...last).map { ChartAxisScale.value(multiple: $0, nice: nice, exponent: exponent) }
        self.step = step
        stepExponent = exponent
    }

    /// The nice step at or above `rough`: `(mantissa, exponent)` with a mantissa of 1, 2, 5 or
    /// (rounding up) 10 expressed as 1 at the next power, meaning `mantissa * 10^exponent`.
    public static func niceStep(_ rough: Double) -> (mantissa: Int, exponent: Int) {
        guard rough.isFinite, rough > 0 else { return (1, 0) }
        var exponent = Int(log10(rough).rounded(.down))
        // log10 can be off by one ulp around exact powers; correct against the exact power.
        if rough < power10(exponent) { exponent -= 1 }
        if rough >= power10(exponent + 1) { exponent += 1 }
        let fraction = rough / power10(exponent)
        let tolerance = 1e-9
        if fraction <= 1 + tolerance { return (1, exponent) }
        if fraction <= 2 + tolerance { return (2, exponent) }
        if fraction <= 5 + tolerance { return (5, exponent) }
        return (1, exponent + 1)
    }

    /// `multiple * nice * 10^exponent`, divided by an exact power of ten for negative exponents
    /// so that, say, 3 steps of 0.1 is 0.3 and not 0.30000000000000004.
    static func value(multiple: Int, nice: Int, exponent: Int) -> Double {
        let units = Double(multiple) * Double(nice)
        return exponent >= 0 ? units * power10(exponent) : units / power10(-exponent)
    }

    /// 10 to the power `exponent`, exact for |exponent| <= 22.
    static func power10(_ exponent: Int) -> Double { pow(10, Double(exponent)) }

    /// The label of tick `value`: as many decimals as the step needs, with a k or M suffix for
    /// large values (2M, 150k) so labels stay short; zero is always "0".
    public func label(_ value: Double) -> String {
        if value == 0 { return "0" }
        let largest = max(abs(lower), abs(upper))
        if largest >= 1e6 && stepExponent >= 4 {
            return ProgressBar.fixed(value / 1e6, max(0, 6 - stepExponent)) + "M"
        }
        if largest >= 1e4 && stepExponent >= 2 {
            return ProgressBar.fixed(value / 1e3, max(0, 3 - stepExponent)) + "k"
        }
        let decimals = max(0, -stepExponent)
        return decimals > 12 ? "\(value)" : ProgressBar.fixed(value, decimals)
    }

    /// Where `value` falls between the axis ends, 0 at `lower` and 1 at `upper`.
    func fraction(_ value: Double) -> Double {
        let span = upper - lower
        return span > 0 && span.isFinite ? (value - lower) / span : 0.5
    }
}

/// Reduces long series to a drawable number of points while keeping their shape: the first and
/// last points, and within each bucket of consecutive points the lowest and the highest, so a
/// one-step spike in ten million steps still shows.
public enum ChartDownsampler {
    /// At most `maximum` points of `points` (taken in order): all of them when they fit.
    /// `maximum` below 4 is treated as 4.
    public static func downsample(_ points: [ChartPoint], maximum: Int) -> [ChartPoint] {
        let limit = max(4, maximum)
        guard points.count > limit else { return points }
        let interior = points.count - 2
        let buckets = (limit - 2) / 2
        var kept: [ChartPoint] = [points[0]]
        kept.reserveCapacity(limit)
        for bucket in 0..<buckets {
            let start = 1 + bucket * interior / buckets
            let end = 1 + (bucket + 1) * interior / buckets
            guard start < end else { continue }
            var lowest = start
            var highest = start
            for index in start..<end {
                if points[index].y < points[lowest].y { lowest = index }
                if points[index].y > points[highest].y { highest = index }
            }
            kept.append(points[min(lowest, highest)])
            if lowest != highest { kept.append(points[max(lowest, highest)]) }
        }
        kept.append(points[points.count - 1])
        return kept
    }
}

/// Escaping for text placed in XML or HTML, so titles and names from a log cannot break the
/// markup (or inject any).
enum MarkupText {
    /// `text` with `& < > " '` replaced by entities and control characters that XML 1.0 forbids
    /// replaced by U+FFFD.
    static func escaped(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            case "\t", "\n", "\r": result.unicodeScalars.append(scalar)
            default:
                let forbidden = scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF
                result.unicodeScalars.append(forbidden ? "\u{FFFD}" : scalar)
            }
        }
        return result
    }

    /// `text` cut to `limit` characters with an ellipsis, so a long name cannot overrun a chart.
    static func shortened(_ text: String, to limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(max(0, limit - 1))) + "…"
    }
}

/// A line chart as a standalone SVG document: named series of (x, y) points, a title, axis
/// labels, nice ticks, a legend when there is more than one series, and optional markers.
///
/// Runs produce up to ten million steps and occasional NaN losses, so the chart skips
/// non-finite points, downsamples each series to `maximumPoints` (keeping spikes), and says
/// "no data" rather than drawing empty axes. It uses no fonts, scripts or links, so it can be
/// embedded in an HTML page or saved as an `.svg` file as is.
public struct SVGChart: Sendable {
    /// The heading drawn above the plot.
    public var title: String
    /// The horizontal axis's caption.
    public var xLabel: String
    /// The vertical axis's caption.
    public var yLabel: String
    /// The lines, drawn in order (later lines on top).
    public var series: [ChartSeries]
    /// Highlighted points, drawn over the lines.
    public var markers: [ChartMarker]
    /// Width and height in pixels.
    public var width: Int, height: Int

    /// Points a series keeps at most when drawn (see `ChartDownsampler`).
    public static let maximumPoints = 2000

    /// Line colours, cycled through the series.
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    /// A `width` x `height` chart of `series`.
    public init(
        title: String, xLabel: String, yLabel: String, series: [ChartSeries],
        markers: [ChartMarker] = [], width: Int = 640, height: Int = 320
    ) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.markers = markers
        self.width = max(200, width)
        self.height = max(120, height)
    }

    /// The chart as an `<svg>` element (valid on its own as an SVG file, or inline in HTML).
    public func render() -> String {
        let lines = series.map { SVGChart.drawable($0.points) }
        let marks = markers.filter { $0.point.isFinite }
        let hasLegend = series.count > 1
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" \
            viewBox="0 0 \(width) \(height)" font-family="sans-serif" font-size="11" role="img">
            <title>\(MarkupText.escaped(title))</title>
            <rect x="0" y="0" width="\(width)" height="\(height)" fill="#ffffff"/>
            <text x="\(width / 2)" y="18" text-anchor="middle" font-size="14" font-weight="bold">\
            \(MarkupText.escaped(MarkupText.shortened(title, to: 80)))</text>

            """
        let frame = PlotFrame(width: width, height: height, hasLegend: hasLegend)
        if hasLegend { svg += legend(lines: lines, frame: frame) }
        let all = lines.flatMap { $0 } + marks.map(\.point)
        if all.isEmpty {
            svg += """
                <rect x="\(frame.left)" y="\(frame.top)" width="\(frame.plotWidth)" height="\(frame.plotHeight)" \
                fill="#fafafa" stroke="#cccccc"/>
                <text x="\(frame.left + frame.plotWidth / 2)" y="\(frame.top + frame.plotHeight / 2)" \
                text-anchor="middle" font-size="14" fill="#666666">no data</text>

                """
            return svg + "</svg>\n"
        }
        let xScale = ChartAxisScale(covering: all.map(\.x).min() ?? 0, all.map(\.x).max() ?? 1, targetIntervals: 6)
        let yScale = ChartAxisScale(covering: all.map(\.y).min() ?? 0, all.map(\.y).max() ?? 1, targetIntervals: 5)
        let plot = PlotMapping(frame: frame, x: xScale, y: yScale)
        svg += axes(plot)
        for (index, points) in lines.enumerated() where !points.isEmpty {
            svg += line(points, color: SVGChart.palette[index % SVGChart.palette.count], plot: plot)
        }
        for marker in marks { svg += self.marker(marker, plot: plot) }
        return svg + "</svg>\n"
    }

    /// The finite points of a series, sorted by x, downsampled to `maximumPoints`.
    static func drawable(_ points: [ChartPoint]) -> [ChartPoint] {
        var finite = points.filter(\.isFinite)
        if zip(finite, finite.dropFirst()).contains(where: { $0.x > $1.x }) {
            finite.sort { $0.x < $1.x }
        }
        return ChartDownsampler.downsample(finite, maximum: maximumPoints)
    }

    /// Grid lines, tick labels, the frame and the axis captions.
    private func axes(_ plot: PlotMapping) -> String {
        let frame = plot.frame
        var svg = "<g stroke=\"#e5e5e5\" stroke-width=\"1\">\n"
        for tick in plot.x.ticks {
            let x = PlotMapping.text(plot.xPixel(tick))
            svg += "<line x1=\"\(x)\" y1=\"\(frame.top)\" x2=\"\(x)\" y2=\"\(frame.bottom)\"/>\n"
        }
        for tick in plot.y.ticks {
            let y = PlotMapping.text(plot.yPixel(tick))
            svg += "<line x1=\"\(frame.left)\" y1=\"\(y)\" x2=\"\(frame.right)\" y2=\"\(y)\"/>\n"
        }
        svg += "</g>\n<g fill=\"#444444\">\n"
        for tick in plot.x.ticks {
            let x = PlotMapping.text(plot.xPixel(tick))
            svg += "<text x=\"\(x)\" y=\"\(frame.bottom + 15)\" text-anchor=\"middle\">\(MarkupText.escaped(plot.x.label(tick)))</text>\n"
        }
        for tick in plot.y.ticks {
            let y = PlotMapping.text(plot.yPixel(tick) + 4)
            svg += "<text x=\"\(frame.left - 6)\" y=\"\(y)\" text-anchor=\"end\">\(MarkupText.escaped(plot.y.label(tick)))</text>\n"
        }
        let middleY = frame.top + frame.plotHeight / 2
        svg += """
            </g>
            <rect x="\(frame.left)" y="\(frame.top)" width="\(frame.plotWidth)" height="\(frame.plotHeight)" \
            fill="none" stroke="#999999"/>
            <text x="\(frame.left + frame.plotWidth / 2)" y="\(height - 8)" text-anchor="middle">\
            \(MarkupText.escaped(MarkupText.shortened(xLabel, to: 60)))</text>
            <text x="14" y="\(middleY)" text-anchor="middle" transform="rotate(-90 14 \(middleY))">\
            \(MarkupText.escaped(MarkupText.shortened(yLabel, to: 40)))</text>

            """
        return svg
    }

    /// One series as a polyline, with dots when it has few points (a lone point is only a dot).
    private func line(_ points: [ChartPoint], color: String, plot: PlotMapping) -> String {
        let coordinates = points.map { "\(PlotMapping.text(plot.xPixel($0.x))),\(PlotMapping.text(plot.yPixel($0.y)))" }
        var svg = ""
        if points.count > 1 {
            svg +=
                "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" stroke-linejoin=\"round\" points=\"\(coordinates.joined(separator: " "))\"/>\n"
        }
        if points.count <= 40 {
            svg += "<g fill=\"\(color)\">\n"
            for point in points {
                svg +=
                    "<circle cx=\"\(PlotMapping.text(plot.xPixel(point.x)))\" cy=\"\(PlotMapping.text(plot.yPixel(point.y)))\" r=\"2.5\"/>\n"
            }
            svg += "</g>\n"
        }
        return svg
    }

    /// A ringed dot with its label, placed left of the dot when it is in the right half.
    private func marker(_ marker: ChartMarker, plot: PlotMapping) -> String {
        let x = plot.xPixel(marker.point.x)
        let y = plot.yPixel(marker.point.y)
        let rightHalf = x > Double(plot.frame.left + plot.frame.plotWidth / 2)
        let labelX = PlotMapping.text(rightHalf ? x - 8 : x + 8)
        let labelY = PlotMapping.text(y < Double(plot.frame.top + 14) ? y + 14 : y - 6)
        return """
            <circle cx="\(PlotMapping.text(x))" cy="\(PlotMapping.text(y))" r="5" fill="none" stroke="#000000" stroke-width="1.5"/>
            <text x="\(labelX)" y="\(labelY)" text-anchor="\(rightHalf ? "end" : "start")" font-weight="bold" \
            stroke="#ffffff" stroke-width="3" paint-order="stroke">\
            \(MarkupText.escaped(MarkupText.shortened(marker.label, to: 60)))</text>

            """
    }

    /// Legend entries in a row under the title; a series without drawable points says so.
    private func legend(lines: [[ChartPoint]], frame: PlotFrame) -> String {
        var svg = "<g>\n"
        var x = frame.left
        let y = frame.top - 12
        for (index, entry) in series.enumerated() {
            let color = SVGChart.palette[index % SVGChart.palette.count]
            let name = MarkupText.shortened(entry.name, to: 30) + (lines[index].isEmpty ? " (no data)" : "")
            svg += "<line x1=\"\(x)\" y1=\"\(y - 4)\" x2=\"\(x + 18)\" y2=\"\(y - 4)\" stroke=\"\(color)\" stroke-width=\"3\"/>\n"
            svg += "<text x=\"\(x + 22)\" y=\"\(y)\">\(MarkupText.escaped(name))</text>\n"
            x += 22 + 7 * name.count + 16
        }
        return svg + "</g>\n"
    }
}

/// The plot rectangle inside the chart, in pixels.
struct PlotFrame {
    let left: Int, top: Int, plotWidth: Int, plotHeight: Int

    /// Margins for tick labels and captions; a legend row pushes the plot down.
    init(width: Int, height: Int, hasLegend: Bool) {
        left = 64
        top = hasLegend ? 50 : 32
        plotWidth = width - left - 20
        plotHeight = height - top - 42
    }

    var right: Int { left + plotWidth }
    var bottom: Int { top + plotHeight }
}

/// Maps data values to pixels within a `PlotFrame`.
struct PlotMapping {
    let frame: PlotFrame
    let x: ChartAxisScale
    let y: ChartAxisScale

    func xPixel(_ value: Double) -> Double { Double(frame.left) + x.fraction(value) * Double(frame.plotWidth) }

    func yPixel(_ value: Double) -> Double { Double(frame.bottom) - y.fraction(value) * Double(frame.plotHeight) }

    /// A pixel coordinate with one decimal.
    static func text(_ pixel: Double) -> String { ProgressBar.fixed(pixel, 1) }
}
