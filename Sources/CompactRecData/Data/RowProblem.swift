#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What is wrong with one source row. `prepare` adds the file and line, and with
/// `--skip-bad-rows` counts rows by `kind`.
public struct RowProblem: Error, LocalizedError, Sendable, Equatable, CustomStringConvertible {
    /// A short, stable category (used to count skipped rows by reason).
    public var kind: String
    /// What exactly is wrong, naming the column and the value where that helps.
    public var detail: String

    /// Creates a problem.
    public init(kind: String, detail: String) {
        self.kind = kind
        self.detail = detail
    }

    /// The row has the wrong number of columns.
    public static func columnCount(expected: String, found: Int) -> RowProblem {
        RowProblem(kind: "wrong column count", detail: "expected \(expected) columns, found \(found)")
    }

    /// A numeric column holds something that is not a number.
    public static func notANumber(column: String, text: some Collection<UInt8>) -> RowProblem {
        RowProblem(kind: "non-numeric value", detail: "column \(column) should be a number but is \"\(RowProblem.quote(text))\"")
    }

    /// A numeric column holds a number too large for Float32 (it would become infinity).
    public static func outOfRange(column: String, text: some Collection<UInt8>) -> RowProblem {
        RowProblem(
            kind: "value out of range",
            detail: "column \(column) holds \"\(RowProblem.quote(text))\", beyond Float32's range (about 3.4e38)")
    }

    /// The label is not 0 or 1.
    public static func badLabel(_ text: some Collection<UInt8>, allowed: String = "0 or 1") -> RowProblem {
        RowProblem(kind: "bad label", detail: "the label should be \(allowed) but is \"\(RowProblem.quote(text))\"")
    }

    /// A printable, shortened rendering of raw bytes for messages.
    static func quote(_ bytes: some Collection<UInt8>) -> String {
        let text = String(decoding: bytes.prefix(60), as: UTF8.self)
        return bytes.count > 60 ? text + "..." : text
    }

    /// The message.
    public var description: String { detail }

    /// The message, for `LocalizedError`.
    public var errorDescription: String? { detail }
}
