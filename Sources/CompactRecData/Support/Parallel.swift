import CompactRecShims
import Dispatch
import Synchronization

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
            noteRegion(workers: count)
            DispatchQueue.concurrentPerform(iterations: count, execute: body)
            return
        }
        // Static contiguous assignment: item i goes to worker i * threads / count, so results
        // never depend on scheduling.
        noteRegion(workers: threads)
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            let start = worker * count / threads
            let end = (worker + 1) * count / threads
            for i in start..<end { body(i) }
        }
    }

    /// Calls `body(i)` for every `i` in `0..<count` on up to `threads` threads, handing the items
    /// out in order from a shared counter: a thread that finishes early (or a core a neighbour
    /// does not slow) takes more. For items whose results do not depend on the thread that runs
    /// them, e.g. one embedding table each: then the bits are the same for any thread count.
    /// Allocates nothing (the counter lives on the caller's stack).
    public static func forEachClaimed(_ count: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
        let workers = min(threads, count)
        if workers <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        noteRegion(workers: workers)
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 1) { buffer in
            guard let counter = buffer.baseAddress else { return }
            counter.initialize(to: 0)
            let next = UncheckedSendable(counter)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while true {
                    let i = compactrec_atomic_fetch_add(next.value, 1)
                    if i >= count { return }
                    body(i)
                }
            }
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

    /// Runs `body` and returns the most worker threads any parallel region it started used (1
    /// when every region ran inline): how a test proves that a thread setting reaches every
    /// region (optimizers, embedding gathers and scatters, dense kernels, evaluation). Regions
    /// are attributed through a task-local value, so tests running concurrently in other tasks
    /// do not count.
    public static func recordingWidestRegion<R>(_ body: () throws -> R) rethrows -> (result: R, widest: Int) {
        let recorder = RegionRecorder()
        let result = try $regionRecorder.withValue(recorder) { try body() }
        return (result, recorder.widest)
    }

    /// The recorder of the task that runs a region, if any.
    @TaskLocal private static var regionRecorder: RegionRecorder?

    /// Records a region of `workers` threads (a task-local read and, while recording, one
    /// atomic max per region: regions are tens of microseconds at least, so this costs nothing
    /// measurable).
    private static func noteRegion(workers: Int) {
        regionRecorder?.note(workers: workers)
    }
}

/// The widest parallel region seen while it was the current task's recorder.
private final class RegionRecorder: Sendable {
    private let workers = Atomic<Int>(1)

    var widest: Int { workers.load(ordering: .relaxed) }

    func note(workers count: Int) {
        var seen = workers.load(ordering: .relaxed)
        while count > seen {
            let (exchanged, original) = workers.compareExchange(expected: seen, desired: count, ordering: .relaxed)
            if exchanged { return }
            seen = original
        }
    }
}

/// A value that the `@Sendable` bodies of `Parallel` may capture although its type is not
/// `Sendable` (a pointer, or references to objects): the caller guarantees that the threads use
/// it without conflicting (each writes only its own part) and that it outlives the region.
public struct UncheckedSendable<Value>: @unchecked Sendable {
    /// The value.
    public let value: Value

    /// Wraps `value`.
    @inlinable public init(_ value: Value) { self.value = value }
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
