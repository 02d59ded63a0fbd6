#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

// Thin wrappers so numeric code does not need Foundation (public: the training core uses them too).
@inlinable public func _log(_ x: Double) -> Double { log(x) }
@inlinable public func _cos(_ x: Double) -> Double { cos(x) }
@inlinable public func _exp(_ x: Double) -> Double { exp(x) }
@inlinable public func _log1p(_ x: Float) -> Float { log1pf(x) }
@inlinable public func _pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
@inlinable public func _log1p(_ x: Double) -> Double { log1p(x) }
@inlinable public func _expm1(_ x: Double) -> Double { expm1(x) }
