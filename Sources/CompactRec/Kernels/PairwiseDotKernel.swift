import CompactRecData

/// The loops of DLRM's dot interaction: per row, the dot products of every pair of field
/// vectors, and their backward pass.
///
/// Two layouts of a row's vectors: all `fields` side by side in one matrix, or (DLRM's
/// `interact_features`) the dense vector from the bottom MLP in one matrix and the embeddings
/// in another, with the output `[dense | pairs]` that the top MLP reads. The second layout
/// saves DLRM from concatenating its inputs and splitting its gradients, four copies of
/// batch-sized matrices per step; each row's vectors are gathered into stack scratch instead,
/// where they are read anyway.
///
/// Rows are independent and split over `threads` cores: the bits are the same for any thread
/// count, and the same in both layouts.
enum PairwiseDotKernel {
    /// A row's pointers, valid for the whole call; workers write disjoint rows.
    private struct Operands: @unchecked Sendable {
        let leading: UnsafePointer<Float>?
        let vectors: UnsafePointer<Float>
        let gradient: UnsafePointer<Float>?
        let output: UnsafeMutablePointer<Float>
        let leadingOutput: UnsafeMutablePointer<Float>?

        /// These operands with `leadingOutput` set.
        func writing(leadingOutput: UnsafeMutablePointer<Float>?) -> Operands {
            Operands(leading: leading, vectors: vectors, gradient: gradient, output: output, leadingOutput: leadingOutput)
        }
    }

    /// Number of pairs of `fields` vectors (with each vector's pair with itself if `includeSelf`).
    static func pairCount(fields: Int, includeSelf: Bool) -> Int {
        includeSelf ? fields * (fields + 1) / 2 : fields * (fields - 1) / 2
    }

    // MARK: Forward

    /// Pairwise dot products of each row's `fields` vectors of width `dimension` in DLRM's order:
    /// for `i` in `0..<fields`, for `j` in `0..<i` (through `i` when `includeSelf`), the value
    /// `<v_i, v_j>`.
    ///
    /// With `leading` (batch x dimension), it is vector 0 of each row, `vectors` holds the other
    /// `fields - 1`, and each output row is `[leading row | pairs]`; without, `vectors` holds all
    /// `fields` and the output is the pairs. Resizes `output`.
    ///
    /// Per row, the vectors are transposed into a scratch `dimension x fields` block, so eight
    /// products `<v_i, v_j..j+8>` are one chain of `dimension` SIMD8 fused multiply-adds with no
    /// horizontal sum; four rows `i` share each load. The lower triangle of the resulting
    /// `fields x fields` block is then copied out in order.
    static func forward(
        leading: Matrix?, vectors: Matrix, fields: Int, dimension: Int, includeSelf: Bool,
        into output: inout Matrix, threads: Int
    ) {
        let pairs = pairCount(fields: fields, includeSelf: includeSelf)
        let leadingWidth = leading == nil ? 0 : dimension
        let rows = vectors.rows
        precondition(
            pairs > 0 && dimension > 0 && vectors.columns == fields * dimension - leadingWidth
                && (leading.map { $0.rows == rows && $0.columns == dimension } ?? true)
                && output.columns == leadingWidth + pairs, "PairwiseDotKernel.forward: shapes differ")
        output.resize(rows: rows)
        guard rows > 0 else { return }
        let width = fields * dimension
        let extra = includeSelf ? 1 : 0
        // Columns of the transposed block, padded so that 8-wide loads and stores stay inside.
        let padded = (fields + 7) & ~7
        let scratchCount = padded * (dimension + fields) + (leading == nil ? 0 : width)
        withPointers(leading: leading, vectors: vectors, gradient: nil, output: &output) { operands in
            Elementwise.forEachRowRange(rows: rows, workPerRow: pairs * dimension, threads: threads) { range in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchCount) { scratch in
                    guard let transposed = scratch.baseAddress else { return }
                    // Zero once: the padding columns are read (and their products ignored).
                    transposed.initialize(repeating: 0, count: scratchCount)
                    let products = transposed + padded * dimension
                    let gathered = products + padded * fields
                    for r in range {
                        let v: UnsafePointer<Float>
                        var out: UnsafeMutablePointer<Float>
                        if let leading = operands.leading {
                            let lead = leading + r * dimension
                            let rest = width - dimension
                            gathered.update(from: lead, count: dimension)
                            (gathered + dimension).update(from: operands.vectors + r * rest, count: rest)
                            v = UnsafePointer(gathered)
                            out = operands.output + r * (dimension + pairs)
                            out.update(from: lead, count: dimension)
                            out += dimension
                        } else {
                            v = operands.vectors + r * width
                            out = operands.output + r * pairs
                        }
                        for j in 0..<fields {
                            for k in 0..<dimension { transposed[k * padded + j] = v[j * dimension + k] }
                        }
                        var j0 = 0
                        while j0 < fields {
                            // Rows i whose pairs reach columns j0..<j0 + 8.
                            var i = max(j0 + 1 - extra, 0)
                            while i + 4 <= fields {
                                let v0 = v + i * dimension
                                let v1 = v0 + dimension
                                let v2 = v1 + dimension
                                let v3 = v2 + dimension
                                var a0 = SIMD8<Float>()
                                var a1 = SIMD8<Float>()
                                var a2 = SIMD8<Float>()
                                var a3 = SIMD8<Float>()
                                for k in 0..<dimension {
                                    let b = Elementwise.load8(transposed + k * padded + j0)
                                    a0 = a0.addingProduct(SIMD8(repeating: v0[k]), b)
                                    a1 = a1.addingProduct(SIMD8(repeating: v1[k]), b)
                                    a2 = a2.addingProduct(SIMD8(repeating: v2[k]), b)
                                    a3 = a3.addingProduct(SIMD8(repeating: v3[k]), b)
                                }
                                let z = products + i * padded + j0
                                Elementwise.store8(a0, z)
                                Elementwise.store8(a1, z + padded)
                                Elementwise.store8(a2, z + 2 * padded)
                                Elementwise.store8(a3, z + 3 * padded)
                                i += 4
                            }
                            while i < fields {
                                let vi = v + i * dimension
                                var a = SIMD8<Float>()
                                for k in 0..<dimension {
                                    a = a.addingProduct(SIMD8(repeating: vi[k]), Elementwise.load8(transposed + k * padded + j0))
                                }
                                Elementwise.store8(a, products + i * padded + j0)
                                i += 1
                            }
                            j0 += 8
                        }
                        for i in 0..<fields {
                            let z = products + i * padded
                            for j in 0..<(i + extra) { out[j] = z[j] }
                            out += i + extra
                        }
                    }
                }
            }
        }
    }

    // MARK: Backward

    /// The backward pass of `forward`: `dv_i = sum_j S_ij v_j`, where `S` is the symmetric
    /// `fields x fields` matrix of the pairs' gradients (`S_ij = S_ji = g_ij` for `j < i`, and
    /// `S_ii = 2 g_ii` with `includeSelf`, else 0).
    ///
    /// `outputGradient` has the forward output's layout. `vectorGradient` receives the
    /// gradients of `vectors`; with `leading`, `leadingGradient` receives the leading vector's
    /// (its pass-through part, the output gradient's first `dimension` columns, plus its
    /// interaction part) and is otherwise untouched. Both are resized.
    ///
    /// Per row, `S` is assembled in stack scratch; then eight values of `dv_i` are one chain of
    /// `fields` SIMD8 fused multiply-adds, four rows `i` sharing each load.
    static func backward(
        leading: Matrix?, vectors: Matrix, outputGradient: Matrix, fields: Int, dimension: Int,
        includeSelf: Bool, leadingGradient: inout Matrix, vectorGradient: inout Matrix, threads: Int
    ) {
        let pairs = pairCount(fields: fields, includeSelf: includeSelf)
        let leadingWidth = leading == nil ? 0 : dimension
        let rows = vectors.rows
        let width = fields * dimension
        precondition(
            pairs > 0 && dimension > 0 && vectors.columns == width - leadingWidth
                && (leading.map { $0.rows == rows && $0.columns == dimension } ?? true)
                && outputGradient.rows == rows && outputGradient.columns == leadingWidth + pairs
                && vectorGradient.columns == vectors.columns && (leading == nil || leadingGradient.columns == dimension),
            "PairwiseDotKernel.backward: shapes differ")
        vectorGradient.resize(rows: rows)
        if leading != nil { leadingGradient.resize(rows: rows) }
        guard rows > 0 else { return }
        let scratchCount = fields * fields + (leading == nil ? 0 : 2 * width)
        let writesLeading = leading != nil
        leadingGradient.withUnsafeMutableBufferPointer { leadingValues in
            withPointers(leading: leading, vectors: vectors, gradient: outputGradient, output: &vectorGradient) { pointers in
                let operands = pointers.writing(leadingOutput: writesLeading ? leadingValues.baseAddress : nil)
                Elementwise.forEachRowRange(rows: rows, workPerRow: 2 * fields * fields * dimension, threads: threads) { range in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchCount) { scratch in
                        guard let s = scratch.baseAddress, let gradient = operands.gradient else { return }
                        let gathered = s + fields * fields
                        let rowGradient = gathered + width
                        for r in range {
                            let v: UnsafePointer<Float>
                            let d: UnsafeMutablePointer<Float>
                            var g: UnsafePointer<Float>
                            if let leading = operands.leading {
                                gathered.update(from: leading + r * dimension, count: dimension)
                                (gathered + dimension).update(from: operands.vectors + r * (width - dimension), count: width - dimension)
                                v = UnsafePointer(gathered)
                                d = rowGradient
                                g = gradient + r * (dimension + pairs) + dimension
                            } else {
                                v = operands.vectors + r * width
                                d = operands.output + r * width
                                g = gradient + r * pairs
                            }
                            for i in 0..<fields {
                                for j in 0..<i {
                                    s[i * fields + j] = g.pointee
                                    s[j * fields + i] = g.pointee
                                    g += 1
                                }
                                if includeSelf {
                                    s[i * fields + i] = 2 * g.pointee
                                    g += 1
                                } else {
                                    s[i * fields + i] = 0
                                }
                            }
                            rowBackward(v, s, fields: fields, dimension: dimension, into: d)
                            if let leadingOutput = operands.leadingOutput {
                                let passThrough = gradient + r * (dimension + pairs)
                                let lead = leadingOutput + r * dimension
                                for k in 0..<dimension { lead[k] = passThrough[k] + rowGradient[k] }
                                (operands.output + r * (width - dimension)).update(from: rowGradient + dimension, count: width - dimension)
                            }
                        }
                    }
                }
            }
        }
    }

    /// `d_i = sum_j s_ij v_j` for one row: `v` and `d` hold `fields` vectors of `dimension`,
    /// `s` is `fields x fields`.
    @inline(__always)
    private static func rowBackward(
        _ v: UnsafePointer<Float>, _ s: UnsafePointer<Float>, fields: Int, dimension: Int,
        into d: UnsafeMutablePointer<Float>
    ) {
        var k0 = 0
        while k0 + 8 <= dimension {
            var i = 0
            while i + 4 <= fields {
                let s0 = s + i * fields
                let s1 = s0 + fields
                let s2 = s1 + fields
                let s3 = s2 + fields
                var a0 = SIMD8<Float>()
                var a1 = SIMD8<Float>()
                var a2 = SIMD8<Float>()
                var a3 = SIMD8<Float>()
                for j in 0..<fields {
                    let b = Elementwise.load8(v + j * dimension + k0)
                    a0 = a0.addingProduct(SIMD8(repeating: s0[j]), b)
                    a1 = a1.addingProduct(SIMD8(repeating: s1[j]), b)
                    a2 = a2.addingProduct(SIMD8(repeating: s2[j]), b)
                    a3 = a3.addingProduct(SIMD8(repeating: s3[j]), b)
                }
                let di = d + i * dimension + k0
                Elementwise.store8(a0, di)
                Elementwise.store8(a1, di + dimension)
                Elementwise.store8(a2, di + 2 * dimension)
                Elementwise.store8(a3, di + 3 * dimension)
                i += 4
            }
            while i < fields {
                let si = s + i * fields
                var a = SIMD8<Float>()
                for j in 0..<fields { a = a.addingProduct(SIMD8(repeating: si[j]), Elementwise.load8(v + j * dimension + k0)) }
                Elementwise.store8(a, d + i * dimension + k0)
                i += 1
            }
            k0 += 8
        }
        if k0 < dimension {
            for i in 0..<fields {
                let si = s + i * fields
                let di = d + i * dimension
                for k in k0..<dimension { di[k] = 0 }
                for j in 0..<fields {
                    let vj = v + j * dimension
                    let weight = si[j]
                    for k in k0..<dimension { di[k] += weight * vj[k] }
                }
            }
        }
    }

    // MARK: Pointers

    /// Calls `body` with pointers to the operands (all non-empty: the callers return early on
    /// an empty batch).
    private static func withPointers(
        leading: Matrix?, vectors: Matrix, gradient: Matrix?, output: inout Matrix,
        _ body: (Operands) -> Void
    ) {
        func pointer(_ matrix: Matrix?, _ body: (UnsafePointer<Float>?) -> Void) {
            guard let matrix else { return body(nil) }
            matrix.withUnsafeBufferPointer { body($0.baseAddress) }
        }
        pointer(leading) { lead in
            pointer(gradient) { grad in
                vectors.withUnsafeBufferPointer { vectorValues in
                    output.withUnsafeMutableBufferPointer { outputValues in
                        guard let v = vectorValues.baseAddress, let out = outputValues.baseAddress else { return }
                        body(Operands(leading: lead, vectors: v, gradient: grad, output: out, leadingOutput: nil))
                    }
                }
            }
        }
    }
}
