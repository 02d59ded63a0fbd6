import CompactRecData

/// One GEMM operand in memory: a row-major matrix and whether it enters the product transposed.
struct GEMMOperand {
    /// The first value.
    var base: UnsafePointer<Float>
    /// Distance between rows in memory (the stored matrix's column count).
    var stride: Int
    /// Whether op(X) = X^T.
    var transposed: Bool

    /// op(X)[i, j].
    @inline(__always)
    func pointer(_ i: Int, _ j: Int) -> UnsafePointer<Float> {
        transposed ? base + (j &* stride &+ i) : base + (i &* stride &+ j)
    }
}

extension GEMMKernel {
    /// Stored rows of B packed per pass over its panels (see `packB`).
    static let packChunk = 16

    /// Floats between the starts of consecutive packed A panels of `kc` steps: `mr * kc` plus
    /// one cache line, so that the panels do not all map to the same few L1 sets (at kc = 256
    /// a bare panel is 6 KiB, and writing 24 of them in turn thrashed two sets).
    @inline(__always)
    static func aPanelStride(kc: Int) -> Int { mr * kc + 16 }

    /// Packs op(A)[i0 ..< i0 + rows, p0 ..< p0 + kc] as panels of `mr` rows, panel q starting at
    /// `q * aPanelStride(kc)`: for each k, the `mr` values of its rows (rows past the end are
    /// zero), the order the micro-kernel reads them in.
    static func packA(
        _ a: GEMMOperand, rows i0: Int, count rows: Int, k p0: Int, kc: Int,
        into destination: UnsafeMutablePointer<Float>
    ) {
        let fullPanels = rows / mr
        let rest = rows - fullPanels * mr
        let panelStride = aPanelStride(kc: kc)
        if a.transposed {
            // op(A)[i, p] = a[p, i]: stored row p holds step p of every panel, contiguously.
            // Walk the stored rows in order (sequential reads the prefetcher follows) and deal
            // six values to each panel.
            for p in 0..<kc {
                let src = UnsafeRawPointer(a.pointer(i0, p0 + p))
                var out = UnsafeMutableRawPointer(destination + p * mr)
                var offset = 0
                for _ in 0..<fullPanels {
                    out.storeBytes(of: src.loadUnaligned(fromByteOffset: offset, as: SIMD4<Float>.self), as: SIMD4<Float>.self)
                    out.storeBytes(
                        of: src.loadUnaligned(fromByteOffset: offset &+ 16, as: SIMD2<Float>.self),
                        toByteOffset: 16, as: SIMD2<Float>.self)
                    offset &+= mr * MemoryLayout<Float>.stride
                    out += panelStride * MemoryLayout<Float>.stride
                }
            }
            if rest > 0 {
                let out = destination + fullPanels * panelStride
                for p in 0..<kc {
                    let src = a.pointer(i0 + fullPanels * mr, p0 + p)
                    for r in 0..<mr { out[p &* mr &+ r] = r < rest ? src[r] : 0 }
                }
            }
            return
        }
        // op(A)[i, p] = a[i, p]: each panel interleaves `mr` row streams. Eight steps at a time:
        // one vector load per row, then the 48 values written out in step order.
        for panel in 0..<fullPanels {
            var out = destination + panel * panelStride
            let i = i0 + panel * mr
            let rowBytes = a.stride &* MemoryLayout<Float>.stride
            let r0 = UnsafeRawPointer(a.pointer(i, p0))
            var p = 0
            while p &+ 8 <= kc {
                let offset = p &* MemoryLayout<Float>.stride
                let v0 = r0.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                let v1 = r0.loadUnaligned(fromByteOffset: offset &+ rowBytes, as: SIMD8<Float>.self)
                let v2 = r0.loadUnaligned(fromByteOffset: offset &+ 2 &* rowBytes, as: SIMD8<Float>.self)
                let v3 = r0.loadUnaligned(fromByteOffset: offset &+ 3 &* rowBytes, as: SIMD8<Float>.self)
                let v4 = r0.loadUnaligned(fromByteOffset: offset &+ 4 &* rowBytes, as: SIMD8<Float>.self)
                let v5 = r0.loadUnaligned(fromByteOffset: offset &+ 5 &* rowBytes, as: SIMD8<Float>.self)
                for e in 0..<8 {
                    out[0] = v0[e]
                    out[1] = v1[e]
                    out[2] = v2[e]
                    out[3] = v3[e]
                    out[4] = v4[e]
                    out[5] = v5[e]
                    out += mr
                }
                p &+= 8
            }
            let first = a.pointer(i, p0)
            while p < kc {
                for r in 0..<mr { out[r] = first[r &* a.stride &+ p] }
                out += mr
                p &+= 1
            }
        }
        if rest > 0 {
            let i = i0 + fullPanels * mr
            let out = destination + fullPanels * panelStride
            for r in 0..<mr {
                if r < rest {
                    let src = a.pointer(i + r, p0)
                    for p in 0..<kc { out[p &* mr &+ r] = src[p] }
                } else {
                    for p in 0..<kc { out[p &* mr &+ r] = 0 }
                }
            }
        }
    }

    /// Packs the `nr`-column panels `panels` of op(B)[p0 ..< p0 + kc, j0 ..< j0 + columns] into
    /// `destination`: panel q starts at `q * nr * kc` and holds, for each k, `nr` values
    /// (columns past the end are zero). Panels are independent, so workers pack disjoint ranges.
    ///
    /// With `sums` (B not transposed), each packed column's values are also added to
    /// `sums[column - j0]`, sixteen rows at a time (a Linear layer's bias gradient, the column
    /// sums of dY, read on the pass that packs dY for the weight gradient).
    static func packB(
        _ b: GEMMOperand, k p0: Int, kc: Int, columns j0: Int, count columns: Int,
        panels: Range<Int>, into destination: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>? = nil
    ) {
        if panels.isEmpty { return }
        let panelSize = nr * kc
        // Panels of full width, then at most one ragged one (the last panel of the block).
        let fullEnd = min(panels.upperBound, columns / nr)
        let full = panels.lowerBound..<max(panels.lowerBound, fullEnd)
        if !b.transposed {
            // op(B)[p, j] = b[p, j]: each step of a panel is 16 contiguous values of stored row
            // p. Sixteen stored rows at a time, panel by panel: the rows' cache lines serve
            // neighbouring panels while still in L1, and each panel is written sequentially.
            var chunk = 0
            while chunk < kc {
                let steps = min(packChunk, kc - chunk)
                for panel in full {
                    var src = UnsafeRawPointer(b.pointer(p0 + chunk, j0 + panel * nr))
                    var out = UnsafeMutableRawPointer(destination + (panel * panelSize + chunk * nr))
                    var sumLow = SIMD8<Float>()
                    var sumHigh = SIMD8<Float>()
                    for _ in 0..<steps {
                        let low = src.loadUnaligned(fromByteOffset: 0, as: SIMD8<Float>.self)
                        let high = src.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
                        out.storeBytes(of: low, toByteOffset: 0, as: SIMD8<Float>.self)
                        out.storeBytes(of: high, toByteOffset: 32, as: SIMD8<Float>.self)
                        sumLow += low
                        sumHigh += high
                        src += b.stride * MemoryLayout<Float>.stride
                        out += nr * MemoryLayout<Float>.stride
                    }
                    if let sums {
                        let target = sums + panel * nr
                        Elementwise.store8(Elementwise.load8(target) + sumLow, target)
                        Elementwise.store8(Elementwise.load8(target + 8) + sumHigh, target + 8)
                    }
                }
                chunk += steps
            }
        } else {
            // op(B)[p, j] = b[j, p]: 16 stored rows per panel, each contiguous in p.
            for panel in full {
                let out = destination + panel * panelSize
                for c in 0..<nr {
                    let src = b.pointer(p0, j0 + panel * nr + c)
                    var p = 0
                    while p < kc {
                        out[p &* nr &+ c] = src[p]
                        p &+= 1
                    }
                }
            }
        }
        if fullEnd < panels.upperBound {
            // The ragged last panel: `width` real columns, zeros after.
            let panel = panels.upperBound - 1
            let j = j0 + panel * nr
            let width = j0 + columns - j
            let out = destination + panel * panelSize
            for p in 0..<kc {
                for c in 0..<nr {
                    out[p &* nr &+ c] = c < width ? b.pointer(p0 + p, j + c).pointee : 0
                }
                if let sums {
                    for c in 0..<width { sums[panel * nr + c] += out[p &* nr &+ c] }
                }
            }
        }
    }
}
