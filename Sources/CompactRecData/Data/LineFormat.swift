/// A text format read one line per row: Criteo TSV, Avazu CSV, MovieLens ratings, libFM and
/// schema-described delimited files all conform.
///
/// The preparer reads files in large blocks, cuts them into lines (CR LF or LF, last line with
/// or without a newline) and calls `parse` from several threads at once, so `parse` must not
/// mutate the format; per-file state (a header's column positions) is set up in `start`.
public protocol LineFormat: Sendable {
    /// The fields this format produces, in model order.
    var schema: Schema { get }
    /// Whether rows carry a label (Criteo's unlabeled `test.txt` does not).
    var hasLabels: Bool { get }
    /// Sees each file's first line before any row is parsed; returns true when that line is a
    /// header to be skipped rather than a row.
    mutating func start(file: String, firstLine: UnsafeBufferPointer<UInt8>) throws(DataError) -> Bool
    /// Parses one line (without its line break) into the open row of `rows`.
    func parse(_ line: UnsafeBufferPointer<UInt8>, into rows: inout ParsedRows) throws(RowProblem)
}

/// ASCII bytes the readers look for.
enum ASCII {
    static let tab = UInt8(ascii: "\t")
    static let comma = UInt8(ascii: ",")
    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static let quote = UInt8(ascii: "\"")
    static let colon = UInt8(ascii: ":")
    static let space = UInt8(ascii: " ")
    static let pipe = UInt8(ascii: "|")
    static let minus = UInt8(ascii: "-")
    static let plus = UInt8(ascii: "+")
    static let dot = UInt8(ascii: ".")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// The sub-buffer `range` (no copy).
    @inline(__always)
    public func slice(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: self[range])
    }

    /// The line without leading and trailing spaces.
    func trimmingSpaces() -> UnsafeBufferPointer<UInt8> {
        var start = 0
        var end = count
        while start < end && (self[start] == ASCII.space || self[start] == ASCII.tab) { start += 1 }
        while end > start && (self[end - 1] == ASCII.space || self[end - 1] == ASCII.tab) { end -= 1 }
        return slice(start..<end)
    }
}
