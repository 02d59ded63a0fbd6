import CompactRecData

/// The loops of the dense layers that are not matrix products: bias add, ReLU, dropout, column
/// sums, batch normalisation, and the per-sample FM and dot-product interactions.
///
/// Kept here, beside GEMM, because they are the layers' only unsafe-pointer code. Every loop
/// walks rows in memory order with the innermost loop over contiguous values, so LLVM vectorises
/// it; sums along a row (dot products) use explicit `SIMD8<Float>` accumulators, because LLVM
/// does not reassociate Float additions by itself. No function allocates on the heap: outputs are
/// matrices the caller owns and keeps across batches (a kernel that overwrites an output resizes
/// it to the batch; one that accumulates checks its shape), and the dot-interaction kernels take
/// a few KiB of stack scratch per call.
///
/// Threads: loops whose rows are independent split the rows over up to `threads` cores when there
/// is enough work. A row's values never depend on the split, so the bits are the same for any
/// thread count. Reductions over rows (column sums) run on the calling thread, in row order.
enum Elementwise {
    // MARK: Pointers and the row split

    /// A read-only pointer that the `@Sendable` bodies of `Parallel` may capture: the chunks only
    /// read through it, and the buffer outlives the parallel region.
    struct ReadPointer: @unchecked Sendable {
        /// The first value.
        let base: UnsafePointer<Float>
    }

    /// A writable pointer that the `@Sendable` bodies of `Parallel` may capture: each chunk
    /// writes only its own rows, and the buffer outlives the parallel region.
    struct WritePointer: @unchecked Sendable {
        /// The first value.
        let base: UnsafeMutablePointer<Float>
    }

    /// Work (in values touched) below which a loop stays on the calling thread: these loops
    /// handle about a value a nanosecond and a two-way parallel region costs about half a
    /// microsecond.
    static let minimumParallelWork = 1 << 14

    /// Calls `body` on contiguous row ranges covering `0..<rows`, in parallel over up to `threads`
    /// cores when `rows * workPerRow` is large enough.
    static func forEachRowRange(rows: Int, workPerRow: Int, threads: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let byWork = rows * max(workPerRow, 1) / minimumParallelWork
        let chunks = min(threads, rows, max(byWork, 1))
        if chunks <= 1 {
            body(0..<rows)
            return
        }
        Parallel.forEach(chunks, threads: chunks) { chunk in
            body(chunk * rows / chunks..<(chunk + 1) * rows / chunks)
        }
    }

    /// Calls `body` with a pointer to the valid values of `matrix` (not at all when it is empty).
    @inline(__always)
    private static func read(_ matrix: Matrix, _ body: (ReadPointer) -> Void) {
        matrix.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { body(ReadPointer(base: base)) }
        }
    }

    /// Calls `body` with a writable pointer to the valid values of `matrix` (not at all when it is
    /// empty).
    @inline(__always)
    private static func write(_ matrix: inout Matrix, _ body: (WritePointer) -> Void) {
        matrix.withUnsafeMutableBufferPointer { buffer in
            if let base = buffer.baseAddress { body(WritePointer(base: base)) }
        }
    }

    /// The dot product of `count` values at `a` and `b`, eight lanes at a time.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var accumulator = SIMD8<Float>()
        var k = 0
        while k + 8 <= count {
            accumulator = accumulator.addingProduct(load8(a + k), load8(b + k))
            k += 8
        }
        var sum = accumulator.sum()
        while k < count {
            sum += a[k] * b[k]
            k += 1
        }
        return sum
    }

    /// Eight Floats from `pointer` (no alignment needed).
    @inline(__always)
    static func load8(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// Eight Floats from `pointer` (no alignment needed).
    @inline(__always)
    static func load8(_ pointer: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// Stores eight Floats at `pointer` (no alignment needed).
    @inline(__always)
    static func store8(_ values: SIMD8<Float>, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: values, as: SIMD8<Float>.self)
    }

    // MARK: Bias, ReLU, products

    /// `matrix[r, c] += vector[c]` for every row: adds a bias to every sample.
    static func addRowVector(_ vector: Matrix, to matrix: inout Matrix, threads: Int = 1) {
        precondition(vector.count == matrix.columns, "addRowVector: vector has \(vector.count) values, matrix \(matrix.columns) columns")
        let rows = matrix.rows
        let columns = matrix.columns
        guard rows > 0, columns > 0 else { return }
        read(vector) { v in
            write(&matrix) { m in
                forEachRowRange(rows: rows, workPerRow: columns, threads: threads) { range in
                    for r in range {
                        let row = m.base + r * columns
                        for c in 0..<columns { row[c] += v.base[c] }
                    }
                }
            }
        }
    }

    /// `output = max(input, 0)`; `output` is resized to the input's rows.
    static func relu(_ input: Matrix, into output: inout Matrix, threads: Int = 1) {
        precondition(output.columns == input.columns, "relu: output has \(output.columns) columns, input \(input.columns)")
        output.resize(rows: input.rows)
        let columns = input.columns
        guard input.count > 0 else { return }
        read(input) { x in
            write(&output) { y in
                forEachRowRange(rows: input.rows, workPerRow: columns, threads: threads) { range in
                    for i in range.lowerBound * columns..<range.upperBound * columns {
                        y.base[i] = max(x.base[i], 0)
                    }
                }
            }
        }
    }

    /// `inputGradient = outputGradient` where `output > 0`, else 0: the ReLU backward pass, read
    /// from the forward output (positive exactly where the input was); resized to the rows.
    static func reluBackward(output: Matrix, outputGradient: Matrix, into inputGradient: inout Matrix, threads: Int = 1) {
        precondition(
            output.rows == outputGradient.rows && output.columns == outputGradient.columns
                && inputGradient.columns == output.columns, "reluBackward: shapes differ")
        inputGradient.resize(rows: output.rows)
        let columns = output.columns
        guard output.count > 0 else { return }
        read(output) { y in
            read(outputGradient) { dy in
                write(&inputGradient) { dx in
                    forEachRowRange(rows: output.rows, workPerRow: columns, threads: threads) { range in
                        for i in range.lowerBound * columns..<range.upperBound * columns {
                            dx.base[i] = y.base[i] > 0 ? dy.base[i] : 0
                        }
                    }
                }
            }
        }
    }

    /// `output = a * b` elementwise; `output` is resized to the rows of `a`.
    static func multiply(_ a: Matrix, _ b: Matrix, into output: inout Matrix, threads: Int = 1) {
        precondition(a.rows == b.rows && a.columns == b.columns && output.columns == a.columns, "multiply: shapes differ")
        output.resize(rows: a.rows)
        let columns = a.columns
        guard a.count > 0 else { return }
        read(a) { x in
            read(b) { y in
                write(&output) { z in
                    forEachRowRange(rows: a.rows, workPerRow: columns, threads: threads) { range in
                        for i in range.lowerBound * columns..<range.upperBound * columns {
                            z.base[i] = x.base[i] * y.base[i]
                        }
                    }
                }
            }
        }
    }

    // MARK: Dropout

    /// Inverted dropout: draws `mask` (0 with probability `rate`, else `1 / (1 - rate)`) and writes
    /// `output = input * mask`; both are resized to the input's rows.
    ///
    /// Row `r` draws from `SeededRandom(seed: seed, stream: r)`, four decisions (16 bits each) per
    /// 64-bit number, so the mask depends only on `seed` and the shape, never on `threads`. The
    /// drop probability is `rate` rounded to a multiple of 2^-16.
    static func dropout(_ input: Matrix, rate: Float, seed: UInt64, mask: inout Matrix, output: inout Matrix, threads: Int = 1) {
        precondition(rate >= 0 && rate < 1, "dropout: rate \(rate) is not in [0, 1)")
        precondition(mask.columns == input.columns && output.columns == input.columns, "dropout: shapes differ")
        mask.resize(rows: input.rows)
        output.resize(rows: input.rows)
        let columns = input.columns
        guard input.count > 0 else { return }
        let threshold = UInt32(min((Double(rate) * 65536).rounded(), 65536))
        let scale = 1 / (1 - rate)
        read(input) { x in
            write(&mask) { m in
                write(&output) { y in
                    forEachRowRange(rows: input.rows, workPerRow: 4 * columns, threads: threads) { range in
                        let thresholds = SIMD4<UInt32>(repeating: threshold)
                        for r in range {
                            var random = SeededRandom(seed: seed, stream: UInt64(r))
                            let xr = x.base + r * columns
                            let mr = m.base + r * columns
                            let yr = y.base + r * columns
                            // Lane l of each 64-bit draw decides column c + l from bits 16l..<16l+16.
                            var c = 0
                            while c + 4 <= columns {
                                let bits = random.next()
                                let lanes =
                                    SIMD4<UInt32>(truncatingIfNeeded: SIMD4<UInt64>(bits, bits >> 16, bits >> 32, bits >> 48)) & 0xFFFF
                                let keep = SIMD4<Float>(repeating: 0).replacing(with: scale, where: lanes .>= thresholds)
                                UnsafeMutableRawPointer(mr + c).storeBytes(of: keep, as: SIMD4<Float>.self)
                                c += 4
                            }
                            if c < columns {
                                var bits = random.next()
                                while c < columns {
                                    mr[c] = UInt32(truncatingIfNeeded: bits & 0xFFFF) >= threshold ? scale : 0
                                    bits >>= 16
                                    c += 1
                                }
                            }
                            for k in 0..<columns { yr[k] = xr[k] * mr[k] }
                        }
                    }
                }
            }
        }
    }

    // MARK: Column reductions and batch normalisation

    /// `sums[c] (+)= sum over rows of matrix[r, c]`: overwrites, or adds to, a `1 x columns`
    /// vector (a bias gradient accumulates).
    ///
    /// Each column is summed over the rows in order; with `threads`, the cores take disjoint
    /// blocks of columns, so the result is the same bits for any thread count.
    static func columnSums(_ matrix: Matrix, into sums: inout Matrix, accumulate: Bool, threads: Int = 1) {
        precondition(sums.count == matrix.columns, "columnSums: sums has \(sums.count) values, matrix \(matrix.columns) columns")
        if !accumulate { sums.fill(0) }
        let rows = matrix.rows
        let columns = matrix.columns
        guard matrix.count > 0 else { return }
        // Blocks of 8 columns (one SIMD vector per row), shared out over the cores.
        let groups = (columns + 7) / 8
        read(matrix) { m in
            write(&sums) { s in
                forEachRowRange(rows: groups, workPerRow: 8 * rows, threads: threads) { range in
                    let first = range.lowerBound * 8
                    let end = min(columns, range.upperBound * 8)
                    for r in 0..<rows {
                        let row = m.base + r * columns
                        for c in first..<end { s.base[c] += row[c] }
                    }
                }
            }
        }
    }

    /// Per-column mean and biased variance (divided by the row count) of a matrix with at least
    /// one row, in two passes (sum, then squared deviations) so that a large mean costs no
    /// precision.
    static func columnMeanAndVariance(_ matrix: Matrix, mean: inout Matrix, variance: inout Matrix) {
        precondition(matrix.rows > 0, "columnMeanAndVariance: no rows")
        precondition(mean.count == matrix.columns && variance.count == matrix.columns, "columnMeanAndVariance: shapes differ")
        columnSums(matrix, into: &mean, accumulate: false)
        let rows = matrix.rows
        let columns = matrix.columns
        let inverseRows = 1 / Float(rows)
        variance.fill(0)
        read(matrix) { x in
            write(&mean) { mu in
                for c in 0..<columns { mu.base[c] *= inverseRows }
                write(&variance) { v in
                    for r in 0..<rows {
                        let row = x.base + r * columns
                        for c in 0..<columns {
                            let d = row[c] - mu.base[c]
                            v.base[c] += d * d
                        }
                    }
                    for c in 0..<columns { v.base[c] *= inverseRows }
                }
            }
        }
    }

    /// `output[r, c] = (input[r, c] - center[c]) * scale[c] + shift[c]` (no shift when nil): batch
    /// normalisation with its affine map folded into `scale`; `output` is resized to the rows.
    static func normalizeColumns(
        _ input: Matrix, center: Matrix, scale: Matrix, shift: Matrix?,
        into output: inout Matrix, threads: Int = 1
    ) {
        let columns = input.columns
        precondition(
            center.count == columns && scale.count == columns && (shift?.count ?? columns) == columns
                && output.columns == columns, "normalizeColumns: shapes differ")
        output.resize(rows: input.rows)
        guard input.count > 0 else { return }
        let rows = input.rows
        read(input) { x in
            read(center) { mu in
                read(scale) { s in
                    write(&output) { y in
                        if let shift {
                            read(shift) { b in
                                forEachRowRange(rows: rows, workPerRow: columns, threads: threads) { range in
                                    for r in range {
                                        let xr = x.base + r * columns
                                        let yr = y.base + r * columns
                                        for c in 0..<columns { yr[c] = (xr[c] - mu.base[c]) * s.base[c] + b.base[c] }
                                    }
                                }
                            }
                        } else {
                            forEachRowRange(rows: rows, workPerRow: columns, threads: threads) { range in
                                for r in range {
                                    let xr = x.base + r * columns
                                    let yr = y.base + r * columns
                                    for c in 0..<columns { yr[c] = (xr[c] - mu.base[c]) * s.base[c] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The two column sums of the batch-normalisation backward pass: `sumGradient[c] = sum_r dy`
    /// and `sumGradientNormalized[c] = sum_r dy * xhat`, where `xhat = (x - mean) * inverseStd`
    /// is recomputed from the input rather than stored.
    static func batchNormGradientSums(
        input: Matrix, mean: Matrix, inverseStandardDeviation: Matrix, outputGradient: Matrix,
        sumGradient: inout Matrix, sumGradientNormalized: inout Matrix
    ) {
        let rows = input.rows
        let columns = input.columns
        precondition(
            outputGradient.rows == rows && outputGradient.columns == columns && mean.count == columns
                && inverseStandardDeviation.count == columns && sumGradient.count == columns
                && sumGradientNormalized.count == columns, "batchNormGradientSums: shapes differ")
        sumGradient.fill(0)
        sumGradientNormalized.fill(0)
        guard input.count > 0 else { return }
        read(input) { x in
            read(mean) { mu in
                read(inverseStandardDeviation) { inv in
                    read(outputGradient) { dy in
                        write(&sumGradient) { s1 in
                            write(&sumGradientNormalized) { s2 in
                                for r in 0..<rows {
                                    let xr = x.base + r * columns
                                    let gr = dy.base + r * columns
                                    for c in 0..<columns {
                                        s1.base[c] += gr[c]
                                        s2.base[c] += gr[c] * ((xr[c] - mu.base[c]) * inv.base[c])
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The input gradient of batch normalisation with batch statistics:
    /// `dx = gain * (dy - meanGradient - xhat * meanGradientNormalized)` with
    /// `xhat = (x - mean) * inverseStd`, `gain = gamma * inverseStd`, and the two means the column
    /// sums of `batchNormGradientSums` divided by the row count. Resizes `inputGradient`.
    static func batchNormInputGradient(
        input: Matrix, outputGradient: Matrix, mean: Matrix, inverseStandardDeviation: Matrix,
        gain: Matrix, meanGradient: Matrix, meanGradientNormalized: Matrix,
        into inputGradient: inout Matrix, threads: Int = 1
    ) {
        let rows = input.rows
        let columns = input.columns
        precondition(
            outputGradient.rows == rows && outputGradient.columns == columns && mean.count == columns
                && inverseStandardDeviation.count == columns && gain.count == columns && meanGradient.count == columns
                && meanGradientNormalized.count == columns && inputGradient.columns == columns,
            "batchNormInputGradient: shapes differ")
        inputGradient.resize(rows: rows)
        guard input.count > 0 else { return }
        read(input) { x in
            read(outputGradient) { dy in
                read(mean) { mu in
                    read(inverseStandardDeviation) { inv in
                        read(gain) { g in
                            read(meanGradient) { m1 in
                                read(meanGradientNormalized) { m2 in
                                    write(&inputGradient) { dx in
                                        forEachRowRange(rows: rows, workPerRow: columns, threads: threads) { range in
                                            for r in range {
                                                let xr = x.base + r * columns
                                                let gr = dy.base + r * columns
                                                let dr = dx.base + r * columns
                                                for c in 0..<columns {
                                                    let xhat = (xr[c] - mu.base[c]) * inv.base[c]
                                                    dr[c] = g.base[c] * (gr[c] - m1.base[c] - xhat * m2.base[c])
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: Interactions between field vectors

    /// The factorization-machine pairwise term of each row of `input` (`fields` vectors of width
    /// `dimension`, side by side): `output[r] = 0.5 * sum_k ((sum_f v_fk)^2 - sum_f v_fk^2)`.
    /// `sums[r, k] = sum_f v_fk` is kept for the backward pass. Resizes `sums` and `output`.
    static func factorizationMachine(
        _ input: Matrix, fields: Int, dimension: Int, sums: inout Matrix,
        output: inout Matrix, threads: Int = 1
    ) {
        let width = fields * dimension
        precondition(
            fields > 0 && dimension > 0 && input.columns == width && sums.columns == dimension
                && output.columns == 1, "factorizationMachine: shapes differ")
        let rows = input.rows
        sums.resize(rows: rows)
        output.resize(rows: rows)
        guard rows > 0 else { return }
        read(input) { x in
            write(&sums) { s in
                write(&output) { y in
                    forEachRowRange(rows: rows, workPerRow: 2 * width, threads: threads) { range in
                        for r in range {
                            let v = x.base + r * width
                            let sr = s.base + r * dimension
                            for k in 0..<dimension { sr[k] = v[k] }
                            for f in 1..<fields {
                                let vf = v + f * dimension
                                for k in 0..<dimension { sr[k] += vf[k] }
                            }
                            let squares = dot(v, v, count: width)
                            let total = dot(UnsafePointer(sr), UnsafePointer(sr), count: dimension)
                            y.base[r] = 0.5 * (total - squares)
                        }
                    }
                }
            }
        }
    }

    /// The factorization-machine backward pass: `dv[r, f, k] = dOut[r] * (sums[r, k] - v[r, f, k])`.
    /// Resizes `inputGradient`.
    static func factorizationMachineBackward(
        _ input: Matrix, sums: Matrix, outputGradient: Matrix, fields: Int, dimension: Int,
        into inputGradient: inout Matrix, threads: Int = 1
    ) {
        let width = fields * dimension
        let rows = input.rows
        precondition(
            input.columns == width && sums.rows == rows && sums.columns == dimension && outputGradient.rows == rows
                && outputGradient.columns == 1 && inputGradient.columns == width, "factorizationMachineBackward: shapes differ")
        inputGradient.resize(rows: rows)
        guard rows > 0 else { return }
        read(input) { x in
            read(sums) { s in
                read(outputGradient) { g in
                    write(&inputGradient) { dx in
                        forEachRowRange(rows: rows, workPerRow: 2 * width, threads: threads) { range in
                            for r in range {
                                let v = x.base + r * width
                                let d = dx.base + r * width
                                let sr = s.base + r * dimension
                                let gradient = g.base[r]
                                for f in 0..<fields {
                                    let offset = f * dimension
                                    for k in 0..<dimension { d[offset + k] = gradient * (sr[k] - v[offset + k]) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
