import CompactRec
import CompactRecData
import CompactRecInference

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Writes a warning line to stderr.
func warn(_ message: String) {
    printToStandardError("warning: \(message)\n")
}

/// Pretty, key-sorted JSON of `value`.
func jsonString<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// `part / whole` as a percentage with one decimal.
func percent(_ part: Int, _ whole: Int) -> String {
    whole == 0 ? "-" : ProgressBar.fixed(100 * Double(part) / Double(whole), 1) + "%"
}

extension String {
    /// Pads on the right to `width` characters.
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
    /// Pads on the left to `width` characters.
    func leftPadding(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
