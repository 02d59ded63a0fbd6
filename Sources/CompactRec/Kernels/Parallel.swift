import Dispatch

/// Runs independent work items on the machine's cores.
///
/// CompactRec targets small machines (2 cores): one layer of parallelism owns the cores at a
/// time, and `DispatchQueue.concurrentPerform` costs well under a microsecond per region, so
/// millisecond-sized regions lose nothing.
public enum Parallel {
    /// Calls `body(i)` for every `i` in `0..<count`, on up to `threads` threads; returns when all
    /// have finished. With one thread or one item it runs inline.
    public static func forEach(_ count: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
        guard count > 0 else { return }
        if threads <= 1 || count == 1 {
            for i in 0..<count { body(i) }
            return
        }
        if count <= threads {
            DispatchQueue.concurrentPerform(iterations: count, execute: body)
            return
        }
        // Static contiguous assignment: item i goes to worker i * threads / count, so results
        // never depend on scheduling.
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            let start = worker * count / threads
            let end = (worker + 1) * count / threads
            for i in start..<end { body(i) }
        }
    }

    /// The results of `body(i)` for `i` in `0..<count`, computed in parallel, in order.
    public static func map<T: Sendable>(_ count: Int, threads: Int, _ body: @Sendable (Int) -> T) -> [T] {
        let results = SharedArray<T?>(repeating: nil, count: count)
        forEach(count, threads: threads) { i in results[i] = body(i) }
        return results.array.compactMap { $0 }
    }

    /// The number of cores to use by default.
    public static var defaultThreads: Int { max(1, ProcessInfoShim.activeProcessorCount) }
}

/// A fixed-size array that several threads write at disjoint indices.
///
/// The caller guarantees that no two threads touch the same index at once; that is what makes
/// the `@unchecked Sendable` sound.
public final class SharedArray<Element>: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<Element>

    /// An array of `count` copies of `value`.
    public init(repeating value: Element, count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: value)
    }

    /// Takes the elements of `array`.
    public init(_ array: [Element]) {
        storage = .allocate(capacity: array.count)
        _ = storage.initialize(from: array)
    }

    deinit {
        storage.deinitialize()
        storage.deallocate()
    }

    /// Number of elements.
    public var count: Int { storage.count }

    /// Element `index`.
    public subscript(index: Int) -> Element {
        get { storage[index] }
        set { storage[index] = newValue }
    }

    /// Mutates element `index` in place (no copy of a large element).
    public func modify<R>(_ index: Int, _ body: (inout Element) throws -> R) rethrows -> R {
        try body(&storage[index])
    }

    /// Calls `body` with the elements as a mutable buffer (callers write disjoint ranges).
    public func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Element>) throws -> R) rethrows -> R {
        try body(storage)
    }

    /// Calls `body` with the elements' bytes (to write them to a file without a copy).
    public func withRawBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(storage))
    }

    /// A copy as a Swift array.
    public var array: [Element] { Array(storage) }
}
