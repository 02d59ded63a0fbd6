/// Splits one line of a delimited file (CSV, TSV, or any one-byte delimiter) into fields,
/// without allocating.
///
/// With `quoted`, fields may be wrapped in double quotes, which may contain the delimiter and
/// doubled quotes (RFC 4180); a quoted field may not span lines.
enum DelimitedLine {
    /// Calls `body(index, value)` for each field in order, with quotes removed; returns the
    /// number of fields. A value with doubled quotes is unescaped into a temporary copy.
    @discardableResult
    static func forEachField(
        _ line: UnsafeBufferPointer<UInt8>, delimiter: UInt8, quoted: Bool,
        _ body: (Int, UnsafeBufferPointer<UInt8>) throws(RowProblem) -> Void
    ) throws(RowProblem) -> Int {
        let n = line.count
        var index = 0
        var start = 0
        var i = 0
        while true {
            if quoted && i < n && line[i] == ASCII.quote {
                i += 1
                var closed = false
                var escapes = false
                while i < n {
                    if line[i] == ASCII.quote {
                        if i + 1 < n && line[i + 1] == ASCII.quote {
                            i += 2
                            escapes = true
                            continue
                        }
                        closed = true
                        i += 1
                        break
                    }
                    i += 1
                }
                guard closed else {
                    throw RowProblem(kind: "unterminated quote", detail: "field \(index + 1) opens a quote that is not closed on this line")
                }
                guard i == n || line[i] == delimiter else {
                    throw RowProblem(kind: "malformed quote", detail: "field \(index + 1) has text after its closing quote")
                }
                let inner = line.slice(start + 1..<i - 1)
                if escapes {
                    try withUnescaped(inner) { (value) throws(RowProblem) in try body(index, value) }
                } else {
                    try body(index, inner)
                }
            } else {
                while i < n && line[i] != delimiter { i += 1 }
                try body(index, line.slice(start..<i))
            }
            index += 1
            if i >= n { return index }
            i += 1
            start = i
            if i == n {
                try body(index, line.slice(n..<n))
                return index + 1
            }
        }
    }

    /// The number of fields on `line` (for header checks and messages).
    static func fieldCount(_ line: UnsafeBufferPointer<UInt8>, delimiter: UInt8, quoted: Bool) -> Int {
        (try? forEachField(line, delimiter: delimiter, quoted: quoted) { _, _ in }) ?? 0
    }

    /// The fields of `line` as strings (headers only: this allocates).
    static func strings(_ line: UnsafeBufferPointer<UInt8>, delimiter: UInt8, quoted: Bool) throws(RowProblem) -> [String] {
        var names: [String] = []
        try forEachField(line, delimiter: delimiter, quoted: quoted) { _, value in
            names.append(String(decoding: value, as: UTF8.self).trimming(" \t\u{FEFF}"))
        }
        return names
    }

    private static func withUnescaped(
        _ inner: UnsafeBufferPointer<UInt8>,
        _ body: (UnsafeBufferPointer<UInt8>) throws(RowProblem) -> Void
    ) throws(RowProblem) {
        var unescaped: [UInt8] = []
        unescaped.reserveCapacity(inner.count)
        var i = 0
        while i < inner.count {
            unescaped.append(inner[i])
            i += inner[i] == ASCII.quote ? 2 : 1
        }
        var problem: RowProblem?
        unescaped.withUnsafeBufferPointer { buffer in
            do throws(RowProblem) { try body(buffer) } catch { problem = error }
        }
        if let problem { throw problem }
    }
}

extension String {
    /// The string without leading and trailing characters from `set`.
    func trimming(_ set: String) -> String {
        let scalars = Set(set.unicodeScalars)
        var view = Substring(self).unicodeScalars
        while let first = view.first, scalars.contains(first) { view.removeFirst() }
        while let last = view.last, scalars.contains(last) { view.removeLast() }
        return String(view)
    }
}
