/// Reads whole files of a `LineFormat` into plain rows: for tests, previews and small inputs.
/// Large inputs go through `Preparer`, which streams and never holds the rows.
public enum RowFileReader {
    /// All rows of `paths`, in order. A bad row throws with its file and line number.
    public static func readAll<F: LineFormat>(_ format: inout F, paths: [String]) throws(DataError) -> [RawRow] {
        // Sized after the first file's first line: header formats learn their columns there.
        var rows = ParsedRows(denseCount: 0, categoricalCount: 0)
        var sized = false
        var result: [RawRow] = []
        for path in paths {
            try BlockLineReader.forEachLine(in: path) { (lineNumber, line) throws(DataError) in
                if lineNumber == 1 {
                    let isHeader = try format.start(file: path, firstLine: line)
                    if !sized {
                        rows = ParsedRows(schema: format.schema)
                        sized = true
                    }
                    if isHeader { return }
                }
                if line.isEmpty { return }
                rows.beginRow()
                do throws(RowProblem) {
                    try format.parse(line, into: &rows)
                    rows.endRow()
                } catch {
                    rows.abandonRow()
                    throw DataError.badRow(path: path, line: lineNumber, problem: error)
                }
            }
        }
        for i in 0..<rows.count { result.append(rows.row(i)) }
        return result
    }
}
