import CompactRecData

/// General matrix multiply, C = alpha * op(A) * op(B) + beta * C, the work of every dense layer
/// (forward: X W; backward: dY W^T and X^T dY).
///
/// `multiply` packs panels of A and B into cache-sized blocks and runs a register-blocked
/// 6 x 16 `SIMD8<Float>` micro-kernel (fused multiply-adds on AVX2), splitting blocks of C over
/// `threads` cores; see `GEMMKernel`. Products with a dimension of 1 (matrix-vector products
/// such as a logit layer's, and outer products) take a vector path instead, which neither pads
/// nor packs. It is tested against `referenceMultiply`, the plain triple loop.
public enum GEMM {
    /// C = alpha * op(A) * op(B) + beta * C, where op(X) is X or its transpose.
    ///
    /// `c` must already have op(A).rows rows and op(B).columns columns. When `beta` is 0, C's
    /// previous values are ignored (even NaNs); when `alpha` is 0 or the inner dimension is 0,
    /// A and B are not read and C becomes beta * C.
    ///
    /// With `rowVector` (1 x n), C = alpha * op(A) * op(B) + beta * C + 1 rowVector: the vector
    /// is added to every row, as a layer's bias, in the same pass that writes C (the same bits
    /// as adding it afterwards).
    ///
    /// `epilogue` is applied to C's values last (after the row vector), as each tile of C is
    /// finished: a ReLU, or a ReLU's backward mask (see `GEMMEpilogue`).
    ///
    /// - Parameters:
    ///   - threads: cores to use; blocks of C are shared out, so every thread count gives the
    ///     same bits. Small products run on one core whatever this says.
    ///   - workspace: packing buffers to reuse (see `GEMMWorkspace`); `nil` borrows one from an
    ///     internal pool, which also allocates nothing once warm.
    public static func multiply(
        _ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false,
        into c: inout Matrix, alpha: Float = 1, beta: Float = 0, adding rowVector: Matrix? = nil,
        epilogue: GEMMEpilogue = .none, threads: Int = 1, workspace: GEMMWorkspace? = nil
    ) {
        let m = transposeA ? a.columns : a.rows
        let k = transposeA ? a.rows : a.columns
        let kb = transposeB ? b.columns : b.rows
        let n = transposeB ? b.rows : b.columns
        precondition(k == kb, "GEMM: inner dimensions differ (\(k) vs \(kb))")
        precondition(c.rows == m && c.columns == n, "GEMM: C is \(c.rows)x\(c.columns), expected \(m)x\(n)")
        precondition(rowVector.map { $0.count == n } ?? true, "GEMM: the row vector has \(rowVector?.count ?? 0) values, C \(n) columns")
        if case .positiveMask(let mask) = epilogue {
            precondition(mask.rows == m && mask.columns == n, "GEMM: the mask is \(mask.rows)x\(mask.columns), C \(m)x\(n)")
        }
        GEMMKernel.multiply(
            a, transposeA: transposeA, b, transposeB: transposeB, into: &c, alpha: alpha, beta: beta,
            rowVector: rowVector, epilogue: epilogue, threads: threads, workspace: workspace)
    }

    /// `C = alpha * op(A) * B + beta * C` and `sums += the column sums of B` (a `1 x n` row):
    /// a Linear layer's weight gradient `X^T dY` and bias gradient `1^T dY`, with `dY` read once
    /// (its columns are summed as it is packed for the product). Where the product does not
    /// pack B (vector products), the sums take a separate pass. The sums' bits depend on the
    /// shapes only, never on `threads`.
    public static func multiply(
        _ a: Matrix, transposeA: Bool = false, _ b: Matrix, into c: inout Matrix, alpha: Float = 1,
        beta: Float = 0, addingColumnSumsOfBTo sums: inout Matrix, threads: Int = 1
    ) {
        let m = transposeA ? a.columns : a.rows
        let k = transposeA ? a.rows : a.columns
        precondition(k == b.rows, "GEMM: inner dimensions differ (\(k) vs \(b.rows))")
        precondition(c.rows == m && c.columns == b.columns, "GEMM: C is \(c.rows)x\(c.columns), expected \(m)x\(b.columns)")
        precondition(sums.count == b.columns, "GEMM: \(sums.count) sums for \(b.columns) columns")
        guard GEMMKernel.sumsColumnsWhilePacking(m: m, n: b.columns, k: k, alpha: alpha, transposeB: false), m > 0 else {
            multiply(a, transposeA: transposeA, b, into: &c, alpha: alpha, beta: beta, threads: threads)
            Elementwise.columnSums(b, into: &sums, accumulate: true, threads: threads)
            return
        }
        sums.withUnsafeMutableBufferPointer { values in
            GEMMKernel.multiply(
                a, transposeA: transposeA, b, transposeB: false, into: &c, alpha: alpha, beta: beta, rowVector: nil,
                epilogue: .none, threads: threads, workspace: nil, columnSums: values.baseAddress)
        }
    }

    /// The triple loop, accumulating in Double: the ground truth for kernel tests.
    public static func referenceMultiply(
        _ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false,
        into c: inout Matrix, alpha: Float = 1, beta: Float = 0
    ) {
        let m = transposeA ? a.columns : a.rows
        let k = transposeA ? a.rows : a.columns
        let kb = transposeB ? b.columns : b.rows
        let n = transposeB ? b.rows : b.columns
        precondition(k == kb, "GEMM: inner dimensions differ (\(k) vs \(kb))")
        precondition(c.rows == m && c.columns == n, "GEMM: C is \(c.rows)x\(c.columns), expected \(m)x\(n)")
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let x = transposeA ? a[p, i] : a[i, p]
                    let y = transposeB ? b[j, p] : b[p, j]
                    sum += Double(x) * Double(y)
                }
                c[i, j] = alpha * Float(sum) + (beta == 0 ? 0 : beta * c[i, j])
            }
        }
    }
}
