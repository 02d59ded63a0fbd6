/// An open-addressing hash map from 64-bit value keys to 32-bit ids.
///
/// The keys are already XXH64 hashes, so probing uses their bits directly; this is several times
/// faster than `Dictionary`, whose SipHash dominates vocabulary counting on billions of values.
/// Key 0 is reserved (it marks an empty slot and, in `ParsedRows`, a missing value).
struct KeyTable: Sendable {
    private var keys: [UInt64]
    private var values: [UInt32]
    private var mask: Int
    /// Number of keys stored.
    private(set) var count = 0

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: 0, count: size)
        values = [UInt32](repeating: 0, count: size)
        mask = size - 1
    }

    /// The id stored for `key`, or nil.
    func value(for key: UInt64) -> UInt32? {
        var slot = Int(truncatingIfNeeded: key) & mask
        while true {
            let k = keys[slot]
            if k == key { return values[slot] }
            if k == 0 { return nil }
            slot = (slot + 1) & mask
        }
    }

    /// Returns the id of `key`, storing `newValue()` first if the key is new.
    @inline(__always)
    mutating func value(for key: UInt64, inserting newValue: UInt32) -> (value: UInt32, inserted: Bool) {
        var slot = Int(truncatingIfNeeded: key) & mask
        while true {
            let k = keys[slot]
            if k == key { return (values[slot], false) }
            if k == 0 { break }
            slot = (slot + 1) & mask
        }
        keys[slot] = key
        values[slot] = newValue
        count += 1
        if count * 2 > keys.count { grow() }
        return (newValue, true)
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldValues = values
        let size = keys.count * 2
        keys = [UInt64](repeating: 0, count: size)
        values = [UInt32](repeating: 0, count: size)
        mask = size - 1
        for i in 0..<oldKeys.count where oldKeys[i] != 0 {
            var slot = Int(truncatingIfNeeded: oldKeys[i]) & mask
            while keys[slot] != 0 { slot = (slot + 1) & mask }
            keys[slot] = oldKeys[i]
            values[slot] = oldValues[i]
        }
    }
}
