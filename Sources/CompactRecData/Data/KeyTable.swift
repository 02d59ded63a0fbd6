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

    /// Assigns ids to a strided column of keys in one pass (the preparer's hot loop): a known
    /// key gets its id, a new key gets `nextID` (then incremented) and its row is appended to
    /// `inserted`, key 0 (missing) gets id 0 and adds to `missing`. Each key's counter grows by
    /// one when `training[row]` is 0 (the row is in the training split). Slots are prefetched a
    /// few rows ahead, and the table is grown before the loop, never inside it.
    mutating func assign(
        keys: UnsafeBufferPointer<UInt64>, stride: Int, offset: Int, rows: Int,
        parts: UnsafeBufferPointer<UInt8>, ids: UnsafeMutableBufferPointer<UInt32>,
        nextID: inout UInt32, missing: inout UInt32, inserted: inout [Int]
    ) {
        reserve(count + rows)
        let mask = self.mask
        let ahead = 12  // rows of look-ahead: enough to cover a memory latency
        var inserts = 0
        var newID = nextID
        var missingCount = missing
        slots.withUnsafeMutableBufferPointer { slots in
            guard let base = slots.baseAddress else { return }
            for r in 0..<rows {
                if r + ahead < rows {
                    compactrec_prefetch_for_write(base + (Int(truncatingIfNeeded: keys[(r + ahead) * stride + offset]) & mask))
                }
                let key = keys[r * stride + offset]
                let increment: UInt32 = parts[r] == 0 ? 1 : 0
                if key == 0 {
                    missingCount &+= increment
                    ids[r * stride + offset] = 0
                    continue
                }
                var index = Int(truncatingIfNeeded: key) & mask
                while true {
                    let slotKey = slots[index].key
                    if slotKey == key {
                        slots[index].count &+= increment
                        ids[r * stride + offset] = slots[index].id
                        break
                    }
                    if slotKey == 0 {
                        slots[index] = Slot(key: key, id: newID, count: increment)
                        ids[r * stride + offset] = newID
                        newID &+= 1
                        inserts += 1
                        inserted.append(r)
                        break
                    }
                    index = (index + 1) & mask
                }
            }
        }
        count += inserts
        missing = missingCount
        nextID = newID
    }

    /// Grows the table so that `keys` keys fit below half load.
    private mutating func reserve(_ keys: Int) {
        while keys * 2 > slots.count { grow() }
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
