import CompactRecData

/// One optimisation step of a model on a batch: forward, the loss, backward, then the sparse
/// update of the embedding rows the batch touched and the dense update of every other weight.
///
/// The trainer, the AutoDim search and `bench train` all take their steps through this type, so
/// a benchmark times exactly what training runs, and one setting, `threads`, reaches every
/// parallel region: the model's dense kernels, its embedding gathers and scatters, and both
/// optimizers.
public final class TrainingStep {
    /// The phases of a step, in order, for `bench train`'s per-phase timings.
    public enum Phase: Int, CaseIterable, Sendable {
        /// `model.forward`.
        case forward
        /// The loss and its gradient with respect to the logits.
        case loss
        /// Zeroing every gradient.
        case zeroGradients
        /// `model.backward`.
        case backward
        /// The embedding rows' update.
        case sparseUpdate
        /// The dense parameters' update.
        case denseUpdate
    }

    /// The model being trained.
    public let model: any CTRModel
    /// Updates the model's sparse tables (only the rows a batch touched).
    public let sparseOptimizer: SparseOptimizer
    /// Updates the model's dense parameters.
    public let denseOptimizer: DenseOptimizer
    /// Sigmoid cross-entropy on the logits.
    public let loss = SigmoidCrossEntropy()
    private let tables: [EmbeddingTable]
    private let parameters: [DenseParameter]

    /// A step for `model` with the optimizers, learning rates and threads of `options`.
    public init(model: any CTRModel, options: TrainingOptions) {
        self.model = model
        tables = model.sparseTables
        parameters = model.denseParameters
        sparseOptimizer = SparseOptimizer(
            rule: options.sparseRule, tables: tables,
            learningRate: options.embeddingLearningRate ?? options.learningRate, l2: options.embeddingL2)
        denseOptimizer = DenseOptimizer(rule: options.denseRule, parameters: parameters, learningRate: options.learningRate)
        useThreads(options.threads)
    }

    /// Sets the cores of every parallel region a step runs: the model's (dense kernels,
    /// embedding layer, first-order weights) and both optimizers'.
    public func useThreads(_ threads: Int) {
        model.useThreads(threads)
        sparseOptimizer.threads = threads
        denseOptimizer.threads = threads
    }

    /// Forward and backward on `batch` (training mode) with every gradient zeroed first; returns
    /// the loss, or throws `nonFiniteLoss` naming `step` before any gradient is touched.
    /// `observe` is called as each phase ends.
    public func computeGradients(on batch: Batch, step: Int, observe: ((Phase) -> Void)? = nil) throws(TrainingError) -> Float {
        let logits = model.forward(batch, training: true)
        observe?(.forward)
        let value = loss.loss(logits: logits, labels: batch.labels)
        guard value.isFinite else { throw .nonFiniteLoss(step: step, loss: value, checkpoint: nil) }
        let gradient = loss.gradient(logits: logits, labels: batch.labels)
        observe?(.loss)
        for table in tables { table.zeroGradient() }
        for parameter in parameters { parameter.zeroGradient() }
        observe?(.zeroGradients)
        model.backward(gradient, batch: batch)
        observe?(.backward)
        return value
    }

    /// One update of the weights from the gradients `computeGradients` left.
    public func applyUpdates(observe: ((Phase) -> Void)? = nil) {
        sparseOptimizer.apply(to: tables)
        observe?(.sparseUpdate)
        denseOptimizer.apply(to: parameters)
        observe?(.denseUpdate)
    }

    /// The whole step on `batch`: gradients, then the updates; returns the batch's loss.
    @discardableResult
    public func run(on batch: Batch, step: Int, observe: ((Phase) -> Void)? = nil) throws(TrainingError) -> Float {
        let value = try computeGradients(on: batch, step: step, observe: observe)
        applyUpdates(observe: observe)
        return value
    }

    /// Sets both optimizers' learning rates.
    public func setLearningRates(_ rates: (dense: Float, embedding: Float)) {
        denseOptimizer.learningRate = rates.dense
        sparseOptimizer.learningRate = rates.embedding
    }
}
