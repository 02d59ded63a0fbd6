/// Reads libFM / libSVM (`label feature:value ...`) and libFFM (`label field:feature:value ...`)
/// text, as Frappe and other click datasets ship it. Tokens are separated by spaces or tabs.
///
/// **Labels**: `1`, `+1`, `1.0` are a click (1); `0`, `-1`, `0.0`, `-1.0` are not (0); anything
/// else is a bad row.
///
/// **Fields**: every field is categorical and named `f0`, `f1`, ...
/// - libFFM: the field is the token's field number and the category is its feature number
///   (kept as its decimal text).
/// - libSVM has no field numbers, so fields are positional: the k-th `feature:value` token of a
///   row (counting from 0) is field `fk`. This fits files like Frappe's, whose rows list one
///   feature per field in a fixed order (user, item, daytime, ...). A `feature:0` token still
///   takes its position.
///
/// **Values**: 1 (or 1.0) marks a present one-hot feature; 0 marks an absent one (the field stays
/// missing unless another token sets it); any other value is a bad row, since numeric
/// feature values are not supported in libFM input yet. Fields a row does not mention stay
/// missing.
///
/// **Layout and number of fields**: given to the initializer, or else decided from the first
/// line of the first file: the layout from the shape of its first token (one colon: libSVM, two:
/// libFFM), the number of fields as the number of tokens (libSVM) or the largest field number
/// plus one (libFFM). Pass `fieldCount` when the first line may not show every field (sparse
/// libFFM rows). A row with more fields than that, a malformed token or (libFFM) a field given
/// twice is a bad row. Later files must have the same layout.
///
/// The schema depends on the number of fields, so it is only final once that is known: create
/// the format with `fieldCount`, or with `init(file:layout:fieldCount:)`, which reads the first
/// line at once, when row buffers are shaped from `schema` before `start` is called (as
/// `RowFileReader` does).
public struct LibFMFormat: LineFormat {
    /// How features are written.
    public enum Layout: String, Sendable, Equatable, Codable {
        /// `feature:value` tokens; the field is the token's position in the row.
        case libSVM = "libsvm"
        /// `field:feature:value` tokens.
        case libFFM = "libffm"
    }

    /// The layout, once given or decided from a first line.
    public private(set) var layout: Layout?
    /// The number of fields, once given or decided from a first line.
    public private(set) var fieldCount: Int?
    /// `f0` ... `f(fieldCount - 1)`, all categorical; empty until the number of fields is known.
    public private(set) var schema: Schema
    /// Always true: every line starts with its label.
    public var hasLabels: Bool { true }

    /// Largest number of fields inferred from a first line; a larger field number on the first
    /// line is almost surely not a field number (pass `fieldCount` if it really is one).
    public static let maximumInferredFieldCount = 10_000

    /// A reader whose layout and number of fields are given, or left nil to be decided from the
    /// first line in `start`. `fieldCount` must be at least 1.
    public init(layout: Layout? = nil, fieldCount: Int? = nil) {
        precondition((fieldCount ?? 1) >= 1, "LibFMFormat: fieldCount must be at least 1")
        self.layout = layout
        self.fieldCount = fieldCount
        schema = LibFMFormat.schema(fieldCount: fieldCount ?? 0)
    }

    /// A reader that decides what `layout` and `fieldCount` leave open from the first non-empty
    /// line of `file` right away, so that `schema` is final before any `start`.
    public init(file: String, layout: Layout? = nil, fieldCount: Int? = nil) throws(DataError) {
        self.init(layout: layout, fieldCount: fieldCount)
        guard self.layout == nil || self.fieldCount == nil else { return }
        let reader = try BlockLineReader(path: file, blockSize: 1 << 16)
        var firstLine: [UInt8]?
        do {
            while firstLine == nil,
                try reader.nextBlock({ (block) -> Bool in
                    var lines = LineIterator(block)
                    while let line = lines.next() {
                        if !line.trimmingSpaces().isEmpty {
                            firstLine = Array(line)
                            return false
                        }
                    }
                    return true
                }) != nil
            {}
        } catch let error as DataError {
            throw error
        } catch {
            throw .unreadable(path: file, reason: "\(error)")
        }
        guard let firstLine else { throw .emptyFile(path: file) }
        try firstLine.withUnsafeBufferPointer { (line) throws(DataError) in
            try decide(file: file, firstLine: line)
        }
    }

    /// Decides the layout and the number of fields from the first line of the first file if they
    /// are not known yet, and checks that later files have the same layout. Never a header:
    /// always returns false.
    public mutating func start(file: String, firstLine: UnsafeBufferPointer<UInt8>) throws(DataError) -> Bool {
        try decide(file: file, firstLine: firstLine)
        return false
    }

    /// Parses one line.
    public func parse(_ line: UnsafeBufferPointer<UInt8>, into rows: inout ParsedRows) throws(RowProblem) {
        let fieldCount = schema.categorical.count
        guard fieldCount > 0, rows.categoricalCount == fieldCount else {
            throw RowProblem(
                kind: "unknown field count",
                detail: fieldCount == 0
                    ? "the number of libFM fields is not known yet: create the format with fieldCount, or with init(file:) "
                        + "so it reads the first line"
                    : "the row buffer has \(rows.categoricalCount) categorical fields but this libFM format has \(fieldCount)")
        }
        var tokens = LibFMTokens(line)
        guard let labelRange = tokens.next() else {
            throw .badLabel([], allowed: LibFMFormat.allowedLabels)
        }
        rows.setLabel(try LibFMFormat.label(line.slice(labelRange)))

        // Fields already given in this row, one bit each (libFFM repeats).
        let words = (fieldCount + 63) / 64
        try withUnsafeTemporaryAllocation(of: UInt64.self, capacity: words) { (seen) throws(RowProblem) in
            seen.initialize(repeating: 0)
            var rowLayout = layout
            var position = 0
            while let range = tokens.next() {
                let token = line.slice(range)
                let shape = LibFMFormat.shape(token)
                if rowLayout == nil { rowLayout = shape.layout }
                guard let layout = rowLayout, shape.layout == layout else {
                    throw LibFMFormat.malformed(token, layout: rowLayout ?? .libSVM)
                }
                let field: Int
                let feature: UnsafeBufferPointer<UInt8>
                switch layout {
                case .libSVM:
                    field = position
                    guard field < fieldCount else {
                        throw RowProblem(
                            kind: "too many fields",
                            detail: "the row has more than \(fieldCount) features, "
                                + "but the schema has \(fieldCount) fields (f0..f\(fieldCount - 1)); pass fieldCount to allow more")
                    }
                    feature = token.slice(0..<shape.firstColon)
                case .libFFM:
                    guard let number = NumberParser.parseInt(token.slice(0..<shape.firstColon)) else {
                        throw LibFMFormat.malformed(token, layout: layout)
                    }
                    guard number < fieldCount else {
                        throw RowProblem(
                            kind: "too many fields",
                            detail: "field \(number) in \"\(RowProblem.quote(token))\" is beyond the schema's "
                                + "\(fieldCount) fields (f0..f\(fieldCount - 1)); pass fieldCount to allow more")
                    }
                    field = number
                    feature = token.slice(shape.firstColon + 1..<shape.lastColon)
                }
                position += 1
                guard LibFMFormat.isDigits(feature) else { throw LibFMFormat.malformed(token, layout: layout) }
                let word = field >> 6
                let bit = UInt64(1) << UInt64(field & 63)
                guard seen[word] & bit == 0 else {
                    throw RowProblem(
                        kind: "repeated field",
                        detail: "field \(field) is given twice in this row "
                            + "(second time in \"\(RowProblem.quote(token))\")")
                }
                seen[word] |= bit
                let value = token.slice(shape.lastColon + 1..<token.count)
                switch LibFMFormat.featureValue(value) {
                case .present: try rows.setCategorical(field, bytes: feature)
                case .absent: break
                case .numeric:
                    throw RowProblem(
                        kind: "numeric feature value",
                        detail: "feature \"\(RowProblem.quote(token))\" has value "
                            + "\(RowProblem.quote(value)): numeric feature values are not supported in libFM input yet "
                            + "(1 marks a present feature, 0 an absent one); "
                            + "describe the file with a schema file and a dense column instead")
                case .notANumber:
                    throw LibFMFormat.malformed(token, layout: layout)
                }
            }
        }
    }

    // MARK: Helpers

    /// `f0` ... `f(fieldCount - 1)`.
    private static func schema(fieldCount: Int) -> Schema {
        Schema(dense: [], categorical: (0..<fieldCount).map { "f\($0)" })
    }

    /// Sets what is still open from `firstLine` and checks its layout against a known one.
    private mutating func decide(file: String, firstLine: UnsafeBufferPointer<UInt8>) throws(DataError) {
        var tokens = LibFMTokens(firstLine)
        _ = tokens.next()  // the label
        var firstShape: TokenShape?
        var tokenCount = 0
        var largestField = -1
        while let range = tokens.next() {
            let token = firstLine.slice(range)
            let shape = LibFMFormat.shape(token)
            if firstShape == nil { firstShape = shape }
            tokenCount += 1
            if shape.layout == .libFFM, let field = NumberParser.parseInt(token.slice(0..<shape.firstColon)) {
                largestField = max(largestField, field)
            }
        }
        guard let firstShape, let found = firstShape.layout else {
            if layout != nil && fieldCount != nil { return }  // nothing to decide, nothing to check
            throw .badHeader(
                path: file,
                reason: firstShape == nil
                    ? "the first line has no features, so the libFM layout and number of fields cannot be inferred; "
                        + "pass them explicitly"
                    : "the first feature of line 1 is neither feature:value (libSVM) nor field:feature:value (libFFM)")
        }
        if let layout, layout != found {
            throw .badHeader(
                path: file,
                reason: "line 1 is \(LibFMFormat.describe(found)) but the input was "
                    + "\(LibFMFormat.describe(layout)); all files of one run must share the layout")
        }
        layout = found
        guard fieldCount == nil else { return }
        let count = found == .libSVM ? tokenCount : largestField + 1
        guard count >= 1 else {
            throw .badHeader(
                path: file,
                reason: "cannot infer the number of libFFM fields from line 1 (no valid field number); "
                    + "pass it explicitly")
        }
        guard count <= LibFMFormat.maximumInferredFieldCount else {
            throw .badHeader(
                path: file,
                reason: "line 1 has field number \(count - 1), implausibly many fields to infer "
                    + "(at most \(LibFMFormat.maximumInferredFieldCount)); pass the number of fields explicitly")
        }
        fieldCount = count
        schema = LibFMFormat.schema(fieldCount: count)
    }

    private static func describe(_ layout: Layout) -> String {
        layout == .libSVM ? "libSVM (feature:value)" : "libFFM (field:feature:value)"
    }

    private static let allowedLabels = "1, +1 or 1.0 (click) or 0, -1, 0.0 or -1.0 (no click)"

    /// The label of `text`.
    @inline(__always)
    private static func label(_ text: UnsafeBufferPointer<UInt8>) throws(RowProblem) -> UInt8 {
        if text.count == 1 {
            if text[0] == ASCII.zero + 1 { return 1 }
            if text[0] == ASCII.zero { return 0 }
        }
        switch NumberParser.parseDouble(text) {
        case 1: return 1
        case 0, -1: return 0
        default: throw .badLabel(text, allowed: allowedLabels)
        }
    }

    /// Where a token's colons are: one colon is libSVM, two libFFM, other counts neither.
    private struct TokenShape {
        var firstColon = -1
        var lastColon = -1
        var layout: Layout?
    }

    @inline(__always)
    private static func shape(_ token: UnsafeBufferPointer<UInt8>) -> TokenShape {
        var shape = TokenShape()
        var colons = 0
        for i in 0..<token.count where token[i] == ASCII.colon {
            colons += 1
            if colons == 1 { shape.firstColon = i }
            shape.lastColon = i
        }
        shape.layout = colons == 1 ? .libSVM : colons == 2 ? .libFFM : nil
        return shape
    }

    private enum FeatureValue { case present, absent, numeric, notANumber }

    @inline(__always)
    private static func featureValue(_ text: UnsafeBufferPointer<UInt8>) -> FeatureValue {
        if text.count == 1 {
            if text[0] == ASCII.zero + 1 { return .present }
            if text[0] == ASCII.zero { return .absent }
        }
        switch NumberParser.parseDouble(text) {
        case nil: return .notANumber
        case 1: return .present
        case 0: return .absent
        default: return .numeric
        }
    }

    @inline(__always)
    private static func isDigits(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !text.isEmpty else { return false }
        for b in text where b < ASCII.zero || b > ASCII.nine { return false }
        return true
    }

    private static func malformed(_ token: UnsafeBufferPointer<UInt8>, layout: Layout) -> RowProblem {
        RowProblem(
            kind: "malformed feature",
            detail: "\"\(RowProblem.quote(token))\" is not "
                + (layout == .libSVM ? "feature:value (libSVM)" : "field:feature:value (libFFM)")
                + " with whole-number field and feature and a numeric value")
    }
}

/// Splits a line on runs of spaces and tabs.
private struct LibFMTokens {
    private let line: UnsafeBufferPointer<UInt8>
    private var position = 0

    init(_ line: UnsafeBufferPointer<UInt8>) { self.line = line }

    @inline(__always)
    mutating func next() -> Range<Int>? {
        let n = line.count
        while position < n && (line[position] == ASCII.space || line[position] == ASCII.tab) { position += 1 }
        guard position < n else { return nil }
        let start = position
        while position < n && line[position] != ASCII.space && line[position] != ASCII.tab { position += 1 }
        return start..<position
    }
}
