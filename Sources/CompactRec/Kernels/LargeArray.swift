import CompactRecData

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// Arrays for embedding tables and their optimizer state: hundreds of MB read at random rows.
///
/// With 4 KiB pages nearly every random row costs a TLB miss and a page walk; on Linux the
/// memory of a large array is advised for transparent huge pages (`MADV_HUGEPAGE`, 2 MiB)
/// before it is first written, so its pages are faulted in huge (when the kernel's setting is
/// `madvise` or `always`). A hint only: where it is not honoured the array is the same.
enum LargeArray {
    /// Arrays at least this large are advised.
    static let adviceThreshold = 4 << 20

    /// `count` copies of `value`.
    static func repeating<T>(_ value: T, count: Int) -> [T] {
        make(count: count) { buffer in buffer.initialize(repeating: value) }
    }

    /// An array of `count` elements that `initialize` writes, all of them, in order.
    static func make<T>(count: Int, _ initialize: (UnsafeMutableBufferPointer<T>) -> Void) -> [T] {
        Array(unsafeUninitializedCapacity: count) { buffer, initializedCount in
            adviseHugePages(UnsafeMutableRawBufferPointer(buffer))
            initialize(UnsafeMutableBufferPointer(rebasing: buffer[0..<count]))
            initializedCount = count
        }
    }

    /// Advises the whole 2 MiB pages inside `bytes` for transparent huge pages (Linux).
    static func adviseHugePages(_ bytes: UnsafeMutableRawBufferPointer) {
        #if os(Linux)
            guard bytes.count >= adviceThreshold, let base = bytes.baseAddress else { return }
            let huge = 2 << 20
            let start = (Int(bitPattern: base) + huge - 1) & ~(huge - 1)
            let end = (Int(bitPattern: base) + bytes.count) & ~(huge - 1)
            guard end > start, let address = UnsafeMutableRawPointer(bitPattern: start) else { return }
            _ = madvise(address, end - start, 14 /* MADV_HUGEPAGE */)
        #endif
    }
}
