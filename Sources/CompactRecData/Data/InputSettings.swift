/// How a dataset's raw rows are read: the format and the settings that shape its fields.
///
/// `prepare` records it in `dataset.json` and export copies it into the model file, so that
/// `compactrec predict` reads new raw rows exactly as training's rows were read (the same
/// columns, the same schema file, the same libFM layout), without the user repeating options.
public struct InputSettings: Codable, Sendable, Equatable {
    /// The format.
    public var format: InputFormatName
    /// `schema`: the schema file's contents (the file itself may be gone at prediction time).
    public var delimitedSchema: DelimitedSchemaFile?
    /// `movielens`: ratings at or above this are label 1.
    public var ratingThreshold: Int?
    /// `libfm`: the layout, when it was given (otherwise decided from each input's first line).
    public var libFMLayout: LibFMFormat.Layout?

    /// Settings of `format` with nothing else recorded.
    public init(
        format: InputFormatName, delimitedSchema: DelimitedSchemaFile? = nil, ratingThreshold: Int? = nil,
        libFMLayout: LibFMFormat.Layout? = nil
    ) {
        self.format = format
        self.delimitedSchema = delimitedSchema
        self.ratingThreshold = ratingThreshold
        self.libFMLayout = libFMLayout
    }

    /// The reader for new rows of a dataset with `schema`, and the files to stream: `inputs` as
    /// they are, or a MovieLens folder's ratings file. With `labelsOptional`, rows may lack the
    /// label column (Criteo's 39-column `test.txt`, an Avazu or schema-described file without
    /// the label column); the reader's `hasLabels` says which it found.
    public func reader(schema: Schema, inputs: [String], labelsOptional: Bool) throws(DataError) -> (any LineFormat, [String]) {
        switch format {
        case .criteo:
            return (CriteoFormat(denseCount: schema.dense.count, categoricalCount: schema.categorical.count), inputs)
        case .avazu:
            return (AvazuFormat(), inputs)
        case .libfm:
            return (LibFMFormat(layout: libFMLayout, fieldCount: max(1, schema.categorical.count)), inputs)
        case .schema:
            guard let delimitedSchema else {
                throw .invalidOption(
                    "the model does not record the schema file its dataset was prepared with; "
                        + "export it again with --schema FILE")
            }
            var reader = try DelimitedFormat(file: delimitedSchema, schemaPath: "(the model's schema file)")
            reader.labelRequired = !labelsOptional
            return (reader, inputs)
        case .movielens:
            guard inputs.count == 1, let folder = inputs.first else {
                throw .invalidOption(
                    "MovieLens rows are read from one folder (u.data with u.user and u.item, or ratings.dat "
                        + "with users.dat and movies.dat); give that folder as the only input")
            }
            let reader = try MovieLensFormat(folder: folder, ratingThreshold: ratingThreshold ?? 4)
            return (reader, [reader.ratingsFile])
        }
    }
}
