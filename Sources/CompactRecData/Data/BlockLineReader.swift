#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// Reads a file in large blocks that end on a line break, so lines can be parsed in place and
/// split between threads. Memory stays at one block (plus the longest line), whatever the file
/// size. Also checksums every byte read (XXH64), for `dataset.json`'s record of the source.
public final class BlockLineReader {
    /// The file's path, as given.
    public let path: String
    /// The file's size in bytes when opened.
    public let size: Int
    /// Bytes handed out so far.
    public private(set) var bytesRead = 0
    /// XXH64 of the bytes handed out so far.
    private(set) var checksum = XXHash64()
    private let descriptor: Int32
    private var base: UnsafeMutableRawPointer
    private var capacity: Int
    private var carried = 0
    private var reachedEnd = false

    /// Opens `path`; fails with a message for a missing, unreadable or empty file.
    public init(path: String, blockSize: Int = 8 << 20) throws(DataError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw .fileNotFound(path: path) }
            throw .unreadable(path: path, reason: String(cString: strerror(code)))
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .unreadable(path: path, reason: reason)
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw .unreadable(path: path, reason: "it is a directory, not a file")
        }
        guard info.st_size > 0 else {
            close(fd)
            throw .emptyFile(path: path)
        }
        descriptor = fd
        size = Int(info.st_size)
        capacity = max(blockSize, 4096)
        base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
    }

    deinit {
        close(descriptor)
        base.deallocate()
    }

    /// Calls `body` with the next block of whole lines, or returns false at the end of the file.
    /// The block ends with a line break, except for a last line that has none.
    public func nextBlock<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) throws -> R? {
        if reachedEnd && carried == 0 { return nil }
        var filled = carried
        while true {
            while filled < capacity && !reachedEnd {
                let n = read(descriptor, base + filled, capacity - filled)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DataError.unreadable(path: path, reason: String(cString: strerror(errno)))
                }
                if n == 0 { reachedEnd = true } else { filled += n }
            }
            if reachedEnd {
                if filled == 0 { return nil }
                carried = 0
                return try handOut(count: filled, keep: filled, body)
            }
            // Cut after the last line break; a line longer than the buffer grows it.
            let bytes = UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: filled)
            if let lastBreak = bytes.lastIndex(of: ASCII.newline) {
                let result = try handOut(count: lastBreak + 1, keep: filled, body)
                return result
            }
            let larger = UnsafeMutableRawPointer.allocate(byteCount: capacity * 2, alignment: 64)
            larger.copyMemory(from: base, byteCount: filled)
            base.deallocate()
            base = larger
            capacity *= 2
        }
    }

    /// Calls `body` with every line of `path` (LF or CR LF, empty ones included) and its
    /// 1-based number: for small files and tests; `Preparer` streams blocks itself.
    public static func forEachLine(
        in path: String, blockSize: Int = 1 << 20,
        _ body: (Int, UnsafeBufferPointer<UInt8>) throws(DataError) -> Void
    ) throws(DataError) {
        let reader = try BlockLineReader(path: path, blockSize: blockSize)
        var lineNumber = 0
        do {
            while try reader.nextBlock({ (block) throws -> Bool in
                var lines = LineIterator(block)
                while let line = lines.next() {
                    lineNumber += 1
                    try body(lineNumber, line)
                }
                return true
            }) != nil {}
        } catch let error as DataError {
            throw error
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
    }

    private func handOut<R>(count: Int, keep filled: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) throws -> R {
        let block = UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: count)
        checksum.update(UnsafeRawBufferPointer(block))
        bytesRead += count
        let result = try body(block)
        carried = filled - count
        if carried > 0 { memmove(base, base + count, carried) }
        return result
    }
}

/// Iterates the lines of a block: each without its LF or CR LF.
public struct LineIterator {
    private let block: UnsafeBufferPointer<UInt8>
    private var position = 0

    public init(_ block: UnsafeBufferPointer<UInt8>) { self.block = block }

    /// Byte offset of the next line in the block.
    public var offset: Int { position }

    public mutating func next() -> UnsafeBufferPointer<UInt8>? {
        guard position < block.count, let base = block.baseAddress else { return nil }
        let start = position
        var end: Int
        if let found = memchr(base + start, Int32(ASCII.newline), block.count - start) {
            end = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            position = end + 1
        } else {
            end = block.count
            position = end
        }
        if end > start && block[end - 1] == ASCII.carriageReturn { end -= 1 }
        return block.slice(start..<end)
    }
}

extension LineIterator {
    /// The first non-empty line of `block` (empty if there is none), the number of blank lines
    /// before it, and the offset of the line after it: where formats look for a header.
    public static func firstNonBlankLine(of block: UnsafeBufferPointer<UInt8>) -> (
        line: UnsafeBufferPointer<UInt8>, leadingBlank: Int, rest: Int
    ) {
        var lines = LineIterator(block)
        var leadingBlank = 0
        while let line = lines.next() {
            if !line.isEmpty { return (line, leadingBlank, lines.offset) }
            leadingBlank += 1
        }
        return (block.slice(0..<0), leadingBlank, lines.offset)
    }
}

/// Splits a block of lines into `parts` pieces that each end on a line break, for threads.
public func splitOnLines(_ block: UnsafeBufferPointer<UInt8>, parts: Int) -> [UnsafeBufferPointer<UInt8>] {
    guard parts > 1, block.count > 4096 else { return [block] }
    var pieces: [UnsafeBufferPointer<UInt8>] = []
    var start = 0
    for p in 1..<parts {
        var cut = max(start, block.count * p / parts)
        while cut < block.count && block[cut] != ASCII.newline { cut += 1 }
        cut = min(cut + 1, block.count)
        pieces.append(block.slice(start..<cut))
        start = cut
    }
    pieces.append(block.slice(start..<block.count))
    return pieces.filter { !$0.isEmpty }
}
