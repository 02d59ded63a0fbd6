import CompactRecData

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// A one-line progress bar on stderr: fraction done, throughput and ETA.
///
/// It draws only when stderr is a terminal (logs and CI stay clean) and at most ten times a
/// second, so hot loops may call `update` freely.
public final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let unit: ProgressUnit
    private let enabled: Bool
    private let started = monotonicSeconds()
    private var lastDraw = 0.0
    private let lock = Lock()

    /// What the counts measure.
    public enum ProgressUnit: Sendable {
        /// Bytes, shown as MB and MB/s.
        case bytes
        /// Rows or samples, shown as counts and per second.
        case items(String)
    }

    /// A bar titled `label`; `enabled: nil` means "when stderr is a terminal".
    public init(label: String, unit: ProgressUnit, enabled: Bool? = nil) {
        self.label = label
        self.unit = unit
        self.enabled = enabled ?? (isatty(2) == 1)
    }

    /// Redraws with `done` out of `total` (and an optional note such as the loss).
    public func update(done: Int, total: Int, note: String = "") {
        guard enabled else { return }
        lock.withLock { () -> Void in
            let now = monotonicSeconds()
            guard now - lastDraw >= 0.1 || done >= total else { return }
            lastDraw = now
            let elapsed = max(now - started, 1e-9)
            let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 0
            let width = 24
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let rate = Double(done) / elapsed
            let eta = rate > 0 && total > done ? Double(total - done) / rate : 0
            let rateText: String
            switch unit {
            case .bytes: rateText = "\(ProgressBar.fixed(Double(done) / 1e6, 0)) MB, \(ProgressBar.fixed(rate / 1e6, 1)) MB/s"
            case .items(let name): rateText = "\(done) \(name), \(ProgressBar.fixed(rate, 0)) \(name)/s"
            }
            let line =
                "\r\(label) [\(bar)] \(ProgressBar.fixed(fraction * 100, 1))% \(rateText), ETA \(ProgressBar.duration(eta))\(note.isEmpty ? "" : ", " + note)"
            printToStandardError(line + "\u{1B}[K")
        }
    }

    /// Ends the bar's line.
    public func finish() {
        guard enabled else { return }
        lock.withLock { printToStandardError("\n") }
    }

    /// `value` with `digits` decimals.
    public static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        var text = "\(rounded)"
        if digits == 0 { return "\(Int(rounded))" }
        if let dot = text.firstIndex(of: ".") {
            let decimals = text.distance(from: dot, to: text.endIndex) - 1
            if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
        }
        return text
    }

    /// `seconds` as 1h02m, 3m04s or 5s.
    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return "\(s / 3600)h\(String(format2: (s % 3600) / 60))m" }
        if s >= 60 { return "\(s / 60)m\(String(format2: s % 60))s" }
        return "\(s)s"
    }
}

/// Writes `text` to stderr unbuffered (progress, warnings), so it interleaves correctly with
/// stdout results.
public func printToStandardError(_ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { raw in
            write(2, UnsafeRawBufferPointer(rebasing: raw[offset...]).baseAddress, raw.count - offset)
        }
        if n <= 0 { return }
        offset += n
    }
}

extension String {
    /// A two-digit, zero-padded number.
    init(format2 value: Int) { self = value < 10 ? "0\(value)" : "\(value)" }
}
