import CompactRecData
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
    ///
    /// A comes through a `GEMMPanelA` source: a packed panel, or (for products with at most two
    /// column panels, where packing A would copy each value to use it once or twice) the matrix
    /// itself, read with strides. Each source has its own compiled kernel (the overloads below,
    /// all in this file's object, where `bench/check_vectorized.sh` looks); the arithmetic is
    /// the same.
    @inline(__always)
    static func microKernel6x16<A: GEMMPanelA>(
        kc: Int, a: A, b: PackedPanelB, c: UnsafeMutablePointer<Float>, ldc: Int,
        alpha: Float, update: GEMMUpdate, bias: UnsafePointer<Float>?
    ) {
        // Resolved at compile time once A is known.
        switch a {
        case let a as PackedPanelA:
            microKernel6x16(kc: kc, packed: a, b: b, c: c, ldc: ldc, alpha: alpha, update: update, bias: bias)
        case let a as StridedPanelA:
            microKernel6x16(kc: kc, strided: a, b: b, c: c, ldc: ldc, alpha: alpha, update: update, bias: bias)
        default:
            kernel(kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, update: update, bias: bias)
        }
    }

    @inline(never)
    static func microKernel6x16(
        kc: Int, packed a: PackedPanelA, b: PackedPanelB, c: UnsafeMutablePointer<Float>,
        ldc: Int, alpha: Float, update: GEMMUpdate, bias: UnsafePointer<Float>?
    ) {
        kernel(kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, update: update, bias: bias)
    }

    @inline(never)
    static func microKernel6x16(
        kc: Int, strided a: StridedPanelA, b: PackedPanelB, c: UnsafeMutablePointer<Float>,
        ldc: Int, alpha: Float, update: GEMMUpdate, bias: UnsafePointer<Float>?
    ) {
        kernel(kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, update: update, bias: bias)
    }

    /// The kernel's body, inlined into each overload.
    @inline(__always)
    private static func kernel<A: GEMMPanelA>(
        kc: Int, a: A, b: PackedPanelB, c: UnsafeMutablePointer<Float>, ldc: Int,
        alpha: Float, update: GEMMUpdate, bias: UnsafePointer<Float>?
    ) {
        var c00 = SIMD8<Float>()
        var c01 = SIMD8<Float>()
        var c10 = SIMD8<Float>()
        var c11 = SIMD8<Float>()
        var c20 = SIMD8<Float>()
        var c21 = SIMD8<Float>()
        var c30 = SIMD8<Float>()
        var c31 = SIMD8<Float>()
        var c40 = SIMD8<Float>()
        var c41 = SIMD8<Float>()
        var c50 = SIMD8<Float>()
        var c51 = SIMD8<Float>()
        var row = c
        for _ in 0..<6 {
            compactrec_prefetch_for_write(row)
            compactrec_prefetch_for_write(row + 15)
            row += ldc
        }
        var ap = a
        var bp = b
        var steps = kc
        while steps > 0 {
            let (b0, b1) = bp.load()
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
            ap.advance()
            bp.advance()
            steps &-= 1
        }
        if let bias {
            let bias0 = Elementwise.load8(bias)
            let bias1 = Elementwise.load8(bias + 8)
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
    private static func store(
        _ low: SIMD8<Float>, _ high: SIMD8<Float>, _ row: UnsafeMutablePointer<Float>,
        alpha: Float, update: GEMMUpdate, _ bias0: SIMD8<Float>? = nil, _ bias1: SIMD8<Float>? = nil
    ) {
        let raw = UnsafeMutableRawPointer(row)
        var value0: SIMD8<Float>
        var value1: SIMD8<Float>
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

/// Where the micro-kernel reads A: the six values of one k step (rows 0..<6 of the panel), then
/// the next step.
protocol GEMMPanelA {
    /// Row `row`'s value at the current step.
    subscript(row: Int) -> Float { get }
    /// Moves to the next step.
    mutating func advance()
}

/// A panel packed by `packA`: six values per step, contiguous.
struct PackedPanelA: GEMMPanelA {
    var pointer: UnsafePointer<Float>
    @inline(__always) subscript(row: Int) -> Float { pointer[row] }
    @inline(__always) mutating func advance() { pointer += GEMMKernel.mr }
}

/// Six rows of op(A) read in place: row `r` at `pointer + r * rowStride`, steps `stepStride`
/// apart (rowStride 1 for a transposed A, whose steps are stored rows).
struct StridedPanelA: GEMMPanelA {
    var pointer: UnsafePointer<Float>
    let rowStride: Int
    let stepStride: Int
    @inline(__always) subscript(row: Int) -> Float { pointer[row &* rowStride] }
    @inline(__always) mutating func advance() { pointer += stepStride }
}

/// A panel of B packed by `packB`: sixteen values per step, contiguous and 64-byte aligned.
struct PackedPanelB {
    var pointer: UnsafeRawPointer
    init(_ pointer: UnsafePointer<Float>) { self.pointer = UnsafeRawPointer(pointer) }
    /// Columns 0..<8 and 8..<16 at the current step.
    @inline(__always) func load() -> (SIMD8<Float>, SIMD8<Float>) {
        (pointer.load(as: SIMD8<Float>.self), pointer.load(fromByteOffset: 32, as: SIMD8<Float>.self))
    }
    /// Moves to the next step.
    @inline(__always) mutating func advance() { pointer += 64 }
}
