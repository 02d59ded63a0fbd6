/// Parses numbers from raw bytes without building strings: the hot path of dense columns.
public enum NumberParser {
    /// A decimal number: optional sign, digits, optional fraction and exponent
    /// (`-3`, `12.5`, `1e-3`). Integers beyond 2^53 lose precision, as in any float parser, but
    /// never overflow. Returns nil for anything else, including an empty field.

    public static func parseDouble(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        var i = 0
        let n = bytes.count
        guard n > 0 else { return nil }
        var negative = false
        if bytes[0] == ASCII.minus || bytes[0] == ASCII.plus {
            negative = bytes[0] == ASCII.minus
            i = 1
        }
        var mantissa: Double = 0
        var digits = 0
        var scale = 0
        while i < n, bytes[i] >= ASCII.zero, bytes[i] <= ASCII.nine {
            mantissa = mantissa * 10 + Double(bytes[i] &- ASCII.zero)
            digits += 1
            i += 1
        }
        if i < n, bytes[i] == ASCII.dot {
            i += 1
            while i < n, bytes[i] >= ASCII.zero, bytes[i] <= ASCII.nine {
                mantissa = mantissa * 10 + Double(bytes[i] &- ASCII.zero)
                digits += 1
                scale -= 1
                i += 1
            }
        }
        guard digits > 0 else { return nil }
        if i < n, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            var exponentNegative = false
            if i < n, bytes[i] == ASCII.minus || bytes[i] == ASCII.plus {
                exponentNegative = bytes[i] == ASCII.minus
                i += 1
            }
            var exponent = 0
            var exponentDigits = 0
            while i < n, bytes[i] >= ASCII.zero, bytes[i] <= ASCII.nine {
                exponent = min(exponent * 10 + Int(bytes[i] &- ASCII.zero), 100_000)
                exponentDigits += 1
                i += 1
            }
            guard exponentDigits > 0 else { return nil }
            scale += exponentNegative ? -exponent : exponent
        }
        guard i == n else { return nil }
        let value = scale == 0 ? mantissa : mantissa * _pow(10, Double(scale))
        return negative ? -value : value
    }

    /// A dense value as Float32: nil for text that is not a number; `.infinity` marks a number
    /// beyond Float32's range (the caller reports it as out of range).
    static func parseFloat(_ bytes: UnsafeBufferPointer<UInt8>) -> Float? {
        guard let value = parseDouble(bytes) else { return nil }
        let narrowed = Float(value)
        return narrowed.isFinite ? narrowed : .infinity
    }

    /// A non-negative decimal integer that fits in `Int`, or nil.

    public static func parseInt(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for b in bytes {
            guard b >= ASCII.zero, b <= ASCII.nine else { return nil }
            value = value * 10 + Int(b &- ASCII.zero)
        }
        return value
    }

    /// A 0/1 label, or nil.

    public static func parseBinaryLabel(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt8? {
        guard bytes.count == 1 else { return nil }
        switch bytes[0] {
        case ASCII.zero: return 0
        case ASCII.zero + 1: return 1
        default: return nil
        }
    }
}
