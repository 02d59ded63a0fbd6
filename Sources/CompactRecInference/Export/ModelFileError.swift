import CompactRec
import CompactRecData

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Why a model file (`.crmodel`) could not be read or written, or a model could not be
/// exported: each message names the file and says what to do.
public enum ModelFileError: Error, LocalizedError, Sendable, Equatable {
    /// The file does not exist or cannot be read.
    case unreadable(path: String, reason: String)
    /// The file does not start with the model file's magic string: it is another kind of file.
    case notAModelFile(path: String)
    /// The file was written by a newer CompactRec in a format version this build does not read.
    case newerVersion(path: String, version: UInt32, supported: UInt32)
    /// The file is shorter than its header says: an interrupted copy or download.
    case truncated(path: String, bytes: Int, expected: Int)
    /// The file's checksum or contents do not match: its bytes were damaged.
    case corrupt(path: String, reason: String)
    /// The model file cannot be made from the given run or dataset.
    case cannotExport(path: String, reason: String)
    /// Writing the file failed.
    case writeFailed(path: String, reason: String)

    /// The message shown to the user.
    public var errorDescription: String? {
        switch self {
        case .unreadable(let path, let reason):
            "\(path): cannot read the model file: \(reason)"
        case .notAModelFile(let path):
            "\(path): not a CompactRec model file (it does not start with CRMODELF); export one with compactrec export"
        case .newerVersion(let path, let version, let supported):
            "\(path): model file format version \(version) is newer than this compactrec reads (\(supported)); upgrade compactrec"
        case .truncated(let path, let bytes, let expected):
            "\(path): truncated: the file has \(bytes) bytes but its header says \(expected); copy or export it again"
        case .corrupt(let path, let reason):
            "\(path): corrupt: \(reason); copy or export it again"
        case .cannotExport(let path, let reason):
            "\(path): cannot export: \(reason)"
        case .writeFailed(let path, let reason):
            "\(path): cannot write: \(reason)"
        }
    }
}
