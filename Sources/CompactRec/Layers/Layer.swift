import CompactRecData

/// A dense layer with a hand-written backward pass: the building block of the models' MLPs and
/// interactions, and what `MLP` chains.
///
/// Contract (every layer in `Layers/` follows it):
/// - `forward(_:training:)` returns the layer's own output matrix, reused across calls (resized,
///   never reallocated for a smaller batch). With `training: true` the layer keeps what `backward`
///   needs; with `training: false` it keeps nothing and `backward` must not be called.
/// - `backward(_:)` differentiates the most recent training forward pass: it returns
///   dLoss/dInput (also a reused matrix) and *adds* dLoss/dParameter to each parameter's
///   `gradient`. Call it at most once per training forward: layers that hold a reference to
///   their input release it here, so that the layer before can overwrite its output buffer in
///   place on the next batch (otherwise copy-on-write would allocate a fresh buffer).
/// - Matrices returned by a layer are overwritten by its next call: copy what must outlive it.
/// - Matrix products go through `GEMM` with the layer's `threads`; other loops through
///   `Elementwise`.
public protocol Layer: AnyObject {
    /// Computes the output of a batch (one sample per row).
    func forward(_ input: Matrix, training: Bool) -> Matrix
    /// Returns dLoss/dInput for dLoss/dOutput of the last training forward, accumulating
    /// parameter gradients.
    func backward(_ outputGradient: Matrix) -> Matrix
    /// The learnable tensors (empty for parameter-free layers).
    var parameters: [DenseParameter] { get }
    /// Cores the layer's GEMMs and row loops may use (1 by default).
    var threads: Int { get set }
}
