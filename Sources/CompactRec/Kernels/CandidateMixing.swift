import CompactRecData

/// The loops of AutoDim's candidate mixing (`SearchField`), on one field's small matrices: the
/// candidates' maps side by side (`K x candidates * width`, candidate `m` in the column block
/// `m * width ..< (m + 1) * width`), per-column statistics and scales, and moving blocks of
/// values between matrices. Run on one core each (the search shares the fields out over the
/// cores).
enum CandidateMixing {
    /// Subtracts each column's mean from the column, and writes the means (`1 x columns`).
    static func centerColumns(_ matrix: inout Matrix, means: inout Matrix) {
        precondition(matrix.rows > 0 && means.count == matrix.columns, "CandidateMixing.centerColumns: shapes differ")
        Elementwise.columnSums(matrix, into: &means, accumulate: false)
        let (rows, columns) = (matrix.rows, matrix.columns)
        let inverseRows = 1 / Float(rows)
        means.withUnsafeMutableBufferPointer { mean in
            for c in 0..<columns { mean[c] *= inverseRows }
            matrix.withUnsafeMutableBufferPointer { x in
                for r in 0..<rows {
                    for c in 0..<columns { x[r * columns + c] -= mean[c] }
                }
            }
        }
    }

    /// `output[c] = sum over k of a[k, c] * b[k, c]` (two same-shaped matrices; `1 x columns`).
    static func columnDots(_ a: Matrix, _ b: Matrix, into output: inout Matrix) {
        precondition(a.rows == b.rows && a.columns == b.columns && output.count == a.columns, "CandidateMixing.columnDots: shapes differ")
        blockColumnDots(a, b, width: a.columns, into: &output)
    }

    /// `output[m * width + j] = sum over k of maps[k, m * width + j] * b[k, j]`: each block of
    /// `maps` against the same `K x width` matrix (`1 x columns of maps`).
    static func blockColumnDots(_ maps: Matrix, _ b: Matrix, width: Int, into output: inout Matrix) {
        precondition(
            maps.rows == b.rows && b.columns == width && maps.columns % width == 0 && output.count == maps.columns,
            "CandidateMixing.blockColumnDots: shapes differ")
        let (rows, columns) = (maps.rows, maps.columns)
        maps.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                output.withUnsafeMutableBufferPointer { out in
                    for c in 0..<columns { out[c] = 0 }
                    for k in 0..<rows {
                        for c in 0..<columns { out[c] += a[k * columns + c] * b[k * width + c % width] }
                    }
                }
            }
        }
    }

    /// `output[k, j] = sum over m of weights[m] * maps[k, m * width + j] * scale[m * width + j]`:
    /// the candidates' scaled maps mixed into one `K x width` map.
    static func mixedMap(_ maps: Matrix, scale: Matrix, weights: [Float], width: Int, into output: inout Matrix) {
        precondition(
            maps.columns == weights.count * width && scale.count == maps.columns && output.rows == maps.rows
                && output.columns == width, "CandidateMixing.mixedMap: shapes differ")
        let (rows, columns) = (maps.rows, maps.columns)
        maps.withUnsafeBufferPointer { a in
            scale.withUnsafeBufferPointer { s in
                output.withUnsafeMutableBufferPointer { out in
                    for k in 0..<rows {
                        for j in 0..<width { out[k * width + j] = 0 }
                        for (m, weight) in weights.enumerated() {
                            for j in 0..<width {
                                let c = m * width + j
                                out[k * width + j] += weight * a[k * columns + c] * s[c]
                            }
                        }
                    }
                }
            }
        }
    }

    /// `output[k, c] = a[k, c] * factors[c]`.
    static func scaleColumns(_ a: Matrix, by factors: Matrix, into output: inout Matrix) {
        precondition(
            factors.count == a.columns && output.rows == a.rows && output.columns == a.columns,
            "CandidateMixing.scaleColumns: shapes differ")
        let (rows, columns) = (a.rows, a.columns)
        a.withUnsafeBufferPointer { x in
            factors.withUnsafeBufferPointer { f in
                output.withUnsafeMutableBufferPointer { out in
                    for k in 0..<rows {
                        for c in 0..<columns { out[k * columns + c] = x[k * columns + c] * f[c] }
                    }
                }
            }
        }
    }

    /// `output[k, m * width + j] = first[m * width + j] * b[k, j] + second[m * width + j] *
    /// c[k, m * width + j]`: a `K x width` matrix spread over the blocks plus a blockwise one,
    /// each column with its own coefficients.
    static func combine(
        _ b: Matrix, coefficients first: Matrix, _ c: Matrix, coefficients second: Matrix, width: Int,
        into output: inout Matrix
    ) {
        precondition(
            b.rows == c.rows && b.columns == width && c.columns % width == 0 && first.count == c.columns
                && second.count == c.columns && output.rows == c.rows && output.columns == c.columns,
            "CandidateMixing.combine: shapes differ")
        let (rows, columns) = (c.rows, c.columns)
        b.withUnsafeBufferPointer { b in
            c.withUnsafeBufferPointer { x in
                first.withUnsafeBufferPointer { f in
                    second.withUnsafeBufferPointer { s in
                        output.withUnsafeMutableBufferPointer { out in
                            for k in 0..<rows {
                                for col in 0..<columns {
                                    out[k * columns + col] = f[col] * b[k * width + col % width] + s[col] * x[k * columns + col]
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `target[r, at + c] = source[r, from + c]` for `c < count`.
    static func copyColumns(of source: Matrix, from: Int, count: Int, to target: inout Matrix, at: Int) {
        precondition(source.rows == target.rows, "CandidateMixing.copyColumns: row counts differ")
        copyBlock(of: source, rows: 0..<source.rows, columns: from..<(from + count), to: &target, row: 0, column: at, accumulate: false)
    }

    /// `target[row + i, column + j] = source[rows.lowerBound + i, columns.lowerBound + j]` over
    /// the block (`accumulate`: `+=`).
    static func copyBlock(
        of source: Matrix, rows: Range<Int>, columns: Range<Int>, to target: inout Matrix, row: Int, column: Int,
        accumulate: Bool
    ) {
        precondition(
            rows.lowerBound >= 0 && rows.upperBound <= source.rows && columns.lowerBound >= 0
                && columns.upperBound <= source.columns && row >= 0 && row + rows.count <= target.rows
                && column >= 0 && column + columns.count <= target.columns, "CandidateMixing.copyBlock: the block does not fit")
        let (sourceWidth, targetWidth, count) = (source.columns, target.columns, columns.count)
        guard count > 0 else { return }
        source.withUnsafeBufferPointer { x in
            target.withUnsafeMutableBufferPointer { y in
                guard let xs = x.baseAddress, let ys = y.baseAddress else { return }
                for (i, r) in rows.enumerated() {
                    let from = xs + r * sourceWidth + columns.lowerBound
                    let to = ys + (row + i) * targetWidth + column
                    if accumulate {
                        for c in 0..<count { to[c] += from[c] }
                    } else {
                        to.update(from: from, count: count)
                    }
                }
            }
        }
    }
}
