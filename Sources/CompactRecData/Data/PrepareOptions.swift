/// Settings of `compactrec prepare`.
public struct PrepareOptions: Sendable {
    /// Values seen fewer times than this in training rows map to the field's OOV id.
    public var minCount = 1
    /// How rows are divided into train, validation and test.
    public var split: DataSplit = .random(seed: 42)
    /// Skip malformed rows (counting them by reason) instead of stopping at the first.
    public var skipBadRows = false
    /// The dense transform.
    public var denseTransform: DenseTransform = .log1p
    /// The model input for a missing dense value (after the transform).
    public var denseMissingValue: Float = 0
    /// Threads to parse and count with.
    public var threads = Parallel.defaultThreads
    /// Replace an existing dataset at the output path.
    public var replaceExisting = false
    /// Bytes read per block (each block is split between the threads).
    public var blockSize = 8 << 20
    /// How the inputs are read, recorded in `dataset.json` so that prediction reads new rows
    /// the same way (nil: not recorded).
    public var input: InputSettings?

    /// The defaults: min count 1, random 80/10/10 split with seed 42, log1p dense transform.
    public init() {}
}

/// Where a running prepare is, for a progress bar.
public struct PrepareProgress: Sendable {
    /// "reading" while parsing the inputs, "finishing" while remapping ids.
    public var stage: String
    /// Input bytes read so far (or, while finishing, rows remapped).
    public var done: Int
    /// Input bytes in all (or rows in all).
    public var total: Int
    /// Rows read so far.
    public var rows: Int
}

/// What a finished prepare did.
public struct PrepareReport: Sendable {
    /// The written `dataset.json`.
    public var manifest: DatasetManifest
    /// Wall-clock seconds.
    public var seconds: Double
    /// Input bytes read.
    public var inputBytes: Int
    /// Peak resident memory of the process, in bytes.
    public var peakResidentBytes: Int
    /// The first few skipped rows, as "file:line: reason".
    public var skippedExamples: [String]
}
