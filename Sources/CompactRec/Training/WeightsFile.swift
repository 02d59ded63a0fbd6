import CompactRecData

/// The best weights of a run (`best.weights` in the run directory): configuration, the step
/// and validation metrics they were kept at, and the values. `compactrec evaluate` reads it.
///
/// Layout: magic `CRWEIGHT`, UInt32 version, a length-prefixed JSON header, the weights, then
/// an XXH64 checksum of everything before it.
public struct WeightsFile: Sendable {
    static let magic = Array("CRWEIGHT".utf8)
    /// The version this build writes (and the newest it reads): 3 stores the embedding method as
    /// a value; 2 names every table and parameter; version 1 files (values in the model's order)
    /// are still read.
    public static let version: UInt32 = 3

    /// What the JSON header holds.
    public struct Header: Codable, Sendable, Equatable {
        /// The run's configuration.
        public var configuration: RunConfiguration
        /// The step the weights are from.
        public var step: Int
        /// Their validation metrics (nil if the run had no validation rows).
        public var validation: Evaluation?
    }

    /// The header.
    public var header: Header
    /// The values.
    public var weights: ModelWeights

    /// A weights file for `weights` taken at `step` with `validation` metrics.
    public init(configuration: RunConfiguration, step: Int, validation: Evaluation?, weights: ModelWeights) {
        header = Header(configuration: configuration, step: step, validation: validation)
        self.weights = weights
    }

    /// Writes the file to `path` atomically.
    public func write(to path: String) throws(TrainingError) {
        var writer = ByteWriter()
        writer.append(WeightsFile.magic)
        writer.append(WeightsFile.version)
        writer.append(string: try jsonText(header))
        weights.encode(into: &writer)
        writer.appendChecksum()
        try AtomicFile.writeRunFile(writer.bytes, to: path)
    }

    /// Reads the file at `path`.
    public static func read(from path: String) throws(TrainingError) -> WeightsFile {
        let bytes = try AtomicFile.readRunFile(path, what: "weights")
        do throws(DataError) {
            var (reader, fileVersion) = try StateFileHeader.open(bytes, path: path, magic: magic, version: version, kind: "weights")
            let header: Header = try decodeJSON(try reader.string(), path: path)
            return WeightsFile(header: header, weights: try ModelWeights.decode(from: &reader, named: fileVersion >= 2))
        } catch {
            throw .badCheckpoint(path: path, reason: error.reason)
        }
    }

    private init(header: Header, weights: ModelWeights) {
        self.header = header
        self.weights = weights
    }
}
