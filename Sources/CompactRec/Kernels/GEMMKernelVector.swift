import CompactRecData

/// The products with a dimension of 1, which the 6 x 16 micro-kernel would pad 6- or 16-fold
/// and pack for nothing: matrix-vector products (n = 1, the logit layer's X w and X^T dY; or
/// m = 1) and outer products (k = 1, the logit layer's dY w^T).
///
/// Each output value is computed by one thread in an order that depends only on k, so, as for
/// the blocked kernel, every thread count gives the same bits.
extension GEMMKernel {
    /// Whether `multiply` takes the vector path for a product of these sizes.
    static func isVectorProduct(m: Int, n: Int, k: Int) -> Bool { m == 1 || n == 1 || k == 1 }

    /// C = alpha op(A) op(B) + beta C (+ `bias` on every row) when m, n or k is 1 (and none is
    /// 0; alpha is not 0).
    static func multiplyVector(
        m: Int, n: Int, k: Int, a: GEMMOperand, b: GEMMOperand, c: UnsafeMutablePointer<Float>,
        alpha: Float, beta: Float, bias: UnsafePointer<Float>?, threads: Int
    ) {
        let workers = m * n * k < parallelThreshold ? 1 : max(1, threads)
        // With a dimension of 1, every vector operand is contiguous: a k x 1 or 1 x k matrix
        // stored either way round has stride 1 along its length.
        if k == 1 && m > 1 && n > 1 {
            outerProduct(m: m, n: n, u: a.base, v: b.base, c: c, alpha: alpha, beta: beta, bias: bias, workers: workers)
        } else if n == 1 {
            // C (m x 1) = op(A) x, with x = op(B)'s only column; the bias is one value for all.
            matrixVector(
                rows: m, k: k, matrix: a, x: b.base, y: c, alpha: alpha, beta: beta,
                bias: bias, biasStride: 0, workers: workers)
        } else {
            // m == 1: C^T (n x 1) = op(B)^T x, with x = op(A)'s only row; op(B)^T is B stored
            // the other way round.
            let matrix = GEMMOperand(base: b.base, stride: b.stride, transposed: !b.transposed)
            matrixVector(
                rows: n, k: k, matrix: matrix, x: a.base, y: c, alpha: alpha, beta: beta,
                bias: bias, biasStride: 1, workers: workers)
        }
    }

    /// y (rows) = alpha op(M) x + beta y (+ bias[i * biasStride]), op(M) being rows x k.
    private static func matrixVector(
        rows: Int, k: Int, matrix: GEMMOperand, x: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, alpha: Float, beta: Float,
        bias: UnsafePointer<Float>?, biasStride: Int, workers: Int
    ) {
        let shared = UncheckedSendable((matrix, x, y, bias))
        Elementwise.forEachRowRange(rows: rows, workPerRow: k, threads: workers) { range in
            let (matrix, x, y, bias) = shared.value
            if matrix.transposed {
                // op(M)[i, p] = M[p, i]: stored rows p are contiguous in i, so y accumulates
                // x[p] * row p over p, in order (partial sums in a block of scratch).
                columnsTimesVector(range, k: k, matrix: matrix, x: x, y: y, alpha: alpha, beta: beta)
            } else {
                for i in range {
                    let sum = dotProduct(matrix.base + i &* matrix.stride, x, count: k)
                    y[i] = combine(sum, old: y[i], alpha: alpha, beta: beta)
                }
            }
            if let bias {
                for i in range { y[i] += bias[i &* biasStride] }
            }
        }
    }

    /// y[range] = alpha (sum over p of x[p] * M[p, range]) + beta y[range], M stored k x rows.
    /// Works on blocks of up to 256 values of y so the partial sums stay in L1.
    private static func columnsTimesVector(
        _ range: Range<Int>, k: Int, matrix: GEMMOperand, x: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, alpha: Float, beta: Float
    ) {
        let block = 256
        withUnsafeTemporaryAllocation(of: Float.self, capacity: block) { scratch in
            guard let sums = scratch.baseAddress else { return }
            var start = range.lowerBound
            while start < range.upperBound {
                let width = min(block, range.upperBound - start)
                for i in 0..<width { sums[i] = 0 }
                for p in 0..<k {
                    let row = matrix.base + (p &* matrix.stride &+ start)
                    let weight = x[p]
                    let w8 = SIMD8(repeating: weight)
                    var i = 0
                    while i + 8 <= width {
                        Elementwise.store8(Elementwise.load8(sums + i).addingProduct(w8, Elementwise.load8(row + i)), sums + i)
                        i += 8
                    }
                    while i < width {
                        sums[i] = sums[i].addingProduct(weight, row[i])
                        i += 1
                    }
                }
                for i in 0..<width { y[start + i] = combine(sums[i], old: y[start + i], alpha: alpha, beta: beta) }
                start += width
            }
        }
    }

    /// C (m x n, row-major) = alpha u v^T + beta C (+ bias on every row).
    private static func outerProduct(
        m: Int, n: Int, u: UnsafePointer<Float>, v: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, alpha: Float, beta: Float,
        bias: UnsafePointer<Float>?, workers: Int
    ) {
        let shared = UncheckedSendable((u, v, c, bias))
        Elementwise.forEachRowRange(rows: m, workPerRow: n, threads: workers) { range in
            let (u, v, c, bias) = shared.value
            for i in range {
                let row = c + i &* n
                let scale = u[i]
                for j in 0..<n { row[j] = combine(scale * v[j], old: row[j], alpha: alpha, beta: beta) }
                if let bias {
                    for j in 0..<n { row[j] += bias[j] }
                }
            }
        }
    }

    /// The dot product of `count` values: four SIMD8 accumulators (chains of fused
    /// multiply-adds), summed pairwise, then the tail.
    @inline(__always)
    static func dotProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var s0 = SIMD8<Float>()
        var s1 = SIMD8<Float>()
        var s2 = SIMD8<Float>()
        var s3 = SIMD8<Float>()
        var p = 0
        while p + 32 <= count {
            s0 = s0.addingProduct(Elementwise.load8(a + p), Elementwise.load8(b + p))
            s1 = s1.addingProduct(Elementwise.load8(a + p + 8), Elementwise.load8(b + p + 8))
            s2 = s2.addingProduct(Elementwise.load8(a + p + 16), Elementwise.load8(b + p + 16))
            s3 = s3.addingProduct(Elementwise.load8(a + p + 24), Elementwise.load8(b + p + 24))
            p += 32
        }
        while p + 8 <= count {
            s0 = s0.addingProduct(Elementwise.load8(a + p), Elementwise.load8(b + p))
            p += 8
        }
        var sum = ((s0 + s1) + (s2 + s3)).sum()
        while p < count {
            sum = sum.addingProduct(a[p], b[p])
            p += 1
        }
        return sum
    }

    /// alpha * sum + beta * old, reading `old` only when beta is not 0 (the blocked kernel's
    /// overwrite / accumulate / scale updates).
    @inline(__always)
    private static func combine(_ sum: Float, old: Float, alpha: Float, beta: Float) -> Float {
        if beta == 0 { return sum * alpha }
        if beta == 1 { return old + sum * alpha }
        return sum * alpha + old * beta
    }
}
