import Foundation

@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

/// Paths the tests read: hand-written fixtures in the test bundle, and the real dataset samples
/// in `../shared/data/` beside the repository (never copied into it).
enum TestData {
    /// The fixtures folder (`Tests/CompactRecTests/Fixtures/files`).
    static var fixtures: String {
        Bundle.module.url(forResource: "files", withExtension: nil)?.path
            ?? packageRoot + "/Tests/CompactRecTests/Fixtures/files"
    }

    static func fixture(_ relative: String) -> String { fixtures + "/" + relative }

    static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// The real samples: `$COMPACTREC_SHARED_DATA`, or `../shared/data` beside the package.
    static var sharedData: String {
        ProcessInfo.processInfo.environment["COMPACTREC_SHARED_DATA"] ?? packageRoot + "/../shared/data"
    }

    static func shared(_ relative: String) -> String { sharedData + "/" + relative }

    static func hasShared(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: shared(relative)) }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "compactrec-tests-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Writes `text` to a new file in `directory`.
    @discardableResult
    static func write(_ text: String, to name: String, in directory: String) -> String {
        let path = directory + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }
}

/// Reads all rows of `paths` with `format`.
func readRows<F: LineFormat>(_ format: F, _ paths: String...) throws -> [RawRow] {
    var reader = format
    return try RowFileReader.readAll(&reader, paths: paths)
}

/// The split of a file's lines into tab/comma fields, for comparing with parsed rows.
func sourceLines(_ path: String) throws -> [String] {
    let text = try String(contentsOfFile: path, encoding: .isoLatin1)
    return text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        .map(String.init).filter { !$0.isEmpty }
}
