import CompactRecData

/// A per-column scale and shift applied to a block of columns, and its backward pass: the
/// loops of AutoDim's scale of the mixed vectors (`DimensionSearchEmbedding`'s `mixedScale`),
/// which scales and shifts each field's mixed vectors on their way into the model.
enum ColumnAffine {
    /// `target[r, at + j] = source[r, j] * scale[j] + shift[j]` for every row and every column
    /// `j` of `source` (`scale` and `shift` are `1 x source.columns`).
    static func apply(_ source: Matrix, scale: Matrix, shift: Matrix, to target: inout Matrix, at: Int) {
        let width = source.columns
        precondition(
            scale.count == width && shift.count == width && source.rows == target.rows && at >= 0
                && at + width <= target.columns, "ColumnAffine.apply: shapes differ")
        let (rows, targetWidth) = (source.rows, target.columns)
        source.withUnsafeBufferPointer { x in
            scale.withUnsafeBufferPointer { s in
                shift.withUnsafeBufferPointer { b in
                    target.withUnsafeMutableBufferPointer { y in
                        for r in 0..<rows {
                            for j in 0..<width { y[r * targetWidth + at + j] = x[r * width + j] * s[j] + b[j] }
                        }
                    }
                }
            }
        }
    }

    /// The backward pass of `apply` for the columns `at ..< at + source.columns` of `gradient`:
    /// writes `gradient * scale` into the same columns of `inputGradient`, and (when given) adds
    /// the column sums of `gradient * source` to `scaleGradient` and of `gradient` to
    /// `shiftGradient`.
    static func backward(
        _ gradient: Matrix, at: Int, source: Matrix, scale: Matrix, inputGradient: inout Matrix,
        scaleGradient: inout Matrix, shiftGradient: inout Matrix, accumulatesParameters: Bool
    ) {
        let width = source.columns
        precondition(
            scale.count == width && source.rows == gradient.rows && inputGradient.rows == gradient.rows
                && inputGradient.columns == gradient.columns && at >= 0 && at + width <= gradient.columns
                && (!accumulatesParameters || (scaleGradient.count == width && shiftGradient.count == width)),
            "ColumnAffine.backward: shapes differ")
        let (rows, gradientWidth) = (gradient.rows, gradient.columns)
        gradient.withUnsafeBufferPointer { g in
            source.withUnsafeBufferPointer { x in
                scale.withUnsafeBufferPointer { s in
                    inputGradient.withUnsafeMutableBufferPointer { out in
                        for r in 0..<rows {
                            for j in 0..<width { out[r * gradientWidth + at + j] = g[r * gradientWidth + at + j] * s[j] }
                        }
                    }
                }
                guard accumulatesParameters else { return }
                scaleGradient.withUnsafeMutableBufferPointer { ds in
                    shiftGradient.withUnsafeMutableBufferPointer { db in
                        for r in 0..<rows {
                            for j in 0..<width {
                                let value = g[r * gradientWidth + at + j]
                                ds[j] += value * x[r * width + j]
                                db[j] += value
                            }
                        }
                    }
                }
            }
        }
    }
}
