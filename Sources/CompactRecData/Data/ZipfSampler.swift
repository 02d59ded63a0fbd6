/// Draws 0-based ranks `k` in `0..<count` with probability proportional to `(k + 1)^-exponent`:
/// the frequency skew of categorical values in click logs (a few values are very common, most
/// are rare).
///
/// Small supports (up to `aliasLimit` values, whose table fits in a core's L2 cache) use Vose's
/// alias method: one 64-bit random number and one table read per draw. Larger supports use
/// Hörmann and Derflinger's rejection-inversion (as in Apache Commons' Zipf sampler), which needs
/// no table and accepts about 99% of first proposals. Both consume the generator in a fixed,
/// data-independent way per call (apart from rare rejections), so results depend only on the
/// seed.
///
/// The alias table lives in memory owned by the caller (the teacher's parameter storage), which
/// must outlive the sampler; that is why the type is `@unchecked Sendable`: it only reads it.
struct ZipfSampler: @unchecked Sendable {
    /// Number of values.
    let count: Int
    /// The Zipf exponent `s`.
    let exponent: Double
    /// Packed alias table (`threshold << 32 | alias`), or nil for rejection-inversion.
    private let table: UnsafePointer<UInt64>?
    private let hIntegralX1: Double
    private let hIntegralCount: Double
    private let shortcut: Double

    /// Supports up to this size use an alias table (8 bytes a value).
    static let aliasLimit = 1 << 16

    /// Table entries `init` needs for `count` values (zero when it will not build a table).
    static func tableSize(count: Int) -> Int { count <= aliasLimit ? count : 0 }

    /// Makes a sampler over `count` values. `table` must have `tableSize(count:)` entries (or may
    /// be nil when that is zero); the sampler fills it.
    init(count: Int, exponent: Double, table: UnsafeMutablePointer<UInt64>?) {
        self.count = count
        self.exponent = exponent
        if ZipfSampler.tableSize(count: count) > 0, let table {
            ZipfSampler.buildAliasTable(count: count, exponent: exponent, into: table)
            self.table = UnsafePointer(table)
        } else {
            self.table = nil
        }
        hIntegralX1 = ZipfSampler.hIntegral(1.5, exponent) - 1
        hIntegralCount = ZipfSampler.hIntegral(Double(count) + 0.5, exponent)
        shortcut =
            2
            - ZipfSampler.hIntegralInverse(
                ZipfSampler.hIntegral(2.5, exponent) - ZipfSampler.h(2, exponent), exponent)
    }

    /// The probability of rank `k` (0-based), for tests and reports.
    func probability(ofRank k: Int) -> Double {
        var total = 0.0
        for i in stride(from: count, through: 1, by: -1) { total += _pow(Double(i), -exponent) }
        return _pow(Double(k + 1), -exponent) / total
    }

    /// One 0-based rank.
    @inline(__always)
    func sample(_ rng: inout SeededRandom) -> Int {
        if let table {
            let r = rng.next()
            let index = Int(truncatingIfNeeded: ((r >> 32) &* UInt64(count)) >> 32)
            let entry = table[index]
            let threshold = UInt32(truncatingIfNeeded: entry >> 32)
            return UInt32(truncatingIfNeeded: r) < threshold ? index : Int(truncatingIfNeeded: entry & 0xFFFF_FFFF)
        }
        while true {
            let u = hIntegralCount + rng.nextUnitDouble() * (hIntegralX1 - hIntegralCount)
            let x = ZipfSampler.hIntegralInverse(u, exponent)
            var k = Int(x + 0.5)
            if k < 1 { k = 1 } else if k > count { k = count }
            if Double(k) - x <= shortcut
                || u >= ZipfSampler.hIntegral(Double(k) + 0.5, exponent) - ZipfSampler.h(Double(k), exponent)
            {
                return k - 1
            }
        }
    }

    // MARK: Rejection-inversion helpers (Hörmann & Derflinger 1996)

    @inline(__always)
    private static func hIntegral(_ x: Double, _ s: Double) -> Double {
        let logX = _log(x)
        return helper2((1 - s) * logX) * logX
    }

    @inline(__always)
    private static func h(_ x: Double, _ s: Double) -> Double { _exp(-s * _log(x)) }

    @inline(__always)
    private static func hIntegralInverse(_ x: Double, _ s: Double) -> Double {
        var t = x * (1 - s)
        if t < -1 { t = -1 }
        return _exp(helper1(t) * x)
    }

    /// `log1p(x) / x`, accurate near zero.
    @inline(__always)
    private static func helper1(_ x: Double) -> Double {
        if abs(x) > 1e-8 { return _log1p(x) / x }
        return 1 - x * (0.5 - x * (1.0 / 3.0 - x * 0.25))
    }

    /// `expm1(x) / x`, accurate near zero.
    @inline(__always)
    private static func helper2(_ x: Double) -> Double {
        if abs(x) > 1e-8 { return _expm1(x) / x }
        return 1 + x * 0.5 * (1 + x * (1.0 / 3.0) * (1 + x * 0.25))
    }

    // MARK: Alias table (Vose)

    private static func buildAliasTable(count: Int, exponent: Double, into table: UnsafeMutablePointer<UInt64>) {
        var scaled = [Double](repeating: 0, count: count)
        var total = 0.0
        for k in 0..<count {
            let w = _pow(Double(k + 1), -exponent)
            scaled[k] = w
            total += w
        }
        let factor = Double(count) / total
        var small: [Int] = []
        var large: [Int] = []
        small.reserveCapacity(count)
        large.reserveCapacity(count)
        for k in 0..<count {
            scaled[k] *= factor
            if scaled[k] < 1 { small.append(k) } else { large.append(k) }
        }
        // Every entry starts as "always itself"; entries with mass below 1 get an alias.
        for k in 0..<count { table[k] = UInt64(UInt32.max) << 32 | UInt64(k) }
        while let l = small.last, let g = large.last {
            small.removeLast()
            large.removeLast()
            let threshold = UInt64(min(scaled[l] * 4_294_967_296.0, 4_294_967_295.0))
            table[l] = threshold << 32 | UInt64(g)
            scaled[g] = (scaled[g] + scaled[l]) - 1
            if scaled[g] < 1 { small.append(g) } else { large.append(g) }
        }
        // Whatever remains has mass 1 up to rounding: always itself.
        for k in small + large { table[k] = UInt64(UInt32.max) << 32 | UInt64(k) }
    }
}
