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
            let reader = try BlockLineReader(path: path)
            var lineNumber = 0
            var isFirst = true
            do {
                while try reader.nextBlock({ (block) throws -> Bool in
                    var lines = LineIterator(block)
                    while let line = lines.next() {
                        lineNumber += 1
                        if isFirst {
                            isFirst = false
                            let isHeader = try format.start(file: path, firstLine: line)
                            if !sized {
                                rows = ParsedRows(schema: format.schema)
                                sized = true
                            }
                            if isHeader { continue }
                        }
                        if line.isEmpty { continue }
                        rows.beginRow()
                        do throws(RowProblem) {
                            try format.parse(line, into: &rows)
                            rows.endRow()
                        } catch {
                            rows.abandonRow()
                            throw DataError.badRow(path: path, line: lineNumber, problem: error)
                        }
                    }
                    return true
                }) != nil {}
            } catch let error as DataError {
                throw error
            } catch {
                throw .unreadable(path: path, reason: "\(error)")
            }
        }
        for i in 0..<rows.count { result.append(rows.row(i)) }
        return result
    }
}
