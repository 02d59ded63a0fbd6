/// The raw formats `compactrec prepare` (and later `predict`) reads.
public enum InputFormatName: String, Sendable, Codable, CaseIterable {
    /// Criteo-Kaggle TSV (also the teacher generator's output).
    case criteo
    /// Avazu CSV with header.
    case avazu
    /// MovieLens ml-100k or ml-1m folder.
    case movielens
    /// libFM / libSVM / libFFM text.
    case libfm
    /// A delimited file described by a schema file.
    case schema
}

/// Builds the reader for a format.
public enum InputFormat {
    /// The reader for `name`, and the files it streams (a MovieLens folder becomes its ratings
    /// file).
    public static func make(
        _ name: InputFormatName, inputs: [String], schemaPath: String?,
        ratingThreshold: Int = 4, categoricalFields: Int = 26,
        libFMFields: Int? = nil, libFMLayout: LibFMFormat.Layout? = nil
    ) throws(DataError) -> (any LineFormat, [String]) {
        switch name {
        case .criteo:
            guard categoricalFields >= 1 else { throw .invalidOption("--categorical-fields must be at least 1") }
            return (CriteoFormat(categoricalCount: categoricalFields), inputs)
        case .avazu:
            return (AvazuFormat(), inputs)
        case .libfm:
            if let libFMFields, libFMFields < 1 { throw .invalidOption("--libfm-fields must be at least 1") }
            return (LibFMFormat(layout: libFMLayout, fieldCount: libFMFields), inputs)
        case .schema:
            guard let schemaPath else { throw .invalidOption("--format schema needs --schema FILE") }
            return (try DelimitedFormat(schemaPath: schemaPath), inputs)
        case .movielens:
            guard inputs.count == 1, let folder = inputs.first else {
                throw .invalidOption("--format movielens takes one input: the folder holding u.data (ml-100k) or ratings.dat (ml-1m)")
            }
            let format = try MovieLensFormat(folder: folder, ratingThreshold: ratingThreshold)
            return (format, [format.ratingsFile])
        }
    }
}
