#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// A value's place in `MovieLensTables.arena`: offset << 32 | length. Length 0 means missing.
typealias MovieLensSpan = UInt64

/// The small MovieLens side tables (users and movies), loaded once and then only read by
/// `MovieLensFormat.parse` from several threads: every value is kept as bytes in one arena and
/// looked up by the integer id of the rating line, so joining costs no `String`.
struct MovieLensTables: Sendable {
    /// Values per user slot, in schema order: age, gender, occupation, zip prefix.
    static let userValueCount = 4

    /// The bytes of every side-table value.
    private(set) var arena: [UInt8] = []
    /// `userValueCount` spans per user slot.
    private(set) var userSpans: [MovieLensSpan] = []
    /// User id -> user slot.
    private(set) var userIndex = MovieLensIDIndex()
    /// Release-year span per movie slot.
    private(set) var movieYears: [MovieLensSpan] = []
    /// End index into `genreSpans` of each movie slot's genres.
    private(set) var movieGenreEnds: [Int] = []
    /// Genre spans of all movies, concatenated.
    private(set) var genreSpans: [MovieLensSpan] = []
    /// Movie id -> movie slot.
    private(set) var movieIndex = MovieLensIDIndex()

    /// Number of users loaded.
    var userCount: Int { userSpans.count / MovieLensTables.userValueCount }
    /// Number of movies loaded.
    var movieCount: Int { movieYears.count }

    /// Copies `bytes` into the arena and returns their span (0 for empty bytes).
    mutating func store(_ bytes: UnsafeBufferPointer<UInt8>) -> MovieLensSpan {
        guard !bytes.isEmpty else { return 0 }
        let offset = arena.count
        arena.append(contentsOf: bytes)
        return UInt64(offset) << 32 | UInt64(bytes.count)
    }

    /// Copies `bytes` into the arena and returns their span (0 for empty bytes).
    mutating func store(_ bytes: [UInt8]) -> MovieLensSpan {
        bytes.withUnsafeBufferPointer { store($0) }
    }

    /// Adds a user; `values` are spans in `userValueCount` order. Returns the line on which
    /// `id` was listed before, if it was.
    mutating func addUser(id: Int, line: Int, values: [MovieLensSpan]) -> Int? {
        if let firstLine = userIndex.insert(id: id, slot: userCount, line: line) { return firstLine }
        userSpans.append(contentsOf: values)
        return nil
    }

    /// Adds a movie. Returns the line on which `id` was listed before, if it was.
    mutating func addMovie(id: Int, line: Int, year: MovieLensSpan, genres: [MovieLensSpan]) -> Int? {
        if let firstLine = movieIndex.insert(id: id, slot: movieCount, line: line) { return firstLine }
        movieYears.append(year)
        genreSpans.append(contentsOf: genres)
        movieGenreEnds.append(genreSpans.count)
        return nil
    }
}

/// Integer id -> slot: a plain array when ids are dense enough (GroupLens numbers users and
/// movies from 1), a dictionary otherwise.
struct MovieLensIDIndex: Sendable {
    /// Largest id kept in the array; larger ids go to the dictionary.
    private static let directLimit = 1 << 20

    private var direct: [Int32] = []
    private var sparse: [Int: Int32] = [:]
    private var lines: [Int] = []

    /// Records `id` at `slot` (first seen on `line`); returns the earlier line if `id` is known.
    mutating func insert(id: Int, slot: Int, line: Int) -> Int? {
        if let existing = self.slot(id) { return lines[existing] }
        if id < MovieLensIDIndex.directLimit {
            if id >= direct.count {
                let size = min(max(id + 1, direct.count * 2), MovieLensIDIndex.directLimit)
                direct.append(contentsOf: repeatElement(-1, count: size - direct.count))
            }
            direct[id] = Int32(slot)
        } else {
            sparse[id] = Int32(slot)
        }
        lines.append(line)
        return nil
    }

    /// The slot of `id`, or nil when the side table does not list it.
    @inline(__always)
    func slot(_ id: Int) -> Int? {
        if id < direct.count {
            let s = direct[id]
            return s < 0 ? nil : Int(s)
        }
        if id < MovieLensIDIndex.directLimit { return nil }
        return sparse[id].map(Int.init)
    }
}

/// Splits a line on a one-byte separator (`|`, TAB) or on `::`.
struct MovieLensFieldCursor {
    private let line: UnsafeBufferPointer<UInt8>
    private let separator: UInt8
    private let doubled: Bool
    private var position = 0
    private var finished = false

    /// A cursor over `line`; `doubled` means the separator is two `separator` bytes (`::`).
    init(_ line: UnsafeBufferPointer<UInt8>, separator: UInt8, doubled: Bool) {
        self.line = line
        self.separator = separator
        self.doubled = doubled
    }

    /// The next field's range, or nil after the last field.
    @inline(__always)
    mutating func next() -> Range<Int>? {
        guard !finished else { return nil }
        let start = position
        var i = start
        let n = line.count
        while i < n {
            if line[i] == separator && (!doubled || (i + 1 < n && line[i + 1] == separator)) {
                position = i + (doubled ? 2 : 1)
                return start..<i
            }
            i += 1
        }
        finished = true
        return start..<n
    }

    /// Counts the fields of `line` (for error messages).
    static func count(_ line: UnsafeBufferPointer<UInt8>, separator: UInt8, doubled: Bool) -> Int {
        var cursor = MovieLensFieldCursor(line, separator: separator, doubled: doubled)
        var n = 0
        while cursor.next() != nil { n += 1 }
        return n
    }

    /// All fields of `line` (for side tables, read once at load time).
    static func split(_ line: UnsafeBufferPointer<UInt8>, separator: UInt8, doubled: Bool) -> [UnsafeBufferPointer<UInt8>] {
        var cursor = MovieLensFieldCursor(line, separator: separator, doubled: doubled)
        var fields: [UnsafeBufferPointer<UInt8>] = []
        while let range = cursor.next() { fields.append(line.slice(range)) }
        return fields
    }
}

/// File-system checks and whole-file line reading for the side tables.
enum MovieLensFiles {
    /// What is at a path.
    enum Kind { case missing, file, directory }

    /// What is at `path`.
    static func kind(of path: String) -> Kind {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        return (info.st_mode & S_IFMT) == S_IFDIR ? .directory : .file
    }

    /// `name` inside `folder`.
    static func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }
}

// MARK: Loading the side tables

extension MovieLensTables {
    /// ml-100k's genre flags, in `u.item` column order.
    static let genres100k = [
        "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
        "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
        "Thriller", "War", "Western",
    ]

    /// Loads the users and movies of a GroupLens folder of `layout`.
    static func load(layout: MovieLensFormat.Layout, folder: String) throws(DataError) -> MovieLensTables {
        var tables = MovieLensTables()
        switch layout {
        case .ml100k:
            try tables.loadUsers(
                path: MovieLensFiles.join(folder, layout.usersFileName), separator: ASCII.pipe, doubled: false,
                ageColumn: 1, genderColumn: 2,
                columnNames: "user id|age|gender|occupation|zip code")
            try tables.loadMovies100k(path: MovieLensFiles.join(folder, layout.moviesFileName))
        case .ml1m:
            try tables.loadUsers(
                path: MovieLensFiles.join(folder, layout.usersFileName), separator: ASCII.colon, doubled: true,
                ageColumn: 2, genderColumn: 1,
                columnNames: "UserID::Gender::Age::Occupation::Zip-code")
            try tables.loadMovies1m(path: MovieLensFiles.join(folder, layout.moviesFileName))
        }
        return tables
    }

    /// Reads a users file: five columns, id first, occupation fourth and zip code fifth in both
    /// layouts; age and gender swap places between them.
    private mutating func loadUsers(
        path: String, separator: UInt8, doubled: Bool, ageColumn: Int, genderColumn: Int,
        columnNames: String
    ) throws(DataError) {
        try BlockLineReader.forEachLine(in: path) { (lineNumber, line) throws(DataError) in
            if line.isEmpty { return }
            let fields = MovieLensFieldCursor.split(line, separator: separator, doubled: doubled)
            guard fields.count == 5 else {
                throw .badRow(
                    path: path, line: lineNumber,
                    problem: RowProblem(
                        kind: "wrong column count",
                        detail: "expected 5 columns (\(columnNames)), found \(fields.count)"))
            }
            guard let id = NumberParser.parseInt(fields[0]) else {
                throw .badRow(path: path, line: lineNumber, problem: .notANumber(column: "user id", text: fields[0]))
            }
            let age = fields[ageColumn]
            guard age.isEmpty || NumberParser.parseInt(age) != nil else {
                throw .badRow(path: path, line: lineNumber, problem: .notANumber(column: "age", text: age))
            }
            let zip = fields[4]
            let values = [
                store(age),
                store(fields[genderColumn]),
                store(fields[3]),
                store(zip.slice(0..<min(3, zip.count))),
            ]
            if let firstLine = addUser(id: id, line: lineNumber, values: values) {
                throw .badRow(path: path, line: lineNumber, problem: MovieLensTables.duplicate("user", id, firstLine))
            }
        }
    }

    /// Reads ml-100k's `u.item`: id|title|release date|video release date|IMDb URL|19 flags.
    private mutating func loadMovies100k(path: String) throws(DataError) {
        let genreNames = MovieLensTables.genres100k.map { store(Array($0.utf8)) }
        let columnCount = 5 + genreNames.count
        try BlockLineReader.forEachLine(in: path) { (lineNumber, line) throws(DataError) in
            if line.isEmpty { return }
            let fields = MovieLensFieldCursor.split(line, separator: ASCII.pipe, doubled: false)
            guard fields.count == columnCount else {
                throw .badRow(
                    path: path, line: lineNumber,
                    problem: RowProblem(
                        kind: "wrong column count",
                        detail: "expected \(columnCount) columns (movie id|title|release date|video release date|IMDb URL|"
                            + "19 genre flags), found \(fields.count)"))
            }
            guard let id = NumberParser.parseInt(fields[0]) else {
                throw .badRow(path: path, line: lineNumber, problem: .notANumber(column: "movie id", text: fields[0]))
            }
            // The release date is dd-Mon-yyyy (01-Jan-1995); empty for a few movies.
            let date = fields[2].trimmingSpaces()
            var year: MovieLensSpan = 0
            if !date.isEmpty {
                guard let digits = MovieLensTables.trailingDigits(date, count: 4, after: ASCII.minus) else {
                    throw .badRow(
                        path: path, line: lineNumber,
                        problem: RowProblem(
                            kind: "bad date",
                            detail: "the release date should look like 01-Jan-1995 but is \"\(RowProblem.quote(date))\""))
                }
                year = store(digits)
            }
            var genres: [MovieLensSpan] = []
            for (g, name) in genreNames.enumerated() {
                let flag = fields[5 + g]
                if flag.count == 1 && flag[0] == ASCII.zero + 1 {
                    genres.append(name)
                } else if !(flag.count == 1 && flag[0] == ASCII.zero) {
                    throw .badRow(
                        path: path, line: lineNumber,
                        problem: RowProblem(
                            kind: "bad genre flag",
                            detail: "the \(MovieLensTables.genres100k[g]) flag (column \(6 + g)) should be 0 or 1 "
                                + "but is \"\(RowProblem.quote(flag))\""))
                }
            }
            if let firstLine = addMovie(id: id, line: lineNumber, year: year, genres: genres) {
                throw .badRow(path: path, line: lineNumber, problem: MovieLensTables.duplicate("movie", id, firstLine))
            }
        }
    }

    /// Reads ml-1m's `movies.dat`: MovieID::Title (Year)::Genre1|Genre2...
    private mutating func loadMovies1m(path: String) throws(DataError) {
        try BlockLineReader.forEachLine(in: path) { (lineNumber, line) throws(DataError) in
            if line.isEmpty { return }
            let fields = MovieLensFieldCursor.split(line, separator: ASCII.colon, doubled: true)
            guard fields.count == 3 else {
                throw .badRow(
                    path: path, line: lineNumber,
                    problem: RowProblem(
                        kind: "wrong column count",
                        detail: "expected 3 columns (MovieID::Title (Year)::Genres), found \(fields.count)"))
            }
            guard let id = NumberParser.parseInt(fields[0]) else {
                throw .badRow(path: path, line: lineNumber, problem: .notANumber(column: "movie id", text: fields[0]))
            }
            // The year is the "(1995)" that ends the title; a title without one has no year.
            var year: MovieLensSpan = 0
            let title = fields[1].trimmingSpaces()
            if let last = title.last, last == UInt8(ascii: ")"),
                let digits = MovieLensTables.trailingDigits(
                    title.slice(0..<title.count - 1), count: 4,
                    after: UInt8(ascii: "("))
            {
                year = store(digits)
            }
            var genres: [MovieLensSpan] = []
            for genre in MovieLensFieldCursor.split(fields[2], separator: ASCII.pipe, doubled: false) {
                let name = genre.trimmingSpaces()
                if !name.isEmpty { genres.append(store(name)) }
            }
            if let firstLine = addMovie(id: id, line: lineNumber, year: year, genres: genres) {
                throw .badRow(path: path, line: lineNumber, problem: MovieLensTables.duplicate("movie", id, firstLine))
            }
        }
    }

    /// The problem of an id listed twice in a side table.
    private static func duplicate(_ what: String, _ id: Int, _ firstLine: Int) -> RowProblem {
        RowProblem(kind: "duplicate id", detail: "\(what) \(id) is listed twice (first on line \(firstLine))")
    }

    /// The last `count` bytes of `text` when they are all digits and preceded by `before`.
    private static func trailingDigits(
        _ text: UnsafeBufferPointer<UInt8>, count: Int,
        after before: UInt8
    ) -> UnsafeBufferPointer<UInt8>? {
        guard text.count > count else { return nil }
        let start = text.count - count
        guard text[start - 1] == before else { return nil }
        for i in start..<text.count where text[i] < ASCII.zero || text[i] > ASCII.nine { return nil }
        return text.slice(start..<text.count)
    }

    /// The bytes of `span` within `arena` (empty for a missing value).
    @inline(__always)
    static func value(_ span: MovieLensSpan, in arena: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        let offset = Int(span >> 32)
        return arena.slice(offset..<offset + Int(span & 0xFFFF_FFFF))
    }
}
