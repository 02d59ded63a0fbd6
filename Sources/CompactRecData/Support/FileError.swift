#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A file that could not be read or written whole (`AtomicFile`, `AtomicFileWriter`); the
/// layers above turn it into their own errors (a checkpoint that cannot be resumed, a model
/// file that cannot be read), keeping the path and the reason.
public enum FileError: Error, LocalizedError, Sendable, Equatable {
    /// The file is missing, empty or unreadable.
    case unreadable(path: String, reason: String)
    /// The file could not be written (or renamed into place).
    case writeFailed(path: String, reason: String)

    /// The file.
    public var path: String {
        switch self {
        case .unreadable(let path, _), .writeFailed(let path, _): path
        }
    }

    /// Why, without the path.
    public var reason: String {
        switch self {
        case .unreadable(_, let reason), .writeFailed(_, let reason): reason
        }
    }

    /// The message.
    public var errorDescription: String? {
        switch self {
        case .unreadable(let path, let reason): "\(path): \(reason)"
        case .writeFailed(let path, let reason): "\(path): cannot write: \(reason)"
        }
    }
}
