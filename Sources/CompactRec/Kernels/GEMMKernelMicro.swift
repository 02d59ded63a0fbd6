import CompactRecShims

/// How a micro-kernel tile is written into C.
enum GEMMUpdate {
    /// C = alpha * AB (C's old values are never read, so NaNs in them do not propagate).
    case overwrite
    /// C = C + alpha * AB (every k block after the first).
    case accumulate
    /// C = alpha * AB + beta * C.
    case scale(Float)
}

extension GEMMKernel {
    /// The 6 x 16 register-blocked micro-kernel: C[0..<6, 0..<16] (updated per `update`) from
    /// `kc` steps of a packed A panel (6 values per step) and a packed B panel (16 values per
    /// step, 64-byte aligned); with `bias`, its 16 values are then added to every row.
    ///
    /// Twelve `SIMD8<Float>` accumulators (6 rows x 2 vectors) plus two B vectors and one
    /// broadcast of A fill 15 of the 16 AVX2 registers; each step is 12 fused multiply-adds.
    /// `addingProduct` compiles to `vfmadd231ps` only with AVX2 + FMA code generation (the
    /// package's `-march=x86-64-v3`): `bench/check_vectorized.sh` checks the built code.
    /// C's tile is prefetched first, so its cache misses overlap the k loop instead of stalling
    /// the final update.
    @inline(never)
    static func microKernel6x16(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                                c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, update: GEMMUpdate,
                                bias: UnsafePointer<Float>?) {
        var c00 = SIMD8<Float>(), c01 = SIMD8<Float>()
        var c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
        var c20 = SIMD8<Float>(), c21 = SIMD8<Float>()
        var c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
        var c40 = SIMD8<Float>(), c41 = SIMD8<Float>()
        var c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
        var row = c
        for _ in 0..<6 {
            compactrec_prefetch_for_write(row)
            compactrec_prefetch_for_write(row + 15)
            row += ldc
        }
        var ap = a
        var bp = UnsafeRawPointer(b)
        var steps = kc
        while steps > 0 {
            let b0 = bp.load(as: SIMD8<Float>.self)
            let b1 = bp.load(fromByteOffset: 32, as: SIMD8<Float>.self)
            var av = SIMD8<Float>(repeating: ap[0])
            c00 = c00.addingProduct(av, b0)
            c01 = c01.addingProduct(av, b1)
            av = SIMD8<Float>(repeating: ap[1])
            c10 = c10.addingProduct(av, b0)
            c11 = c11.addingProduct(av, b1)
            av = SIMD8<Float>(repeating: ap[2])
            c20 = c20.addingProduct(av, b0)
            c21 = c21.addingProduct(av, b1)
            av = SIMD8<Float>(repeating: ap[3])
            c30 = c30.addingProduct(av, b0)
            c31 = c31.addingProduct(av, b1)
            av = SIMD8<Float>(repeating: ap[4])
            c40 = c40.addingProduct(av, b0)
            c41 = c41.addingProduct(av, b1)
            av = SIMD8<Float>(repeating: ap[5])
            c50 = c50.addingProduct(av, b0)
            c51 = c51.addingProduct(av, b1)
            ap += 6
            bp += 64
            steps &-= 1
        }
        if let bias {
            let bias0 = Elementwise.load8(bias), bias1 = Elementwise.load8(bias + 8)
            row = c
            store(c00, c01, row, alpha: alpha, update: update, bias0, bias1)
            row += ldc
            store(c10, c11, row, alpha: alpha, update: update, bias0, bias1)
            row += ldc
            store(c20, c21, row, alpha: alpha, update: update, bias0, bias1)
            row += ldc
            store(c30, c31, row, alpha: alpha, update: update, bias0, bias1)
            row += ldc
            store(c40, c41, row, alpha: alpha, update: update, bias0, bias1)
            row += ldc
            store(c50, c51, row, alpha: alpha, update: update, bias0, bias1)
            return
        }
        row = c
        store(c00, c01, row, alpha: alpha, update: update)
        row += ldc
        store(c10, c11, row, alpha: alpha, update: update)
        row += ldc
        store(c20, c21, row, alpha: alpha, update: update)
        row += ldc
        store(c30, c31, row, alpha: alpha, update: update)
        row += ldc
        store(c40, c41, row, alpha: alpha, update: update)
        row += ldc
        store(c50, c51, row, alpha: alpha, update: update)
    }

    /// Writes one row of a tile (16 values, any alignment), adding `bias0`, `bias1` after the
    /// update when given.
    @inline(__always)
    private static func store(_ low: SIMD8<Float>, _ high: SIMD8<Float>, _ row: UnsafeMutablePointer<Float>,
                              alpha: Float, update: GEMMUpdate, _ bias0: SIMD8<Float>? = nil, _ bias1: SIMD8<Float>? = nil) {
        let raw = UnsafeMutableRawPointer(row)
        var value0: SIMD8<Float>, value1: SIMD8<Float>
        switch update {
        case .overwrite:
            value0 = low * alpha
            value1 = high * alpha
        case .accumulate:
            let old0 = UnsafeRawPointer(raw).loadUnaligned(fromByteOffset: 0, as: SIMD8<Float>.self)
            let old1 = UnsafeRawPointer(raw).loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
            value0 = old0 + low * alpha
            value1 = old1 + high * alpha
        case .scale(let beta):
            let old0 = UnsafeRawPointer(raw).loadUnaligned(fromByteOffset: 0, as: SIMD8<Float>.self)
            let old1 = UnsafeRawPointer(raw).loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
            value0 = low * alpha + old0 * beta
            value1 = high * alpha + old1 * beta
        }
        if let bias0, let bias1 {
            value0 += bias0
            value1 += bias1
        }
        raw.storeBytes(of: value0, toByteOffset: 0, as: SIMD8<Float>.self)
        raw.storeBytes(of: value1, toByteOffset: 32, as: SIMD8<Float>.self)
    }
}
