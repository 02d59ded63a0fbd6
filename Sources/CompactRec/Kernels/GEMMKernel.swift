import CompactRecData
import CompactRecShims

/// The fast GEMM behind `GEMM.multiply`: cache blocking, packed panels, a 6 x 16 SIMD8
/// micro-kernel, and work split over the cores by blocks of C.
///
/// Loop nest (after BLIS / GotoBLAS), for C (m x n) = alpha op(A) (m x k) op(B) (k x n) + beta C:
/// ```
/// for jc in columns, by nc:                 (nc so that op(B)[:, jc] packed fits ~16 MiB of L3)
///   pack op(B)[:, jc]: for each k block, 16-column panels   (parallel region 1: the workers
///                                                            pack disjoint panels)
///   each worker claims blocks of C (rows, or columns when C has few rows) until none are left:
///     for pc in k, by kc:                   (parallel region 2)
///       for ic in the block's rows, by mc:  A block mc x kc lives in its core's L2
///         pack op(A)[ic, pc] into 6-row panels
///         for each 16-column panel:         the B panel (kc x 16, 16 KiB) stays in L1
///           for each 6-row panel: micro-kernel on a 6 x 16 tile of C
/// ```
/// Packing all of op(B)'s k blocks up front costs memory (k x nc Floats) but leaves two
/// parallel regions per column block, so the workers never wait for each other between k
/// blocks (waking a sleeping worker costs microseconds, and a weight gradient X^T dY at batch
/// 4096 has 16 k blocks). Blocks of C are claimed from an atomic counter rather than dealt out
/// in advance: on a shared machine, where a neighbour can slow one core, the other core takes
/// more blocks instead of waiting.
/// Every value of C is the sum of the same k blocks, in the same order, each computed by the
/// micro-kernel with the same operation order, whichever worker computes it: results are
/// bit-identical for any thread count.
enum GEMMKernel {
    /// Rows of the micro-kernel tile.
    static let mr = 6
    /// Columns of the micro-kernel tile (two SIMD8 vectors).
    static let nr = 16
    /// Largest k block: a B panel of kc x 16 Floats (16 KiB) fits L1 beside the A stream.
    static let kcMax = 256
    /// Largest row block: an mc x kc A block (144 KiB) sits in a 512 KiB L2.
    static let mcMax = 144
    /// Largest column block (a multiple of `nr`).
    static let ncMax = 4080
    /// Most Floats of packed op(B) per column block (16 MiB): k x nc must fit, so nc shrinks
    /// for very deep products.
    static let packedBBudget = 1 << 22
    /// Below this many multiply-adds one core does the whole product (a parallel region would
    /// cost more than it saves).
    static let parallelThreshold = 1 << 18

    /// Whether this module was compiled for AVX2 + FMA (the package's `-march=x86-64-v3`), i.e.
    /// whether the micro-kernel's `addingProduct` is a `vfmadd` rather than 8 calls of `fmaf`.
    /// Always false off x86-64 (where the SIMD code uses that target's own vector unit).
    static var targetHasAVX2FMA: Bool { compactrec_target_has_avx2_fma() != 0 }

    /// C = alpha * op(A) op(B) + beta * C (+ the row vector on every row) on matrices whose
    /// shapes the caller has checked.
    static func multiply(
        _ a: Matrix, transposeA: Bool, _ b: Matrix, transposeB: Bool, into c: inout Matrix,
        alpha: Float, beta: Float, rowVector: Matrix?, epilogue: GEMMEpilogue, threads: Int,
        workspace: GEMMWorkspace?, columnSums: UnsafeMutablePointer<Float>? = nil
    ) {
        let m = c.rows
        let n = c.columns
        let k = transposeA ? a.rows : a.columns
        if m == 0 || n == 0 { return }
        let mask: Matrix?
        if case .positiveMask(let matrix) = epilogue { mask = matrix } else { mask = nil }
        withOptionalPointer(mask) { maskPointer in
            let tileEpilogue: GEMMTileEpilogue
            switch epilogue {
            case .none: tileEpilogue = .none
            case .relu: tileEpilogue = .relu
            case .positiveMask:
                guard let maskPointer else { preconditionFailure("GEMM: an empty mask for a non-empty C") }
                tileEpilogue = .positiveMask(maskPointer)
            }
            multiply(
                a, transposeA: transposeA, b, transposeB: transposeB, into: &c, alpha: alpha, beta: beta,
                rowVector: rowVector, epilogue: tileEpilogue, threads: threads, workspace: workspace, columnSums: columnSums)
        }
    }

    /// Whether `multiply` can add B's column sums while it packs B (B stored untransposed, and
    /// the product taking the tiled path): otherwise the caller sums them separately.
    static func sumsColumnsWhilePacking(m: Int, n: Int, k: Int, alpha: Float, transposeB: Bool) -> Bool {
        !transposeB && k > 0 && alpha != 0 && !isVectorProduct(m: m, n: n, k: k)
    }

    /// `multiply` with the epilogue's mask, if any, as a pointer valid for the call.
    private static func multiply(
        _ a: Matrix, transposeA: Bool, _ b: Matrix, transposeB: Bool, into c: inout Matrix,
        alpha: Float, beta: Float, rowVector: Matrix?, epilogue: GEMMTileEpilogue, threads: Int,
        workspace: GEMMWorkspace?, columnSums: UnsafeMutablePointer<Float>?
    ) {
        let m = c.rows
        let n = c.columns
        let k = transposeA ? a.rows : a.columns
        if k == 0 || alpha == 0 {
            scale(&c, by: beta)
            if let rowVector { Elementwise.addRowVector(rowVector, to: &c, threads: threads) }
            c.withUnsafeMutableBufferPointer { values in
                if let base = values.baseAddress { epilogue.apply(toAll: base, m: m, n: n, threads: threads) }
            }
            return
        }
        let workers = m * n * k < parallelThreshold ? 1 : max(1, threads)
        withOptionalPointer(rowVector) { bias in
            a.withUnsafeBufferPointer { aValues in
                b.withUnsafeBufferPointer { bValues in
                    c.withUnsafeMutableBufferPointer { cValues in
                        guard let aBase = aValues.baseAddress, let bBase = bValues.baseAddress,
                            let cBase = cValues.baseAddress
                        else { preconditionFailure("GEMM: empty operand with non-zero sizes") }
                        let aOperand = GEMMOperand(base: aBase, stride: a.columns, transposed: transposeA)
                        let bOperand = GEMMOperand(base: bBase, stride: b.columns, transposed: transposeB)
                        if isVectorProduct(m: m, n: n, k: k) {
                            multiplyVector(
                                m: m, n: n, k: k, a: aOperand, b: bOperand, c: cBase, alpha: alpha, beta: beta,
                                bias: bias, threads: threads)
                            epilogue.apply(toAll: cBase, m: m, n: n, threads: workers)
                            return
                        }
                        let job = GEMMJob(
                            m: m, n: n, k: k, a: aOperand, b: bOperand, c: cBase, ldc: n, alpha: alpha, beta: beta,
                            bias: bias, epilogue: epilogue, columnSums: columnSums, workers: workers)
                        if let workspace {
                            job.run(workspace)
                        } else {
                            GEMMWorkspacePool.shared.withWorkspace { job.run($0) }
                        }
                    }
                }
            }
        }
    }

    /// Calls `body` with a pointer to `matrix`'s values, or nil when there is no matrix.
    private static func withOptionalPointer<R>(_ matrix: Matrix?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let matrix else { return body(nil) }
        return matrix.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    /// C = beta * C (zero when beta is 0, whatever C held).
    private static func scale(_ c: inout Matrix, by beta: Float) {
        if beta == 1 { return }
        c.withUnsafeMutableBufferPointer { values in
            if beta == 0 {
                for i in values.indices { values[i] = 0 }
            } else {
                for i in values.indices { values[i] *= beta }
            }
        }
    }
}

/// One multiply's sizes, operands and blocking, shared by its workers.
///
/// The pointers stay valid for the whole call (the caller holds the matrices' buffers), and
/// workers write disjoint parts of C and of the workspace: hence `@unchecked Sendable`.
struct GEMMJob: @unchecked Sendable {
    let m: Int, n: Int, k: Int
    let a: GEMMOperand, b: GEMMOperand
    let c: UnsafeMutablePointer<Float>
    let ldc: Int
    let alpha: Float, beta: Float
    /// The row vector added to every row of C (n values), if any.
    let bias: UnsafePointer<Float>?
    /// Applied to each tile of C after its last k block.
    let epilogue: GEMMTileEpilogue
    /// Where B's column sums are added (n values), if wanted: summed per k block as B is packed,
    /// then the blocks in order, so the bits do not depend on the thread count.
    let columnSums: UnsafeMutablePointer<Float>?
    let workers: Int
    /// k split into `kBlocks` nearly equal blocks of at most `kcMax` (depends on k only, so the
    /// summation order never depends on the thread count).
    let kBlocks: Int
    let kcLargest: Int
    /// Columns per column block (a multiple of `nr`, or all of n).
    let nc: Int
    let nBlocks: Int
    /// Workers split C by rows (each packs its own A blocks), or by columns when C has too few
    /// rows to share out.
    let splitRows: Bool
    /// Whether A is read in place rather than packed: when C has at most two column panels,
    /// each value of A is used once or twice, and packing would copy it for nothing.
    let unpackedA: Bool

    typealias K = GEMMKernel

    init(
        m: Int, n: Int, k: Int, a: GEMMOperand, b: GEMMOperand, c: UnsafeMutablePointer<Float>, ldc: Int,
        alpha: Float, beta: Float, bias: UnsafePointer<Float>?, epilogue: GEMMTileEpilogue,
        columnSums: UnsafeMutablePointer<Float>? = nil, workers: Int
    ) {
        self.m = m
        self.n = n
        self.k = k
        self.a = a
        self.b = b
        self.c = c
        self.ldc = ldc
        self.alpha = alpha
        self.beta = beta
        self.bias = bias
        self.epilogue = epilogue
        precondition(columnSums == nil || !b.transposed, "GEMM: column sums of B are summed while packing an untransposed B")
        self.columnSums = columnSums
        kBlocks = (k + K.kcMax - 1) / K.kcMax
        kcLargest = (k + kBlocks - 1) / kBlocks
        let ncLimit = min(K.ncMax, max(K.nr, K.packedBBudget / k / K.nr * K.nr))
        nc = min(n, ncLimit)
        nBlocks = (n + nc - 1) / nc
        let rowPanels = (m + K.mr - 1) / K.mr
        let columnPanels = (nc + K.nr - 1) / K.nr
        splitRows = rowPanels >= 8 * workers || rowPanels >= columnPanels
        self.workers = min(workers, splitRows ? rowPanels : columnPanels)
        unpackedA = (n + K.nr - 1) / K.nr <= 2
    }

    /// The k range of block `index`.
    func kBlock(_ index: Int) -> Range<Int> { index * k / kBlocks..<(index + 1) * k / kBlocks }

    /// The column range of block `index`: `nc` wide except the last.
    func nBlock(_ index: Int) -> Range<Int> { index * nc..<min(n, (index + 1) * nc) }

    /// Multiplies, using (and holding) `workspace`.
    func run(_ workspace: GEMMWorkspace) {
        let panelsLargest = (nc + K.nr - 1) / K.nr
        let paddedColumns = (n + K.nr - 1) / K.nr * K.nr
        workspace.withReserved(
            threads: workers, packedBCount: panelsLargest * K.nr * k,
            packedACount: K.mcMax / K.mr * K.aPanelStride(kc: kcLargest),
            biasCount: bias == nil ? 0 : paddedColumns,
            columnSumCount: columnSums == nil ? 0 : kBlocks * panelsLargest * K.nr
        ) {
            // The row vector padded with zeros to whole 16-column panels, so that the kernel's
            // ragged last panel reads inside it.
            let paddedBias = UncheckedSendable(
                bias.map { bias -> UnsafePointer<Float> in
                    let padded = workspace.paddedBias.pointer
                    padded.update(from: bias, count: n)
                    for j in n..<paddedColumns { padded[j] = 0 }
                    return UnsafePointer(padded)
                })
            let count = workers
            for jb in 0..<nBlocks {
                let columns = nBlock(jb)
                let partials = UncheckedSendable(columnSums.map { _ in workspace.columnSumPartials.pointer })
                let stride = (columns.count + K.nr - 1) / K.nr * K.nr
                partials.value?.initialize(repeating: 0, count: kBlocks * stride)
                Parallel.forEach(count, threads: count) { worker in
                    packB(worker: worker, of: count, columns: columns, into: workspace.packedB.pointer, sums: partials.value)
                }
                if let columnSums, let partial = partials.value {
                    for j in 0..<columns.count {
                        var total: Float = 0
                        for pb in 0..<kBlocks { total += partial[pb * stride + j] }
                        columnSums[columns.lowerBound + j] += total
                    }
                }
                let blocks = GEMMBlocks(job: self, columns: columns)
                workspace.nextBlock.pointee = 0
                Parallel.forEach(count, threads: count) { worker in
                    let buffers = workspace.perThread[worker]
                    if count == 1 {
                        for index in 0..<blocks.count {
                            compute(
                                blocks.rows(index), blocks.panels(index), columns: columns,
                                packedB: workspace.packedB.pointer, bias: paddedBias.value, buffers: buffers)
                        }
                        return
                    }
                    while true {
                        let index = compactrec_atomic_fetch_add(workspace.nextBlock, 1)
                        if index >= blocks.count { return }
                        compute(
                            blocks.rows(index), blocks.panels(index), columns: columns,
                            packedB: workspace.packedB.pointer, bias: paddedBias.value, buffers: buffers)
                    }
                }
            }
        }
    }

    /// One worker's share of packing op(B)[:, columns]: k block `pb` goes to
    /// `packedB + kBlock(pb).lowerBound * panels * nr`, as `panels` panels of `nr` columns.
    /// With `sums`, k block `pb`'s column sums go to `sums + pb * panels * nr`.
    private func packB(
        worker: Int, of count: Int, columns: Range<Int>, into packedB: UnsafeMutablePointer<Float>,
        sums: UnsafeMutablePointer<Float>?
    ) {
        let panels = (columns.count + K.nr - 1) / K.nr
        let units = kBlocks * panels
        let mine = worker * units / count..<(worker + 1) * units / count
        for pb in 0..<kBlocks {
            let first = max(mine.lowerBound, pb * panels)
            let end = min(mine.upperBound, (pb + 1) * panels)
            if first >= end { continue }
            let ks = kBlock(pb)
            K.packB(
                b, k: ks.lowerBound, kc: ks.count, columns: columns.lowerBound, count: columns.count,
                panels: first - pb * panels..<end - pb * panels,
                into: packedB + ks.lowerBound * panels * K.nr, sums: sums.map { $0 + pb * panels * K.nr })
        }
    }

    /// C[rows, columns of `columnPanels`] for all k blocks (one block of C, by one worker); the
    /// last k block adds the (padded) row vector `bias`, if any, then applies the epilogue.
    private func compute(
        _ rows: Range<Int>, _ columnPanels: Range<Int>, columns: Range<Int>,
        packedB: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, buffers: GEMMThreadBuffers
    ) {
        let allColumnPanels = (columns.count + K.nr - 1) / K.nr
        if rows.isEmpty || columnPanels.isEmpty { return }
        let packedA = buffers.packedA.pointer
        let edge = buffers.edgeTile.pointer
        for pb in 0..<kBlocks {
            let ks = kBlock(pb)
            let kc = ks.count
            let update: GEMMUpdate = pb > 0 ? .accumulate : beta == 0 ? .overwrite : beta == 1 ? .accumulate : .scale(beta)
            let last = pb == kBlocks - 1
            let blockBias = last ? bias : nil
            let bBlock = packedB + ks.lowerBound * allColumnPanels * K.nr
            let aPanelStride = K.aPanelStride(kc: kc)
            var ic = rows.lowerBound
            while ic < rows.upperBound {
                let mc = min(K.mcMax, rows.upperBound - ic)
                if unpackedA {
                    // Only a ragged last row panel is packed (reading six rows would run past A).
                    let full = mc / K.mr * K.mr
                    if full < mc { K.packA(a, rows: ic + full, count: mc - full, k: ks.lowerBound, kc: kc, into: packedA) }
                } else {
                    K.packA(a, rows: ic, count: mc, k: ks.lowerBound, kc: kc, into: packedA)
                }
                for jp in columnPanels {
                    let j = columns.lowerBound + jp * K.nr
                    let width = min(K.nr, columns.upperBound - j)
                    let bPanel = PackedPanelB(UnsafePointer(bBlock + jp * K.nr * kc))
                    var ip = 0
                    while ip < mc {
                        let i = ic + ip
                        let height = min(K.mr, mc - ip)
                        let tile = Tile(
                            c: c + (i * ldc + j), ldc: ldc, height: height, width: width,
                            update: update, bias: blockBias.map { $0 + j })
                        let tileEpilogue = last ? epilogue.offset(by: i * ldc + j) : .none
                        tileEpilogue.prefetch(ldc: ldc, height: height, width: width)
                        if unpackedA && height == K.mr {
                            let panel = StridedPanelA(
                                pointer: a.pointer(i, ks.lowerBound), rowStride: a.transposed ? 1 : a.stride,
                                stepStride: a.transposed ? a.stride : 1)
                            tile.multiply(kc: kc, panel, bPanel, alpha: alpha, edge: edge)
                        } else {
                            let offset = unpackedA ? 0 : ip / K.mr * aPanelStride
                            tile.multiply(kc: kc, PackedPanelA(pointer: UnsafePointer(packedA + offset)), bPanel, alpha: alpha, edge: edge)
                        }
                        tileEpilogue.apply(tile.c, ldc: ldc, height: height, width: width)
                        ip += K.mr
                    }
                }
                ic += mc
            }
        }
    }
}

/// One 6 x 16 tile of C (or the ragged part of one, `height` x `width`) and how it is updated.
private struct Tile {
    let c: UnsafeMutablePointer<Float>
    let ldc: Int
    let height: Int, width: Int
    let update: GEMMUpdate
    let bias: UnsafePointer<Float>?

    /// Runs the micro-kernel on the tile; a ragged tile goes through the scratch tile `edge`,
    /// so its values get exactly the arithmetic of full tiles.
    @inline(__always)
    func multiply<A: GEMMPanelA>(kc: Int, _ a: A, _ b: PackedPanelB, alpha: Float, edge: UnsafeMutablePointer<Float>) {
        typealias K = GEMMKernel
        if height == K.mr && width == K.nr {
            K.microKernel6x16(kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, update: update, bias: bias)
            return
        }
        if case .overwrite = update {
        } else {
            for r in 0..<height { for s in 0..<width { edge[r * K.nr + s] = c[r * ldc + s] } }
        }
        K.microKernel6x16(kc: kc, a: a, b: b, c: edge, ldc: K.nr, alpha: alpha, update: update, bias: bias)
        for r in 0..<height { for s in 0..<width { c[r * ldc + s] = edge[r * K.nr + s] } }
    }
}

/// The blocks of C that the workers of one column block claim: ranges of rows (all of the
/// block's columns), or ranges of column panels (all rows) when C has few rows.
///
/// One worker gets one block: all of C, so each k block of packed B is reused across all row
/// blocks while it is in cache. Several workers get blocks of about 12 row panels (or 4 column
/// panels), a multiple of the worker count: equal shares on a quiet machine, and re-balancing
/// when a neighbour slows one core; big enough that packing A and re-reading B stay cheap.
struct GEMMBlocks {
    /// Number of blocks.
    let count: Int
    private let splitRows: Bool
    private let m: Int
    private let rowPanels: Int
    private let columnPanels: Int

    init(job: GEMMJob, columns: Range<Int>) {
        typealias K = GEMMKernel
        m = job.m
        splitRows = job.splitRows
        rowPanels = (job.m + K.mr - 1) / K.mr
        columnPanels = (columns.count + K.nr - 1) / K.nr
        let workers = job.workers
        if workers == 1 {
            count = 1
        } else if splitRows {
            count = min(rowPanels, workers * max(1, rowPanels / (workers * 12)))
        } else {
            count = min(columnPanels, workers * max(1, columnPanels / (workers * 4)))
        }
    }

    /// The rows of block `index`.
    func rows(_ index: Int) -> Range<Int> {
        guard splitRows else { return 0..<m }
        return min(m, index * rowPanels / count * GEMMKernel.mr)..<min(m, (index + 1) * rowPanels / count * GEMMKernel.mr)
    }

    /// The column panels (of the column block) of block `index`.
    func panels(_ index: Int) -> Range<Int> {
        guard !splitRows else { return 0..<columnPanels }
        return index * columnPanels / count..<(index + 1) * columnPanels / count
    }
}
