/// The version of CompactRec, recorded in every file it writes.
public enum CompactRecVersion {
    /// Semantic version of this build.
    public static let current = "0.1.0"
}
