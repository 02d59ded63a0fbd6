import CompactRecData

/// A row-major Float32 matrix: the storage of activations, gradients and dense weights.
///
/// Layers keep their matrices across batches and call `resize(rows:)` for a batch of a different
/// size, which reallocates only when the matrix grows: the training loop does not allocate.
public struct Matrix: Sendable, Equatable {
    /// Number of rows (for activations: samples in the batch).
    public private(set) var rows: Int
    /// Number of columns (features).
    public let columns: Int
    /// The values, row-major; at least `rows * columns` long (the rest is spare capacity).
    public private(set) var storage: [Float]

    /// A matrix filled with `value`.
    public init(rows: Int, columns: Int, repeating value: Float = 0) {
        precondition(rows >= 0 && columns >= 0, "Matrix dimensions must be non-negative")
        self.rows = rows
        self.columns = columns
        storage = [Float](repeating: value, count: rows * columns)
    }

    /// A matrix holding `values` (row-major, exactly rows x columns of them).
    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(
            values.count == rows * columns, "Matrix(rows: \(rows), columns: \(columns)) needs \(rows * columns) values, got \(values.count)"
        )
        self.rows = rows
        self.columns = columns
        storage = values
    }

    /// A matrix of independent N(0, standard deviation^2) values.
    public static func gaussian(rows: Int, columns: Int, standardDeviation: Float, random: inout SeededRandom) -> Matrix {
        Matrix(
            rows: rows, columns: columns,
            values: (0..<rows * columns).map { _ in Float(random.nextGaussian()) * standardDeviation })
    }

    /// A matrix of independent uniform values in [-limit, limit].
    public static func uniform(rows: Int, columns: Int, limit: Float, random: inout SeededRandom) -> Matrix {
        Matrix(
            rows: rows, columns: columns,
            values: (0..<rows * columns).map { _ in (random.nextUnitFloat() * 2 - 1) * limit })
    }

    /// Number of values (`rows * columns`).
    public var count: Int { rows * columns }

    /// The value at `row`, `column`.
    @inline(__always)
    public subscript(row: Int, column: Int) -> Float {
        get { storage[row * columns + column] }
        set { storage[row * columns + column] = newValue }
    }

    /// The values as a flat array (a copy of the valid part).
    public var values: [Float] { Array(storage[0..<count]) }

    /// Changes the number of rows, keeping capacity; new rows hold unspecified values.
    public mutating func resize(rows newRows: Int) {
        precondition(newRows >= 0, "Matrix rows must be non-negative")
        if newRows * columns > storage.count {
            storage.append(contentsOf: repeatElement(0, count: newRows * columns - storage.count))
        }
        rows = newRows
    }

    /// Sets every value to `value`.
    public mutating func fill(_ value: Float) {
        let n = count
        storage.withUnsafeMutableBufferPointer { values in
            for i in 0..<n { values[i] = value }
        }
    }

    /// Calls `body` with the valid values.
    @inline(__always)
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        let n = count
        return try storage.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<n])) }
    }

    /// Calls `body` with the valid values, mutable.
    @inline(__always)
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        let n = count
        return try storage.withUnsafeMutableBufferPointer { try body(UnsafeMutableBufferPointer(rebasing: $0[0..<n])) }
    }

    /// Equal shapes and values (spare capacity ignored).
    public static func == (a: Matrix, b: Matrix) -> Bool {
        a.rows == b.rows && a.columns == b.columns && a.storage[0..<a.count] == b.storage[0..<b.count]
    }
}
