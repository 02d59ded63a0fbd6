#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Errors reading, preparing or loading data. Each message names the file (and line) and says
/// what to do.
public enum DataError: Error, LocalizedError, Sendable, Equatable {
    /// The input file does not exist.
    case fileNotFound(path: String)
    /// The input exists but cannot be read (permissions, a directory, an I/O error).
    case unreadable(path: String, reason: String)
    /// The input file has no rows.
    case emptyFile(path: String)
    /// One row is malformed.
    case badRow(path: String, line: Int, problem: RowProblem)
    /// The file's header or first line does not fit the format.
    case badHeader(path: String, reason: String)
    /// A schema file is invalid or names a column that the data does not have.
    case badSchema(path: String, reason: String)
    /// A prepared dataset directory is missing, incomplete, corrupt or of a newer version.
    case badDataset(path: String, reason: String)
    /// Writing output failed.
    case writeFailed(path: String, reason: String)
    /// The command-line options do not fit together.
    case invalidOption(String)

    /// The message shown to the user.
    public var errorDescription: String? {
        switch self {
        case .fileNotFound(let path):
            "\(path): no such file. Check the path (relative paths are taken from the current directory)."
        case .unreadable(let path, let reason):
            "\(path): cannot be read: \(reason)."
        case .emptyFile(let path):
            "\(path): the file is empty, so there are no rows to read."
        case .badRow(let path, let line, let problem):
            "\(path):\(line): \(problem.detail). Fix the row, or pass --skip-bad-rows to skip bad rows and count them."
        case .badHeader(let path, let reason):
            "\(path): \(reason)."
        case .badSchema(let path, let reason):
            "\(path): \(reason)."
        case .badDataset(let path, let reason):
            "\(path): \(reason)."
        case .writeFailed(let path, let reason):
            "\(path): cannot write: \(reason)."
        case .invalidOption(let message):
            message
        }
    }
}
