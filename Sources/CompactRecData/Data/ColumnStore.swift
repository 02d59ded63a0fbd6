/// A prepared dataset opened for reading: labels, dense values and category ids memory-mapped
/// straight from the column files, plus the manifest and vocabularies.
///
/// Opening checks every file's header and size against `dataset.json`, so a truncated or
/// mixed-up dataset fails at once with a message; `verifyChecksums()` also rehashes the data.
public final class ColumnStore: Sendable {
    /// The dataset directory.
    public let directory: String
    /// Its `dataset.json`.
    public let manifest: DatasetManifest
    /// Number of rows (all parts).
    public let rows: Int
    /// Field layout.
    public var schema: Schema { manifest.schema }
    /// The labels, one UInt8 a row.
    public let labelColumn: MappedColumn
    /// The split part of each row, one UInt8 a row.
    public let partColumn: MappedColumn
    /// The dense values, Float32, `schema.dense.count` a row.
    public let denseColumn: MappedColumn
    /// The categorical ids, UInt32, `schema.categorical.count` a row.
    public let categoricalColumn: MappedColumn
    /// Per multi-valued field, the UInt64 end offsets of each row's ids.
    public let multiOffsetColumns: [MappedColumn]
    /// Per multi-valued field, the UInt32 ids of every row.
    public let multiIDColumns: [MappedColumn]

    /// Opens the dataset in `directory`.
    public init(directory: String) throws(DataError) {
        self.directory = directory
        manifest = try DatasetManifest.load(directory: directory)
        rows = manifest.rows
        let schema = manifest.schema
        labelColumn = try MappedColumn(path: directory + "/labels.u8", element: .uint8, width: 1)
        partColumn = try MappedColumn(path: directory + "/split.u8", element: .uint8, width: 1)
        denseColumn = try MappedColumn(path: directory + "/dense.f32", element: .float32, width: schema.dense.count)
        categoricalColumn = try MappedColumn(path: directory + "/categorical.u32", element: .uint32, width: schema.categorical.count)
        var offsets: [MappedColumn] = []
        var ids: [MappedColumn] = []
        for name in schema.multiValued {
            offsets.append(try MappedColumn(path: directory + "/multi/\(name).offsets.u64", element: .uint64, width: 1))
            ids.append(try MappedColumn(path: directory + "/multi/\(name).ids.u32", element: .uint32, width: 1))
        }
        multiOffsetColumns = offsets
        multiIDColumns = ids
        for column in [labelColumn, partColumn, denseColumn, categoricalColumn] where column.rows != rows {
            throw .badDataset(path: column.path, reason: "has \(column.rows) rows but dataset.json says \(rows); prepare the dataset again")
        }
        for (offsetColumn, idColumn) in zip(offsets, ids) {
            let ends = offsetColumn.values(as: UInt64.self)
            guard offsetColumn.rows == rows + 1, ends.last.map({ Int($0) == idColumn.rows }) ?? false else {
                throw .badDataset(path: offsetColumn.path, reason: "offsets do not match \(idColumn.path); prepare the dataset again")
            }
        }
    }

    /// Rehashes every column file and compares with `dataset.json`; throws on the first mismatch.
    public func verifyChecksums() throws(DataError) {
        var columns: [(String, MappedColumn)] = [
            ("labels.u8", labelColumn), ("split.u8", partColumn),
            ("dense.f32", denseColumn), ("categorical.u32", categoricalColumn),
        ]
        for (m, name) in schema.multiValued.enumerated() {
            columns.append(("multi/\(name).offsets.u64", multiOffsetColumns[m]))
            columns.append(("multi/\(name).ids.u32", multiIDColumns[m]))
        }
        for (name, column) in columns {
            guard let expected = manifest.files[name]?.xxh64 else {
                throw .badDataset(path: column.path, reason: "dataset.json has no checksum for it")
            }
            guard hex64(column.checksum()) == expected else {
                throw .badDataset(path: column.path, reason: "checksum mismatch: the file is corrupt; prepare the dataset again")
            }
        }
    }

    /// The label (0 or 1) of `row`.
    public func label(_ row: Int) -> UInt8 { labelColumn.values(as: UInt8.self)[row] }

    /// The split part of `row`.
    public func part(_ row: Int) -> SplitPart { SplitPart(rawValue: Int(partColumn.values(as: UInt8.self)[row])) ?? .train }

    /// The transformed dense values of `row`.
    public func dense(_ row: Int) -> [Float] {
        let width = denseColumn.width
        return Array(denseColumn.values(as: Float.self)[row * width..<(row + 1) * width])
    }

    /// The category ids of `row`, one per categorical field.
    public func categoricalIDs(_ row: Int) -> [UInt32] {
        let width = categoricalColumn.width
        return Array(categoricalColumn.values(as: UInt32.self)[row * width..<(row + 1) * width])
    }

    /// The ids of multi-valued field `field` (index among multi-valued fields) in `row`.
    public func multiValuedIDs(field: Int, row: Int) -> [UInt32] {
        let ends = multiOffsetColumns[field].values(as: UInt64.self)
        return Array(multiIDColumns[field].values(as: UInt32.self)[Int(ends[row])..<Int(ends[row + 1])])
    }

    /// The indices of the rows in `part`, in file order.
    public func rowIndices(of part: SplitPart) -> [Int] {
        let parts = partColumn.values(as: UInt8.self)
        let wanted = UInt8(part.rawValue)
        var indices: [Int] = []
        indices.reserveCapacity(manifest.split.rows[part.name] ?? 0)
        for row in 0..<rows where parts[row] == wanted { indices.append(row) }
        return indices
    }

    /// The vocabularies of the categorical and multi-valued fields, in schema order.
    public func vocabularies() throws(DataError) -> [Vocabulary] {
        try VocabularyFile.read(path: directory + "/vocabulary.bin")
    }
}
