/// The loops of AutoDim's candidate mixing: weighted sums of same-shaped matrices, their dot
/// products, and adding a narrow gradient into a block of columns. Run on one core each (the
/// search shares the fields out over the cores).
enum CandidateMixing {
    /// `target = weight * source` (`accumulate`: `target += weight * source`); `target` is
    /// resized to the source's rows when overwritten.
    static func add(_ source: Matrix, weight: Float, to target: inout Matrix, accumulate: Bool) {
        precondition(source.columns == target.columns && (!accumulate || source.rows == target.rows),
                     "CandidateMixing.add: shapes differ")
        if !accumulate { target.resize(rows: source.rows) }
        let count = source.count
        source.withUnsafeBufferPointer { x in
            target.withUnsafeMutableBufferPointer { y in
                guard let xs = x.baseAddress, let ys = y.baseAddress else { return }
                if accumulate {
                    for i in 0..<count { ys[i] += weight * xs[i] }
                } else {
                    for i in 0..<count { ys[i] = weight * xs[i] }
                }
            }
        }
    }

    /// `sum of a[r, c] * b[r, c]` over all values of two same-shaped matrices (rows summed in
    /// order, in Double).
    static func dot(_ a: Matrix, _ b: Matrix) -> Double {
        precondition(a.rows == b.rows && a.columns == b.columns, "CandidateMixing.dot: shapes differ")
        let columns = a.columns
        return a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                guard let xs = x.baseAddress, let ys = y.baseAddress else { return 0 }
                var total = 0.0
                for r in 0..<a.rows {
                    total += Double(Elementwise.dot(xs + r * columns, ys + r * columns, count: columns))
                }
                return total
            }
        }
    }

    /// `target[r, offset + c] += source[r, c]` for the first `count` columns of `source`.
    static func addColumns(of source: Matrix, count: Int, to target: inout Matrix, at offset: Int) {
        precondition(source.rows == target.rows && count <= source.columns && offset + count <= target.columns,
                     "CandidateMixing.addColumns: shapes do not fit")
        let (sourceWidth, targetWidth, rows) = (source.columns, target.columns, source.rows)
        source.withUnsafeBufferPointer { x in
            target.withUnsafeMutableBufferPointer { y in
                guard let xs = x.baseAddress, let ys = y.baseAddress else { return }
                for r in 0..<rows {
                    let from = xs + r * sourceWidth, to = ys + r * targetWidth + offset
                    for c in 0..<count { to[c] += from[c] }
                }
            }
        }
    }
}
