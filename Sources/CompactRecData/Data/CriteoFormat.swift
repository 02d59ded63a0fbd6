#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// Criteo-Kaggle's TSV: label, I1..I13 integers, C1..C26 8-hex-digit hashes, tab-separated,
/// no header; any feature may be empty. `test.txt` has the same layout without the label.
///
/// Teacher data generated with a different number of categorical fields uses the same reader
/// with `categoricalCount` set.
public struct CriteoFormat: LineFormat {
    /// I1..I13 and C1..C26 (or the configured counts).
    public let schema: Schema
    /// True for `train.txt` rows, false for `test.txt` rows; decided from the first line.
    public private(set) var hasLabels = true
    private var decided = false
    private let denseCount: Int
    private let categoricalCount: Int

    /// A reader for rows with `denseCount` integer and `categoricalCount` categorical columns.
    public init(denseCount: Int = 13, categoricalCount: Int = 26) {
        self.denseCount = denseCount
        self.categoricalCount = categoricalCount
        schema = .criteo(denseCount: denseCount, categoricalCount: categoricalCount)
    }

    /// Decides from the first row's column count whether the files are labeled (`train.txt`,
    /// 40 columns) or not (`test.txt`, 39); every file of one run must agree.
    public mutating func start(file: String, firstLine: UnsafeBufferPointer<UInt8>) throws(DataError) -> Bool {
        let columns = firstLine.reduce(1) { $0 + ($1 == ASCII.tab ? 1 : 0) }
        let features = denseCount + categoricalCount
        // 40 columns: train.txt; 39: test.txt. Any other count is a malformed row, reported
        // with its line by parse (or skipped with --skip-bad-rows) in a labeled file.
        let labeled = columns != features
        if decided && labeled != hasLabels {
            throw .badHeader(
                path: file,
                reason: "this file is \(labeled ? "labeled" : "unlabeled") but an earlier input was not; "
                    + "prepare labeled and unlabeled files separately")
        }
        hasLabels = labeled
        decided = true
        return false
    }

    /// Parses one row.
    public func parse(_ line: UnsafeBufferPointer<UInt8>, into rows: inout ParsedRows) throws(RowProblem) {
        let expected = denseCount + categoricalCount + (hasLabels ? 1 : 0)
        let firstFeature = hasLabels ? 1 : 0
        let firstCategorical = firstFeature + denseCount
        let n = line.count
        guard let base = line.baseAddress else { throw .columnCount(expected: "\(expected)", found: 1) }
        var column = 0
        var start = 0
        while true {
            // glibc's memchr scans with SIMD: much faster than a byte loop on 40 short fields.
            var end = n
            if start < n, let found = memchr(base + start, Int32(ASCII.tab), n - start) {
                end = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            }
            guard column < expected else {
                throw .columnCount(expected: "\(expected)", found: line.reduce(1) { $0 + ($1 == ASCII.tab ? 1 : 0) })
            }
            let value = line.slice(start..<end)
            if column >= firstCategorical {
                try rows.setCategorical(column - firstCategorical, bytes: value)
            } else if column >= firstFeature {
                if !value.isEmpty {
                    guard let number = NumberParser.parseFloat(value) else {
                        throw .notANumber(column: "I\(column - firstFeature + 1)", text: value)
                    }
                    guard number.isFinite else { throw .outOfRange(column: "I\(column - firstFeature + 1)", text: value) }
                    rows.setDense(column - firstFeature, number)
                }
            } else {
                guard let label = NumberParser.parseBinaryLabel(value) else { throw .badLabel(value) }
                rows.setLabel(label)
            }
            column += 1
            if end >= n { break }
            start = end + 1
        }
        guard column == expected else { throw .columnCount(expected: "\(expected)", found: column) }
    }
}
