/// The XXH64 checksum (seed 0 by default), streaming.
///
/// CompactRec checksums source files, column files, vocabularies and model files with XXH64
/// because it runs at memory speed and is standard: `xxhsum -H64 FILE` gives the same value for
/// a source file, so users can check what a prepared dataset was made from.
public struct XXHash64: Sendable {
    @usableFromInline static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    @usableFromInline static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    @usableFromInline static let p3: UInt64 = 0x1656_67B1_9E37_79F9
    @usableFromInline static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
    @usableFromInline static let p5: UInt64 = 0x27D4_EB2F_1656_67C5

    private var v1: UInt64
    private var v2: UInt64
    private var v3: UInt64
    private var v4: UInt64
    private let seed: UInt64
    private var totalLength: UInt64 = 0
    private var pending: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var pendingCount = 0

    /// Starts a checksum with `seed`.
    public init(seed: UInt64 = 0) {
        self.seed = seed
        v1 = seed &+ XXHash64.p1 &+ XXHash64.p2
        v2 = seed &+ XXHash64.p2
        v3 = seed
        v4 = seed &- XXHash64.p1
    }

    @inlinable @inline(__always)
    static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

    @inlinable @inline(__always)
    static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
        rotl(acc &+ input &* p2, 31) &* p1
    }

    @inlinable @inline(__always)
    static func merge(_ acc: UInt64, _ value: UInt64) -> UInt64 {
        (acc ^ round(0, value)) &* p1 &+ p4
    }

    /// Adds `bytes` to the checksum.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var index = 0
        let count = bytes.count
        totalLength &+= UInt64(count)
        // Fill a partial 32-byte stripe left from the previous call.
        if pendingCount > 0 {
            let take = min(32 - pendingCount, count)
            let start = pendingCount
            withUnsafeMutableBytes(of: &pending) { stripe in
                UnsafeMutableRawBufferPointer(rebasing: stripe[start..<start + take])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<take]))
            }
            pendingCount += take
            index = take
            if pendingCount < 32 { return }
            consumeStripe(pending.0, pending.1, pending.2, pending.3)
            pendingCount = 0
        }
        var a = v1
        var b = v2
        var c = v3
        var d = v4
        while index + 32 <= count {
            let p = base + index
            a = XXHash64.round(a, UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)))
            b = XXHash64.round(b, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            c = XXHash64.round(c, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
            d = XXHash64.round(d, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
            index += 32
        }
        v1 = a
        v2 = b
        v3 = c
        v4 = d
        if index < count {
            let rest = count - index
            withUnsafeMutableBytes(of: &pending) { stripe in
                UnsafeMutableRawBufferPointer(rebasing: stripe[0..<rest])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[index..<count]))
            }
            pendingCount = rest
        }
    }

    /// Adds the bytes of an array.
    public mutating func update(contentsOf bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    private mutating func consumeStripe(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) {
        v1 = XXHash64.round(v1, UInt64(littleEndian: a))
        v2 = XXHash64.round(v2, UInt64(littleEndian: b))
        v3 = XXHash64.round(v3, UInt64(littleEndian: c))
        v4 = XXHash64.round(v4, UInt64(littleEndian: d))
    }

    /// The checksum of everything added so far.
    public func finalize() -> UInt64 {
        var h: UInt64
        if totalLength >= 32 {
            h = XXHash64.rotl(v1, 1) &+ XXHash64.rotl(v2, 7) &+ XXHash64.rotl(v3, 12) &+ XXHash64.rotl(v4, 18)
            h = XXHash64.merge(h, v1)
            h = XXHash64.merge(h, v2)
            h = XXHash64.merge(h, v3)
            h = XXHash64.merge(h, v4)
        } else {
            h = seed &+ XXHash64.p5
        }
        h &+= totalLength
        var tail = pending
        let count = pendingCount
        withUnsafeBytes(of: &tail) { raw in
            if let p = raw.baseAddress { h = XXHash64.tail(h, p, count) }
        }
        return XXHash64.avalanche(h)
    }

    @inlinable @inline(__always)
    static func tail(_ start: UInt64, _ p: UnsafeRawPointer, _ count: Int) -> UInt64 {
        var h = start
        var i = 0
        while i + 8 <= count {
            h ^= round(0, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            h = rotl(h, 27) &* p1 &+ p4
            i += 8
        }
        if i + 4 <= count {
            h ^= UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt32.self))) &* p1
            h = rotl(h, 23) &* p2 &+ p3
            i += 4
        }
        while i < count {
            h ^= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) &* p5
            h = rotl(h, 11) &* p1
            i += 1
        }
        return h
    }

    @inlinable @inline(__always)
    static func avalanche(_ value: UInt64) -> UInt64 {
        var h = value
        h ^= h >> 33
        h &*= p2
        h ^= h >> 29
        h &*= p3
        h ^= h >> 32
        return h
    }

    /// XXH64 of a short byte string in one call (the hot path of categorical value keys).
    @inlinable
    public static func hash(_ p: UnsafeRawPointer, count: Int, seed: UInt64 = 0) -> UInt64 {
        if count >= 32 {
            var hasher = XXHash64(seed: seed)
            hasher.update(UnsafeRawBufferPointer(start: p, count: count))
            return hasher.finalize()
        }
        let h = seed &+ p5 &+ UInt64(count)
        return avalanche(tail(h, p, count))
    }

    /// XXH64 of a byte array.
    public static func hash(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return avalanche(seed &+ p5) }
            return hash(base, count: raw.count, seed: seed)
        }
    }
}
