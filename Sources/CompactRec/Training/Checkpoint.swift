import CompactRecData

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A training run's whole state at one step: configuration, cursor, weights and both
/// optimizers' state. Written atomically at every evaluation (and on interruption) to
/// `checkpoint.bin` in the run directory; `--resume` continues from it bit for bit.
///
/// Layout: magic `CRCHECKP`, UInt32 version, a length-prefixed JSON header (configuration,
/// cursor and, for a search, its schedule's state), the weights, the sparse optimizer's step
/// and state arrays, the dense optimizer's, then an XXH64 checksum of everything before it.
/// Version 3 names every table and parameter (`ModelWeights`); versions 1 (training) and 2 (a
/// search, whose header also holds the schedule's state) hold them in the model's order and are
/// still read.
public struct Checkpoint: Sendable {
    /// The file's magic string.
    public static let magic = Array("CRCHECKP".utf8)
    /// The version this build writes (and the newest it reads): 4 stores the model's embedding
    /// method as a value (`ModelConfiguration.embedding`); version 3's per-field and inner
    /// widths decode to the same method.
    public static let version: UInt32 = 4
    /// The first version whose weights carry names.
    static let namedVersion: UInt32 = 3

    /// What the JSON header holds.
    struct Header: Codable {
        var configuration: RunConfiguration
        var cursor: TrainerCursor
        var scheduleState: String?
    }

    /// The run's configuration.
    public var configuration: RunConfiguration
    /// Where the run was.
    public var cursor: TrainerCursor
    /// The model's values.
    public var weights: ModelWeights
    /// The sparse optimizer's step and per-table state arrays.
    var sparseState: OptimizerState
    /// The dense optimizer's step and per-parameter moments.
    var denseState: OptimizerState
    /// The training schedule's own state (`TrainingSchedule.checkpointState`; nil for plain
    /// training).
    var scheduleState: String?

    /// The bytes of the file.
    func encoded() throws(TrainingError) -> [UInt8] {
        var writer = ByteWriter()
        writer.append(Checkpoint.magic)
        writer.append(Checkpoint.version)
        writer.append(string: try jsonText(Header(configuration: configuration, cursor: cursor, scheduleState: scheduleState)))
        weights.encode(into: &writer)
        sparseState.encode(into: &writer)
        denseState.encode(into: &writer)
        writer.appendChecksum()
        return writer.bytes
    }

    /// Writes the checkpoint to `path` atomically.
    public func write(to path: String) throws(TrainingError) {
        try AtomicFile.writeRunFile(try encoded(), to: path)
    }

    /// Reads the checkpoint at `path`.
    public static func read(from path: String) throws(TrainingError) -> Checkpoint {
        let bytes = try AtomicFile.readRunFile(path, what: "checkpoint")
        do throws(DataError) {
            var (reader, fileVersion) = try StateFileHeader.open(bytes, path: path, magic: magic, version: version, kind: "checkpoint")
            let header: Header = try decodeJSON(try reader.string(), path: path)
            let weights = try ModelWeights.decode(from: &reader, named: fileVersion >= namedVersion)
            let sparse = try OptimizerState.decode(from: &reader)
            let dense = try OptimizerState.decode(from: &reader)
            return Checkpoint(
                configuration: header.configuration, cursor: header.cursor, weights: weights,
                sparseState: sparse, denseState: dense, scheduleState: header.scheduleState)
        } catch {
            throw .badCheckpoint(path: path, reason: error.reason)
        }
    }
}

/// An optimizer's step count and state arrays.
struct OptimizerState: Sendable {
    var step: Int
    var first: [[Float]]
    var second: [[Float]]

    func encode(into writer: inout ByteWriter) {
        writer.append(UInt64(step))
        for arrays in [first, second] {
            writer.append(UInt64(arrays.count))
            for array in arrays {
                writer.append(UInt64(array.count))
                writer.append(floats: array)
            }
        }
    }

    static func decode(from reader: inout ByteReader) throws(DataError) -> OptimizerState {
        let step = try reader.count()
        var both: [[[Float]]] = []
        for _ in 0..<2 {
            var arrays: [[Float]] = []
            for _ in 0..<(try reader.count()) { arrays.append(try reader.floats(try reader.count())) }
            both.append(arrays)
        }
        return OptimizerState(step: step, first: both[0], second: both[1])
    }
}

extension SparseOptimizer {
    /// The step and state arrays, for checkpoints.
    var state: OptimizerState { OptimizerState(step: step, first: firstState, second: secondState) }

    /// Restores `state`; false if its arrays do not match this optimizer's.
    func restore(_ state: OptimizerState) -> Bool {
        guard state.first.map(\.count) == firstState.map(\.count), state.second.map(\.count) == secondState.map(\.count) else {
            return false
        }
        step = state.step
        firstState = state.first
        secondState = state.second
        return true
    }
}

extension DenseOptimizer {
    /// The step and moments, for checkpoints.
    var state: OptimizerState { OptimizerState(step: step, first: firstMoments, second: secondMoments) }

    /// Restores `state`; false if its arrays do not match this optimizer's.
    func restore(_ state: OptimizerState) -> Bool {
        guard state.first.map(\.count) == firstMoments.map(\.count), state.second.map(\.count) == secondMoments.map(\.count) else {
            return false
        }
        step = state.step
        firstMoments = state.first
        secondMoments = state.second
        return true
    }
}

/// Magic and version checks shared by checkpoints and weight files.
enum StateFileHeader {
    /// A reader positioned after the magic and version, once the checksum has been verified,
    /// and the file's version.
    static func open(
        _ bytes: [UInt8], path: String, magic: [UInt8], version: UInt32,
        kind: String
    ) throws(DataError) -> (reader: ByteReader, version: UInt32) {
        var reader = ByteReader(bytes: bytes, path: path)
        guard bytes.count >= magic.count + 4, Array(try reader.bytes(magic.count)) == magic else {
            throw reader.corrupt("not a CompactRec \(kind) file (its first bytes are not \(String(decoding: magic, as: UTF8.self)))")
        }
        let fileVersion = try reader.uint32()
        guard fileVersion <= version else {
            throw reader.corrupt("\(kind) version \(fileVersion) is newer than this build reads (\(version)); upgrade compactrec")
        }
        try reader.verifyChecksumTrailer()
        return (reader, fileVersion)
    }
}

/// JSON helpers for the headers of state files.
public func jsonText(_ value: some Encodable) throws(TrainingError) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    do {
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    } catch {
        throw .writeFailed(path: "(JSON header)", reason: "\(error)")
    }
}

public func decodeJSON<T: Decodable>(_ text: String, path: String) throws(DataError) -> T {
    do {
        return try JSONDecoder().decode(T.self, from: Data(text.utf8))
    } catch {
        throw .badDataset(path: path, reason: "its header is not valid: \(error)")
    }
}

extension DataError {
    /// The reason part of a file error (the path is added by the caller).
    public var reason: String {
        if case .badDataset(_, let reason) = self { return reason }
        return errorDescription ?? "\(self)"
    }
}
