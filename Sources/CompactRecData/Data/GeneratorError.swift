#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Errors of the synthetic teacher data generator (`compactrec generate`): options that do not
/// fit together, and output that cannot be written. Each message says what to change.
public enum GeneratorError: Error, LocalizedError, Sendable, Equatable {
    /// `--rows` is zero or negative.
    case invalidRows(Int)
    /// `--fields` is zero, negative or absurdly large.
    case invalidFieldCount(Int, limit: Int)
    /// A per-field list (`--cardinalities`, `--ranks`) has the wrong number of entries.
    case listLength(option: String, count: Int, fields: Int)
    /// A per-field list is not a comma-separated list of integers.
    case badList(option: String, text: String)
    /// A categorical field would have fewer than two values.
    case cardinalityTooSmall(field: String, value: Int)
    /// A categorical field would have more values than the generator supports.
    case cardinalityTooLarge(field: String, value: Int, limit: Int)
    /// A useful rank is negative.
    case negativeRank(field: String, value: Int)
    /// A useful rank exceeds the teacher's embedding dimension.
    case rankTooLarge(field: String, value: Int, limit: Int)
    /// Another setting is out of range (click rate, chunk size, threads...).
    case invalidSetting(String)
    /// The output's directory does not exist.
    case outputDirectoryMissing(path: String, directory: String)
    /// Writing the data or the truth file failed.
    case writeFailed(path: String, reason: String)

    /// The message shown to the user.
    public var errorDescription: String? {
        switch self {
        case .invalidRows(let rows):
            "--rows must be at least 1 (got \(rows)). Pass the number of rows to generate, e.g. --rows 1000000."
        case .invalidFieldCount(let fields, let limit):
            "--fields must be between 1 and \(limit) (got \(fields)). It is the number of categorical columns; the 13 dense columns are always written."
        case .listLength(let option, let count, let fields):
            "\(option) has \(count) values but --fields is \(fields). Give one value per categorical field, or a single value for all fields."
        case .badList(let option, let text):
            "\(option) '\(text)' is not a comma-separated list of integers, e.g. \(option) \(option == "--ranks" ? "4,0,8" : "10,1000,100000")."
        case .cardinalityTooSmall(let field, let value):
            "field \(field): cardinality \(value) is too small. Every categorical field needs at least 2 values (--cardinalities)."
        case .cardinalityTooLarge(let field, let value, let limit):
            "field \(field): cardinality \(value) exceeds the generator's limit of \(limit) values a field (--cardinalities)."
        case .negativeRank(let field, let value):
            "field \(field): rank \(value) is negative. Use 0 for a noise field, or a useful rank from 1 to 32 (--ranks)."
        case .rankTooLarge(let field, let value, let limit):
            "field \(field): rank \(value) exceeds the teacher's embedding dimension \(limit). Use 0 (noise) to \(limit) (--ranks)."
        case .invalidSetting(let message):
            message
        case .outputDirectoryMissing(let path, let directory):
            "\(path): cannot write: the directory \(directory) does not exist. Create it first (mkdir -p \(directory)) or choose another --output."
        case .writeFailed(let path, let reason):
            "\(path): cannot write: \(reason)."
        }
    }
}
