import CompactRecData

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Appends `MetricsRecord`s to a run's `metrics.jsonl`, one JSON object per line, each line
/// written with one `write` call so an interrupted run leaves at most a truncated last line.
public final class MetricsLogWriter {
    /// The log's path.
    public let path: String
    private let descriptor: Int32
    private let encoder: JSONEncoder

    /// Opens `path` for appending (creating it).
    public init(path: String) throws(TrainingError) {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard descriptor >= 0 else { throw .writeFailed(path: path, reason: AtomicFile.lastErrorText()) }
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // A NaN or infinite value (a diverging loss) is logged, not a failed write.
        let spellings = RunReport.nonFiniteSpellings
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: spellings.positiveInfinity, negativeInfinity: spellings.negativeInfinity, nan: spellings.nan)
    }

    deinit { close(descriptor) }

    /// Appends `record` as one line.
    public func append(_ record: MetricsRecord) throws(TrainingError) {
        var line: [UInt8]
        do {
            line = Array(try encoder.encode(record))
        } catch {
            throw .writeFailed(path: path, reason: "\(error)")
        }
        line.append(UInt8(ascii: "\n"))
        let written = line.withUnsafeBytes { raw in
            #if canImport(Glibc)
                Glibc.write(descriptor, raw.baseAddress, raw.count)
            #elseif canImport(Musl)
                Musl.write(descriptor, raw.baseAddress, raw.count)
            #else
                Darwin.write(descriptor, raw.baseAddress, raw.count)
            #endif
        }
        guard written == line.count else { throw .writeFailed(path: path, reason: AtomicFile.lastErrorText()) }
    }
}

/// Seconds since the Unix epoch (the metrics log's timestamps).
func wallClockSeconds() -> Double { Date().timeIntervalSince1970 }
