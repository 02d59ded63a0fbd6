import CompactRecShims

/// An open-addressing hash map from 64-bit value keys to 32-bit ids, each with a 32-bit
/// counter.
///
/// The keys are already well mixed, so probing uses their bits directly, and key, id and count
/// share one 16-byte slot: a lookup in a table far larger than the caches costs one cache miss,
/// not three. This is several times faster than `Dictionary` (whose SipHash and separate
/// storage dominate vocabulary counting on billions of values). Key 0 is reserved: it marks an
/// empty slot (and, in `ParsedRows`, a missing value).
struct KeyTable: Sendable {
    private struct Slot {
        var key: UInt64
        var id: UInt32
        var count: UInt32
    }

    private var slots: [Slot]
    private var mask: Int
    /// Number of keys stored.
    private(set) var count = 0

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Slot](repeating: Slot(key: 0, id: 0, count: 0), count: size)
        mask = size - 1
    }

    /// The id stored for `key`, or nil.
    func value(for key: UInt64) -> UInt32? {
        slots.withUnsafeBufferPointer { slots in
            var index = Int(truncatingIfNeeded: key) & mask
            while true {
                let slot = slots[index]
                if slot.key == key { return slot.id }
                if slot.key == 0 { return nil }
                index = (index + 1) & mask
            }
        }
    }

    /// Returns the id of `key`, storing `newValue` first if the key is new, and adds `increment`
    /// to the key's counter.
    @inline(__always)
    mutating func value(for key: UInt64, inserting newValue: UInt32, increment: UInt32 = 0) -> (value: UInt32, inserted: Bool) {
        let mask = self.mask
        let found: (UInt32, Bool) = slots.withUnsafeMutableBufferPointer { slots in
            var index = Int(truncatingIfNeeded: key) & mask
            while true {
                let slotKey = slots[index].key
                if slotKey == key {
                    slots[index].count &+= increment
                    return (slots[index].id, false)
                }
                if slotKey == 0 {
                    slots[index] = Slot(key: key, id: newValue, count: increment)
                    return (newValue, true)
                }
                index = (index + 1) & mask
            }
        }
        if found.1 {
            count += 1
            if count * 2 > slots.count { grow() }
        }
        return found
    }

    /// Starts loading the slot where `key` would be, ahead of `value(for:inserting:increment:)`
    /// for it: lookups in tables larger than the caches then overlap instead of stalling.
    @inline(__always)
    func prefetch(_ key: UInt64) {
        let index = Int(truncatingIfNeeded: key) & mask
        slots.withUnsafeBufferPointer { slots in
            if let base = slots.baseAddress { compactrec_prefetch_for_write(base + index) }
        }
    }

    /// Calls `body(id, count)` for every stored key.
    func forEach(_ body: (UInt32, UInt32) -> Void) {
        for slot in slots where slot.key != 0 { body(slot.id, slot.count) }
    }

    private mutating func grow() {
        let old = slots
        let size = slots.count * 2
        slots = [Slot](repeating: Slot(key: 0, id: 0, count: 0), count: size)
        mask = size - 1
        slots.withUnsafeMutableBufferPointer { slots in
            for slot in old where slot.key != 0 {
                var index = Int(truncatingIfNeeded: slot.key) & mask
                while slots[index].key != 0 { index = (index + 1) & mask }
                slots[index] = slot
            }
        }
    }
}
