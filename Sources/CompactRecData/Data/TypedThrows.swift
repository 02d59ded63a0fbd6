/// Bridges closure-taking standard-library calls (which `rethrows` untyped errors) to typed
/// `throws(E)` code.
@inline(__always)
func withTypedThrows<E: Error, R>(_ body: (inout Result<R, E>?) -> Void) throws(E) -> R {
    var result: Result<R, E>?
    body(&result)
    guard let result else { preconditionFailure("withTypedThrows: the body did not set a result") }
    return try result.get()
}

extension Array {
    /// `withUnsafeBytes` for a body that throws a typed error.
    func withRawBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try withTypedThrows { (result: inout Result<R, E>?) in
            withUnsafeBytes { raw in
                do throws(E) { result = .success(try body(raw)) } catch { result = .failure(error) }
            }
        }
    }
}

extension ArraySlice {
    /// `withUnsafeBytes` for a body that throws a typed error.
    func withRawBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try withTypedThrows { (result: inout Result<R, E>?) in
            withUnsafeBytes { raw in
                do throws(E) { result = .success(try body(raw)) } catch { result = .failure(error) }
            }
        }
    }
}
