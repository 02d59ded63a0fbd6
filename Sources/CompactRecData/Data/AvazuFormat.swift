/// Avazu's CSV (`train.csv`, or `test.csv` without `click`): a header line, `click` is the
/// label, `id` is dropped, `hour` (YYMMDDHH) becomes two fields, hour of day and weekday, and
/// every other column is categorical.
public struct AvazuFormat: LineFormat {
    /// Set from the header: `hour_of_day`, `weekday`, then the other columns in file order.
    public private(set) var schema = Schema(dense: [], categorical: [])
    /// False for `test.csv`, whose header has no `click`.
    public private(set) var hasLabels = true
    private var header: [String] = []
    /// Per column: what to do with it.
    private var roles: [Role] = []

    private enum Role: Sendable {
        case label
        case ignored
        case hour
        case categorical(Int)
    }

    /// Creates a reader; the columns come from the first file's header.
    public init() {}

    /// Reads the header; every input file must have the same header.
    public mutating func start(file: String, firstLine: UnsafeBufferPointer<UInt8>) throws(DataError) -> Bool {
        let names: [String]
        do { names = try DelimitedLine.strings(firstLine, delimiter: ASCII.comma, quoted: true) } catch {
            throw .badHeader(path: file, reason: "line 1 is not a valid CSV header: \(error.detail)")
        }
        if !header.isEmpty {
            guard names == header else {
                throw .badHeader(path: file, reason: "its header differs from the first input's; Avazu inputs must share one header")
            }
            return true
        }
        guard names.contains("hour") else {
            throw .badHeader(
                path: file,
                reason: "line 1 should be Avazu's header (id,click,hour,C1,banner_pos,...) but has no 'hour' column "
                    + "(is this the right --format, or does the file lack its header)")
        }
        var categorical = ["hour_of_day", "weekday"]
        var roles: [Role] = []
        for name in names {
            switch name {
            case "click": roles.append(.label)
            case "id": roles.append(.ignored)
            case "hour": roles.append(.hour)
            default:
                roles.append(.categorical(categorical.count))
                categorical.append(name)
            }
        }
        header = names
        self.roles = roles
        hasLabels = names.contains("click")
        schema = Schema(dense: [], categorical: categorical)
        return true
    }

    /// Parses one row.
    public func parse(_ line: UnsafeBufferPointer<UInt8>, into rows: inout ParsedRows) throws(RowProblem) {
        let expected = roles.count
        let found = try DelimitedLine.forEachField(line, delimiter: ASCII.comma, quoted: true) { (index, value) throws(RowProblem) in
            guard index < expected else { return }
            switch roles[index] {
            case .label:
                guard let label = NumberParser.parseBinaryLabel(value) else { throw .badLabel(value) }
                rows.setLabel(label)
            case .ignored:
                break
            case .hour:
                try AvazuFormat.setHour(value, into: &rows)
            case .categorical(let field):
                try rows.setCategorical(field, bytes: value)
            }
        }
        guard found == expected else { throw .columnCount(expected: "\(expected)", found: found) }
    }

    /// Hour of day ("00".."23") and weekday ("0" = Monday .. "6") from YYMMDDHH (20YY).
    static func setHour(_ value: UnsafeBufferPointer<UInt8>, into rows: inout ParsedRows) throws(RowProblem) {
        guard value.count == 8, let stamp = NumberParser.parseInt(value) else {
            throw RowProblem(kind: "bad hour", detail: "column hour should be YYMMDDHH (8 digits) but is \"\(RowProblem.quote(value))\"")
        }
        let hour = stamp % 100
        let day = stamp / 100 % 100
        let month = stamp / 10_000 % 100
        let year = 2000 + stamp / 1_000_000
        guard hour < 24, (1...12).contains(month), (1...31).contains(day) else {
            throw RowProblem(kind: "bad hour", detail: "column hour \"\(RowProblem.quote(value))\" is not a valid YYMMDDHH time")
        }
        try rows.setCategorical(0, bytes: value.slice(6..<8))
        let weekday = AvazuFormat.weekday(year: year, month: month, day: day)
        var digit = ASCII.zero + UInt8(weekday)
        try withUnsafeMutablePointer(to: &digit) { (pointer) throws(RowProblem) in
            try rows.setCategorical(1, bytes: UnsafeBufferPointer(start: pointer, count: 1))
        }
    }

    /// Day of week, 0 = Monday, for a date in the proleptic Gregorian calendar.
    static func weekday(year: Int, month: Int, day: Int) -> Int {
        // Days since 1970-01-01 (a Thursday), after Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return ((days % 7) + 7 + 3) % 7
    }
}
