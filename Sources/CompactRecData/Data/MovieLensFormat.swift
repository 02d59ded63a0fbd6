/// Reads MovieLens ratings as GroupLens ships them, joined with the users and movies side
/// tables, for click-through-rate training: a rating at or above a threshold is a click.
///
/// Two layouts are recognised from the folder's files:
/// - **ml-100k**: `u.data` (user id TAB item id TAB rating TAB timestamp), `u.user`
///   (`user id|age|gender|occupation|zip code`) and `u.item` (`movie id|movie title|release
///   date|video release date|IMDb URL|` then 19 genre flags).
/// - **ml-1m**: `ratings.dat` (`UserID::MovieID::Rating::Timestamp`), `users.dat`
///   (`UserID::Gender::Age::Occupation::Zip-code`) and `movies.dat`
///   (`MovieID::Title (Year)::Genre1|Genre2...`).
///
/// `init(folder:ratingThreshold:)` loads the two side tables into memory (a few hundred KB);
/// the preparer then streams `ratingsFile` through `parse`, which may also read any other
/// ratings file of the same layout (ml-100k's `u1.base`, `u1.test`, ...). Side tables are read
/// as bytes, so their Latin-1 titles and values never fail and are kept byte for byte.
///
/// Fields (`schema`), all categorical except genres:
/// `user`, `item` (the ids as written in the ratings line), `age` (ml-100k: years; ml-1m: the
/// age-group code), `gender`, `occupation` (ml-100k: a name; ml-1m: a code), `zip_prefix` (the
/// zip code's first 3 bytes), `release_year` (ml-100k: the year of the release date; ml-1m: the
/// `(1995)` ending the title; missing when absent) and the multi-valued `genres`.
///
/// The label is 1 when the rating (an integer, or a decimal such as 3.5) is at least
/// `ratingThreshold`. A rating whose user or movie is not in the side tables keeps its ids and
/// leaves the side fields missing; a rating line with the wrong number of columns or a
/// non-numeric id, rating or timestamp is a `RowProblem`.
public struct MovieLensFormat: LineFormat {
    /// The GroupLens layout of a MovieLens folder.
    public enum Layout: String, Sendable, Equatable, CaseIterable {
        /// ml-100k: `u.data`, `u.user`, `u.item`, TAB- and `|`-separated.
        case ml100k = "ml-100k"
        /// ml-1m: `ratings.dat`, `users.dat`, `movies.dat`, `::`-separated.
        case ml1m = "ml-1m"

        /// The ratings file's name.
        public var ratingsFileName: String { self == .ml100k ? "u.data" : "ratings.dat" }
        /// The users side table's name.
        public var usersFileName: String { self == .ml100k ? "u.user" : "users.dat" }
        /// The movies side table's name.
        public var moviesFileName: String { self == .ml100k ? "u.item" : "movies.dat" }
    }

    /// Categorical field indices in `schema`.
    enum Column {
        static let user = 0
        static let item = 1
        /// age, gender, occupation, zip_prefix follow in `MovieLensTables` order.
        static let firstUserValue = 2
        static let releaseYear = 6
        static let genres = 0
    }

    /// The fields every MovieLens layout produces.
    private static let fieldSchema = Schema(
        dense: [],
        categorical: ["user", "item", "age", "gender", "occupation", "zip_prefix", "release_year"],
        multiValued: ["genres"])

    /// The folder the format was created from, as given.
    public let folder: String
    /// The layout detected in `folder`.
    public let layout: Layout
    /// Ratings at or above this value are label 1, lower ratings label 0.
    public let ratingThreshold: Int
    /// The ratings file to stream through `parse` (`u.data` or `ratings.dat` in `folder`).
    public var ratingsFile: String { MovieLensFiles.join(folder, layout.ratingsFileName) }
    /// Number of users in the users side table.
    public var userCount: Int { tables.userCount }
    /// Number of movies in the movies side table.
    public var movieCount: Int { tables.movieCount }

    /// `user`, `item`, `age`, `gender`, `occupation`, `zip_prefix`, `release_year` (categorical)
    /// and `genres` (multi-valued); no dense fields.
    public var schema: Schema { MovieLensFormat.fieldSchema }
    /// Always true: the label comes from the rating.
    public var hasLabels: Bool { true }

    private let tables: MovieLensTables
    private let separator: UInt8
    private let doubledSeparator: Bool
    private let threshold: Double

    /// Opens a MovieLens folder: detects its layout from `u.data` (ml-100k) or `ratings.dat`
    /// (ml-1m) and loads its users and movies tables.
    ///
    /// Throws `.fileNotFound` for a missing folder or side table, `.badHeader` for a path that is
    /// not a folder or a folder that holds neither (or both) ratings files, and `.badRow` with the
    /// side table's path and line for a malformed, non-numeric or repeated user or movie.
    public init(folder: String, ratingThreshold: Int = 4) throws(DataError) {
        switch MovieLensFiles.kind(of: folder) {
        case .missing:
            throw .fileNotFound(path: folder)
        case .file:
            throw .badHeader(
                path: folder,
                reason: "is a file, not a MovieLens folder: pass the folder that holds "
                    + "u.data, u.user and u.item (ml-100k) or ratings.dat, users.dat and movies.dat (ml-1m)")
        case .directory:
            break
        }
        let present = Layout.allCases.filter {
            MovieLensFiles.kind(of: MovieLensFiles.join(folder, $0.ratingsFileName)) == .file
        }
        guard present.count == 1, let layout = present.first else {
            throw .badHeader(
                path: folder,
                reason: present.isEmpty
                    ? "not a MovieLens folder: expected u.data, u.user and u.item (ml-100k) "
                        + "or ratings.dat, users.dat and movies.dat (ml-1m)"
                    : "holds both u.data (ml-100k) and ratings.dat (ml-1m): keep one MovieLens dataset per folder")
        }
        self.folder = folder
        self.layout = layout
        self.ratingThreshold = ratingThreshold
        self.threshold = Double(ratingThreshold)
        self.separator = layout == .ml100k ? ASCII.tab : ASCII.colon
        self.doubledSeparator = layout == .ml1m
        self.tables = try MovieLensTables.load(layout: layout, folder: folder)
    }

    /// Ratings files have no header: always returns false.
    public mutating func start(file: String, firstLine: UnsafeBufferPointer<UInt8>) throws(DataError) -> Bool {
        false
    }

    /// Parses one rating line and joins the user's and the movie's side values.
    public func parse(_ line: UnsafeBufferPointer<UInt8>, into rows: inout ParsedRows) throws(RowProblem) {
        var cursor = MovieLensFieldCursor(line, separator: separator, doubled: doubledSeparator)
        guard let userRange = cursor.next(), let itemRange = cursor.next(), let ratingRange = cursor.next(),
            let timeRange = cursor.next(), cursor.next() == nil
        else {
            let found = MovieLensFieldCursor.count(line, separator: separator, doubled: doubledSeparator)
            throw RowProblem(
                kind: "wrong column count",
                detail: layout == .ml100k
                    ? "expected 4 columns (user id TAB item id TAB rating TAB timestamp), found \(found)"
                    : "expected 4 columns (UserID::MovieID::Rating::Timestamp), found \(found)")
        }
        let user = line.slice(userRange)
        let item = line.slice(itemRange)
        let ratingText = line.slice(ratingRange)
        guard let userID = NumberParser.parseInt(user) else { throw .notANumber(column: "user id", text: user) }
        guard let itemID = NumberParser.parseInt(item) else { throw .notANumber(column: "item id", text: item) }
        guard let rating = NumberParser.parseDouble(ratingText) else {
            throw .notANumber(column: "rating", text: ratingText)
        }
        let time = line.slice(timeRange)
        guard NumberParser.parseInt(time) != nil else { throw .notANumber(column: "timestamp", text: time) }

        rows.setLabel(rating >= threshold ? 1 : 0)
        try rows.setCategorical(Column.user, bytes: user)
        try rows.setCategorical(Column.item, bytes: item)
        let userSlot = tables.userIndex.slot(userID)
        let movieSlot = tables.movieIndex.slot(itemID)
        guard userSlot != nil || movieSlot != nil else { return }
        try tables.arena.withUnsafeBufferPointer { (arena) throws(RowProblem) in
            if let slot = userSlot {
                let first = slot * MovieLensTables.userValueCount
                for k in 0..<MovieLensTables.userValueCount {
                    try rows.setCategorical(
                        Column.firstUserValue + k,
                        bytes: MovieLensTables.value(tables.userSpans[first + k], in: arena))
                }
            }
            if let slot = movieSlot {
                try rows.setCategorical(
                    Column.releaseYear,
                    bytes: MovieLensTables.value(tables.movieYears[slot], in: arena))
                let start = slot == 0 ? 0 : tables.movieGenreEnds[slot - 1]
                for g in start..<tables.movieGenreEnds[slot] {
                    try rows.appendMultiValue(Column.genres, bytes: MovieLensTables.value(tables.genreSpans[g], in: arena))
                }
            }
        }
    }
}
