/// The one random number generator of CompactRec: xoshiro256** seeded through SplitMix64.
///
/// Every stochastic step (data generation, splits, initialisation, shuffling, dropout) takes a
/// `SeededRandom` explicitly, so the same seed gives the same bits on every machine.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// Creates a generator whose whole stream is determined by `seed`.
    public init(seed: UInt64) {
        var mixer = SplitMix64(state: seed)
        s0 = mixer.next()
        s1 = mixer.next()
        s2 = mixer.next()
        s3 = mixer.next()
    }

    /// Creates an independent stream for one of many parallel work items (a chunk of rows, a
    /// thread), so results do not depend on how work is scheduled.
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: SplitMix64.mix(seed &+ SplitMix64.mix(stream &+ 0x632B_E59B_D9B4_E019)))
    }

    /// The generator's whole state (four words), for checkpoints.
    public var state: [UInt64] { [s0, s1, s2, s3] }

    /// A generator continuing from `state` (as `state` gave it); nil unless four words, not all 0.
    public init?(state: [UInt64]) {
        guard state.count == 4, state.contains(where: { $0 != 0 }) else { return nil }
        (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3])
    }

    /// The next 64 random bits.

    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform Double in [0, 1) with 53 random bits.

    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform Float in [0, 1) with 24 random bits.

    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * 0x1.0p-24
    }

    /// A standard normal sample (Box-Muller; one of the pair is discarded for simplicity).
    public mutating func nextGaussian() -> Double {
        var u1 = nextUnitDouble()
        while u1 <= 0 { u1 = nextUnitDouble() }
        let u2 = nextUnitDouble()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }
}

/// SplitMix64: seeds xoshiro and mixes integers into well-distributed 64-bit values.
public struct SplitMix64: Sendable {
    /// The running state.
    public var state: UInt64

    /// Creates a mixer starting at `state`.
    public init(state: UInt64) { self.state = state }

    /// Advances and returns the next mixed value.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// The SplitMix64 finaliser: a bijection on 64-bit integers with good avalanche.

    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
