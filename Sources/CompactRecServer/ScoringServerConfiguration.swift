/// Where a scoring server listens and what it accepts.
public struct ScoringServerConfiguration: Sendable, Equatable {
    /// The address to bind (127.0.0.1 keeps the server on this machine; 0.0.0.0 opens it).
    public var host: String
    /// The TCP port; 0 lets the system pick a free one (reported when the server is ready).
    public var port: Int
    /// Most rows one request may score (more is answered 413).
    public var maxRows: Int
    /// Most bytes a request body may have (more is answered 413).
    public var maxBodyBytes: Int

    /// A configuration; the defaults fit a 100-row Criteo request many times over.
    public init(host: String = "127.0.0.1", port: Int = 8080, maxRows: Int = 1000, maxBodyBytes: Int = 1 << 21) {
        self.host = host
        self.port = port
        self.maxRows = maxRows
        self.maxBodyBytes = maxBodyBytes
    }
}
