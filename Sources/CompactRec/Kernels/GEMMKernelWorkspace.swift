import CompactRecData
import Foundation

/// Reusable packing buffers for `GEMM.multiply`, so that steady-state training does not allocate.
///
/// A multiply packs panels of A and B into contiguous, 64-byte aligned buffers before running
/// its SIMD micro-kernel. Those buffers live in a workspace: they grow to the largest problem
/// seen and are then reused, call after call.
///
/// Two ways to use it:
/// - Pass nothing: `GEMM.multiply` borrows a workspace from an internal, lock-protected pool
///   and returns it afterwards. After the first few calls the pool holds enough workspaces
///   (one per concurrent caller), and no call allocates.
/// - Pass your own (`GEMM.multiply(..., workspace: layerWorkspace)`), e.g. one per layer or per
///   trainer, to keep the buffers' lifetime and size under your control.
///
/// A workspace is thread-safe: calls that share one take turns on its lock (they are never
/// interleaved), so sharing is correct but serialises those calls.
public final class GEMMWorkspace: @unchecked Sendable {
    // Everything below is touched only while `lock` is held by one `GEMM.multiply` call; the
    // parallel workers of that call write disjoint buffers (the packed B panels by disjoint
    // ranges, and each worker its own `perThread` entry).
    private let lock = NSLock()
    let packedB = GEMMAlignedBuffer()
    /// A row vector added to C, padded to whole panels.
    let paddedBias = GEMMAlignedBuffer()
    /// Per k block, partial column sums of B (when a multiply also sums B's columns).
    let columnSumPartials = GEMMAlignedBuffer()
    private(set) var perThread: [GEMMThreadBuffers] = []
    /// The next unclaimed block of C in a parallel region (workers claim blocks atomically).
    let nextBlock: UnsafeMutablePointer<Int>

    /// An empty workspace; buffers are allocated by the first multiply that needs them.
    public init() {
        nextBlock = .allocate(capacity: 1)
        nextBlock.initialize(to: 0)
    }

    deinit { nextBlock.deallocate() }

    /// Bytes currently held by the packing buffers.
    public var reservedBytes: Int {
        lock.lock()
        defer { lock.unlock() }
        return
            (packedB.capacity + paddedBias.capacity + columnSumPartials.capacity
            + perThread.reduce(0) { $0 + $1.packedA.capacity + $1.edgeTile.capacity })
            * MemoryLayout<Float>.stride
    }

    /// Runs `body` holding the workspace's lock, with buffers for `threads` workers of at least
    /// the given sizes (in Floats).
    func withReserved<R>(
        threads: Int, packedBCount: Int, packedACount: Int, biasCount: Int = 0, columnSumCount: Int = 0,
        _ body: () -> R
    ) -> R {
        lock.lock()
        defer { lock.unlock() }
        packedB.reserve(packedBCount)
        paddedBias.reserve(biasCount)
        columnSumPartials.reserve(columnSumCount)
        while perThread.count < threads { perThread.append(GEMMThreadBuffers()) }
        for t in 0..<threads {
            perThread[t].packedA.reserve(packedACount)
            perThread[t].edgeTile.reserve(GEMMKernel.mr * GEMMKernel.nr)
        }
        return body()
    }
}

/// One worker's private buffers: its packed block of A and a scratch tile for C's ragged edges.
final class GEMMThreadBuffers {
    let packedA = GEMMAlignedBuffer()
    let edgeTile = GEMMAlignedBuffer()
}

/// A growable, 64-byte aligned Float buffer whose contents are scratch (not kept on growth).
final class GEMMAlignedBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init() {
        capacity = 16
        pointer = GEMMAlignedBuffer.allocate(16)
    }

    deinit { pointer.deallocate() }

    /// Makes room for at least `count` Floats (reallocating only to grow).
    func reserve(_ count: Int) {
        guard count > capacity else { return }
        pointer.deallocate()
        pointer = GEMMAlignedBuffer.allocate(count)
        capacity = count
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
        return raw.initializeMemory(as: Float.self, repeating: 0, count: count)
    }
}

/// The workspaces `GEMM.multiply` borrows when the caller passes none.
final class GEMMWorkspacePool: @unchecked Sendable {
    /// The process-wide pool.
    static let shared = GEMMWorkspacePool()

    // `free` is only touched with `lock` held.
    private let lock = NSLock()
    private var free: [GEMMWorkspace] = []
    private let maximumKept = 8

    init() { free.reserveCapacity(maximumKept) }

    /// Runs `body` with a workspace no other caller is using.
    func withWorkspace<R>(_ body: (GEMMWorkspace) -> R) -> R {
        lock.lock()
        let borrowed = free.popLast()
        lock.unlock()
        let workspace = borrowed ?? GEMMWorkspace()
        defer {
            lock.lock()
            if free.count < maximumKept { free.append(workspace) }
            lock.unlock()
        }
        return body(workspace)
    }
}
