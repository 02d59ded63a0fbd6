#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `dataset.json`: what a prepared dataset holds and how it was made. Written last, so a
/// directory without it is not a dataset (an interrupted prepare never looks complete).
public struct DatasetManifest: Codable, Sendable, Equatable {
    /// Identifies the file kind.
    public var format = "compactrec-dataset"
    /// Incremented on incompatible changes; readers refuse newer versions.
    public var formatVersion = DatasetManifest.currentVersion
    /// The version this build writes and reads.
    public static let currentVersion = 1
    /// The program that wrote it.
    public var createdBy: String
    /// The raw input.
    public var source: Source
    /// Fields in model order.
    public var schema: Schema
    /// Vocabulary and dense settings, needed again at prediction time.
    public var preprocessing: Preprocessing
    /// Rows and clicks, in total and per split part.
    public var split: SplitSummary
    /// Per-field statistics (cardinality, missing and OOV rows).
    public var fields: [FieldSummary]
    /// Checksums and sizes of the binary files.
    public var files: [String: FileSummary]

    /// The raw input files and what reading them found.
    public struct Source: Codable, Sendable, Equatable {
        /// The format name (criteo, avazu, movielens, libfm, schema).
        public var format: String
        /// Each input file with its size and XXH64.
        public var files: [FileSummary]
        /// Data lines read (headers excluded; blank and skipped lines included).
        public var lines: Int
        /// Blank lines ignored.
        public var blankLines: Int
        /// Rows skipped with --skip-bad-rows, by reason.
        public var skippedRows: [String: Int]
        /// How the rows were read (absent in datasets prepared before it was recorded).
        public var settings: InputSettings? = nil
    }

    /// Settings that prediction must apply identically.
    public struct Preprocessing: Codable, Sendable, Equatable {
        /// Values seen fewer times than this in training rows map to the OOV id.
        public var minCount: Int
        /// Which rows the vocabulary counts ("train").
        public var vocabularyFrom: String
        /// The dense transform.
        public var denseTransform: DenseTransform
        /// The model input for a missing dense value.
        public var denseMissingValue: Float
        /// Id of out-of-vocabulary values.
        public var oovID: UInt32
        /// Id of missing values.
        public var missingID: UInt32
    }

    /// How rows were divided.
    public struct SplitSummary: Codable, Sendable, Equatable {
        /// "random" or "sequential".
        public var kind: String
        /// The seed of a random split.
        public var seed: UInt64?
        /// Rows per part: train, validation, test.
        public var rows: [String: Int]
        /// Clicks (label 1) per part.
        public var positives: [String: Int]
    }

    /// Statistics of one field.
    public struct FieldSummary: Codable, Sendable, Equatable {
        /// The field's name.
        public var name: String
        /// Its kind.
        public var kind: FieldKind
        /// Embedding rows needed (OOV + missing + kept values); nil for dense fields.
        public var cardinality: Int?
        /// Distinct values seen in all rows (before --min-count); nil for dense fields.
        public var distinctValues: Int?
        /// Rows where the field is missing (all parts).
        public var missingRows: Int
        /// Rows mapped to the OOV id, per part (categorical fields).
        public var oovRows: [String: Int]?
        /// Multi-valued fields: values in all rows, and how many of them map to the OOV id.
        public var values: Int?
        /// Multi-valued fields: values mapped to the OOV id (all parts).
        public var oovValues: Int?
    }

    /// Size and checksum of a file.
    public struct FileSummary: Codable, Sendable, Equatable {
        /// Path (relative to the dataset for its own files; as given for sources).
        public var path: String
        /// Size in bytes.
        public var bytes: Int
        /// XXH64 of the file (for column files: of the data after the 64-byte header), as 16 hex digits.
        public var xxh64: String
    }

    /// Total rows.
    public var rows: Int { split.rows.values.reduce(0, +) }

    /// Loads and checks `dataset.json` in `directory`.
    public static func load(directory: String) throws(DataError) -> DatasetManifest {
        let path = directory + "/dataset.json"
        guard FileManager.default.fileExists(atPath: directory) else {
            throw .badDataset(
                path: directory, reason: "no such directory; prepare a dataset there first (compactrec prepare --output \(directory) ...)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .badDataset(
                path: directory,
                reason: "has no dataset.json: it is not a prepared dataset, or its prepare did not finish; run compactrec prepare again")
        }
        let manifest: DatasetManifest
        do {
            manifest = try JSONDecoder().decode(DatasetManifest.self, from: data)
        } catch {
            throw .badDataset(path: path, reason: "is not a valid dataset manifest (\(error)); prepare the dataset again")
        }
        guard manifest.format == "compactrec-dataset" else {
            throw .badDataset(path: path, reason: "is not a CompactRec dataset manifest")
        }
        guard manifest.formatVersion <= currentVersion else {
            throw .badDataset(
                path: path,
                reason:
                    "dataset format version \(manifest.formatVersion) is newer than this compactrec reads (\(currentVersion)); upgrade compactrec"
            )
        }
        return manifest
    }

    /// The manifest as pretty, stable JSON.
    public func encoded() throws(DataError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { return [UInt8](try encoder.encode(self)) } catch {
            throw .writeFailed(path: "dataset.json", reason: "cannot encode the manifest: \(error)")
        }
    }
}

/// Formats a checksum as 16 lower-case hex digits.
func hex64(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}
