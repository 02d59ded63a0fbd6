import CompactRecData
import CompactRecShims

/// An elementwise step that `GEMM.multiply` applies to C's values as it finishes each tile
/// (after the last k block and the row vector), while the tile is still in the L1 cache.
///
/// It saves a layer a separate pass over a batch-sized matrix: a ReLU after a Linear layer's
/// product, or the ReLU's backward mask on the gradient that the next layer's `dY W^T`
/// produces. The values are the same bits as the separate pass would give.
public enum GEMMEpilogue {
    /// C unchanged.
    case none
    /// `C = max(C, 0)` (as `Swift.max(c, 0)`: zero for `c <= 0`, NaN kept).
    case relu
    /// `C = mask > 0 ? C : 0` with a matrix of C's shape: a ReLU's backward pass, `mask` being
    /// the ReLU's output (positive exactly where its input was).
    case positiveMask(Matrix)
}

/// The epilogue as the kernels apply it: the mask as a pointer into a matrix of C's shape (row
/// stride `ldc`).
enum GEMMTileEpilogue {
    case none
    case relu
    case positiveMask(UnsafePointer<Float>)

    /// The epilogue for the tile whose first value is C's value `offset` (the mask moves with it).
    @inline(__always)
    func offset(by offset: Int) -> GEMMTileEpilogue {
        if case .positiveMask(let mask) = self { return .positiveMask(mask + offset) }
        return self
    }

    /// Starts loading the mask's values for a `height x width` tile (row stride `ldc`), so
    /// that their cache misses overlap the tile's k loop: tiles go down a column panel, so the
    /// hardware prefetcher does not see the mask's rows coming.
    @inline(__always)
    func prefetch(ldc: Int, height: Int, width: Int) {
        guard case .positiveMask(let mask) = self else { return }
        for r in 0..<height {
            let row = mask + r &* ldc
            compactrec_prefetch_for_read(row)
            compactrec_prefetch_for_read(row + (width &- 1))
        }
    }

    /// Applies the epilogue to a `height x width` block of C at `c` (row stride `ldc`).
    @inline(__always)
    func apply(_ c: UnsafeMutablePointer<Float>, ldc: Int, height: Int, width: Int) {
        switch self {
        case .none:
            return
        case .relu:
            for r in 0..<height {
                let row = c + r &* ldc
                var s = 0
                while s &+ 8 <= width {
                    let v = Elementwise.load8(row + s)
                    Elementwise.store8(v.replacing(with: 0, where: v .<= 0), row + s)
                    s &+= 8
                }
                while s < width {
                    row[s] = max(row[s], 0)
                    s &+= 1
                }
            }
        case .positiveMask(let mask):
            for r in 0..<height {
                let row = c + r &* ldc
                let m = mask + r &* ldc
                var s = 0
                while s &+ 8 <= width {
                    let v = Elementwise.load8(row + s)
                    Elementwise.store8(v.replacing(with: 0, where: .!(Elementwise.load8(m + s) .> 0)), row + s)
                    s &+= 8
                }
                while s < width {
                    if !(m[s] > 0) { row[s] = 0 }
                    s &+= 1
                }
            }
        }
    }

    /// Applies the epilogue to all of an `m x n` C (row stride n), rows split over `threads`
    /// cores: for the products that do not go through the tiled kernel.
    func apply(toAll c: UnsafeMutablePointer<Float>, m: Int, n: Int, threads: Int) {
        if case .none = self { return }
        let shared = UncheckedSendable((self, c))
        Elementwise.forEachRowRange(rows: m, workPerRow: n, threads: threads) { range in
            let (epilogue, c) = shared.value
            epilogue.offset(by: range.lowerBound * n).apply(c + range.lowerBound * n, ldc: n, height: range.count, width: n)
        }
    }
}
