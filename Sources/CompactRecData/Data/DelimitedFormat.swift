import Yams

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The schema file of a generic delimited input (YAML, or JSON which is also YAML):
///
/// ```yaml
/// delimiter: ","          # one character, or "tab"; default ","
/// header: true            # default true; without a header, `columns` names the columns
/// quoted: true            # RFC 4180 double quotes; default true
/// columns: [a, b, c]      # only for header: false
/// label: click            # a column holding 0/1
/// dense: [price]          # numeric columns
/// categorical: [site, ad]
/// multi_valued:
///   - {name: genres, separator: "|"}
/// ```
/// Columns not named are ignored.
public struct DelimitedSchemaFile: Codable, Sendable, Equatable {
    /// The column delimiter: one character, or "tab", "comma", "semicolon", "space", "pipe".
    public var delimiter: String?
    /// Whether the first line of each file names the columns.
    public var header: Bool?
    /// Whether fields may be double-quoted.
    public var quoted: Bool?
    /// Column names for files without a header.
    public var columns: [String]?
    /// The label column.
    public var label: String
    /// Numeric columns.
    public var dense: [String]?
    /// Single-valued categorical columns.
    public var categorical: [String]?
    /// Multi-valued categorical columns and their separators.
    public var multiValued: [MultiValuedColumn]?

    /// A multi-valued column: its name and the character between its values.
    public struct MultiValuedColumn: Codable, Sendable, Equatable {
        /// Column name.
        public var name: String
        /// One character separating values, e.g. "|".
        public var separator: String
    }

    enum CodingKeys: String, CodingKey {
        case delimiter, header, quoted, columns, label, dense, categorical
        case multiValued = "multi_valued"
    }

    /// Loads a schema file; a missing file or invalid content names the file and the problem.
    public static func load(path: String) throws(DataError) -> DelimitedSchemaFile {
        let text: String
        var isDirectory = false
        if FileManager.default.fileExists(atPath: path) {
            isDirectory = (try? FileManager.default.contentsOfDirectory(atPath: path)) != nil
        }
        guard !isDirectory else { throw .unreadable(path: path, reason: "it is a directory, not a schema file") }
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            if !FileManager.default.fileExists(atPath: path) { throw .fileNotFound(path: path) }
            throw .unreadable(path: path, reason: "not readable as UTF-8 text")
        }
        do {
            return try YAMLDecoder().decode(DelimitedSchemaFile.self, from: text)
        } catch {
            throw .badSchema(path: path, reason: "not a valid schema file (\(error)); see docs/FORMATS.md for its keys")
        }
    }
}

/// A delimited text file described by a `DelimitedSchemaFile`.
public struct DelimitedFormat: LineFormat {
    /// Dense, categorical and multi-valued columns as the schema file lists them.
    public let schema: Schema
    /// Whether rows carry the label column: true for training data; a file read for
    /// prediction (`labelRequired` false) may lack it.
    public private(set) var hasLabels = true
    /// Whether the label column must be present (prediction sets it to false).
    public var labelRequired = true
    private let file: DelimitedSchemaFile
    private let schemaPath: String
    private let delimiter: UInt8
    private let quoted: Bool
    private var roles: [Role] = []
    private var columnNames: [String]?

    private enum Role: Sendable {
        case ignored
        case label
        case dense(Int)
        case categorical(Int)
        case multiValued(Int, separator: UInt8)
    }

    /// Creates a reader from the schema file at `schemaPath`.
    public init(schemaPath: String) throws(DataError) {
        try self.init(file: DelimitedSchemaFile.load(path: schemaPath), schemaPath: schemaPath)
    }

    /// Creates a reader from an already loaded schema (its path is used in messages).
    public init(file: DelimitedSchemaFile, schemaPath: String) throws(DataError) {
        self.file = file
        self.schemaPath = schemaPath
        delimiter = try DelimitedFormat.byte(of: file.delimiter ?? ",", key: "delimiter", schemaPath: schemaPath)
        quoted = file.quoted ?? true
        schema = Schema(
            dense: file.dense ?? [], categorical: file.categorical ?? [],
            multiValued: (file.multiValued ?? []).map(\.name))
        let named = [file.label] + schema.dense + schema.categorical + schema.multiValued
        if let duplicate = Dictionary(grouping: named, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw .badSchema(path: schemaPath, reason: "column '\(duplicate)' is named twice; each column may have one role")
        }
        if file.header == false {
            guard let columns = file.columns, !columns.isEmpty else {
                throw .badSchema(path: schemaPath, reason: "'header: false' needs 'columns:' listing the column names in file order")
            }
            roles = try assignRoles(columns: columns, dataFile: nil)
            columnNames = columns
        }
    }

    private static func byte(of text: String, key: String, schemaPath: String) throws(DataError) -> UInt8 {
        let named = ["tab": "\t", "comma": ",", "semicolon": ";", "space": " ", "pipe": "|"]
        let character = named[text] ?? text
        guard character.utf8.count == 1, let byte = character.utf8.first else {
            throw .badSchema(
                path: schemaPath, reason: "'\(key)' must be one ASCII character or tab/comma/semicolon/space/pipe, not \"\(text)\"")
        }
        return byte
    }

    private func assignRoles(columns: [String], dataFile: String?) throws(DataError) -> [Role] {
        var roles = [Role](repeating: .ignored, count: columns.count)
        func position(_ name: String, _ role: String) throws(DataError) -> Int {
            guard let index = columns.firstIndex(of: name) else {
                let source = dataFile.map { "the header of \($0)" } ?? "'columns:'"
                throw .badSchema(
                    path: schemaPath,
                    reason: "column '\(name)' (\(role)) is not in \(source); "
                        + "the columns are: \(columns.joined(separator: ", "))")
            }
            return index
        }
        if labelRequired || columns.contains(file.label) {
            roles[try position(file.label, "label")] = .label
        }
        for (i, name) in schema.dense.enumerated() { roles[try position(name, "dense")] = .dense(i) }
        for (i, name) in schema.categorical.enumerated() { roles[try position(name, "categorical")] = .categorical(i) }
        for (i, column) in (file.multiValued ?? []).enumerated() {
            let separator = try DelimitedFormat.byte(of: column.separator, key: "separator of \(column.name)", schemaPath: schemaPath)
            roles[try position(column.name, "multi_valued")] = .multiValued(i, separator: separator)
        }
        return roles
    }

    /// Reads the header (when the schema says there is one) and maps columns to fields.
    public mutating func start(file path: String, firstLine: UnsafeBufferPointer<UInt8>) throws(DataError) -> Bool {
        guard file.header ?? true else {
            // Without a header, a prediction file may leave out the label column: one column fewer.
            if !labelRequired, let columns = file.columns {
                let found =
                    (try? DelimitedLine.forEachField(firstLine, delimiter: delimiter, quoted: quoted) { (_, _) throws(RowProblem) in }) ?? 0
                hasLabels = found != columns.count - 1
                let kept = hasLabels ? columns : columns.filter { $0 != file.label }
                roles = try assignRoles(columns: kept, dataFile: nil)
                columnNames = kept
            }
            return false
        }
        let names: [String]
        do { names = try DelimitedLine.strings(firstLine, delimiter: delimiter, quoted: quoted) } catch {
            throw .badHeader(path: path, reason: "line 1 is not a valid header: \(error.detail)")
        }
        if let columnNames {
            guard names == columnNames else {
                throw .badHeader(path: path, reason: "its header differs from the first input's; inputs must share one header")
            }
            return true
        }
        roles = try assignRoles(columns: names, dataFile: path)
        columnNames = names
        hasLabels = names.contains(file.label)
        return true
    }

    /// Parses one row.
    public func parse(_ line: UnsafeBufferPointer<UInt8>, into rows: inout ParsedRows) throws(RowProblem) {
        let expected = roles.count
        let names = columnNames ?? []
        let found = try DelimitedLine.forEachField(line, delimiter: delimiter, quoted: quoted) { (index, value) throws(RowProblem) in
            guard index < expected else { return }
            switch roles[index] {
            case .ignored:
                break
            case .label:
                guard let label = NumberParser.parseBinaryLabel(value.trimmingSpaces()) else { throw .badLabel(value) }
                rows.setLabel(label)
            case .dense(let field):
                let text = value.trimmingSpaces()
                guard !text.isEmpty else { return }
                guard let number = NumberParser.parseFloat(text) else { throw .notANumber(column: names[index], text: value) }
                guard number.isFinite else { throw .outOfRange(column: names[index], text: value) }
                rows.setDense(field, number)
            case .categorical(let field):
                try rows.setCategorical(field, bytes: value)
            case .multiValued(let field, let separator):
                var start = 0
                for i in 0...value.count where i == value.count || value[i] == separator {
                    try rows.appendMultiValue(field, bytes: value.slice(start..<i))
                    start = i + 1
                }
            }
        }
        guard found == expected else { throw .columnCount(expected: "\(expected)", found: found) }
    }
}
