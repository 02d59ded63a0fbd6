import CompactRec
import CompactRecData

/// Model instances for scoring from several threads at once.
///
/// A model's forward pass keeps workspaces in the model, so two threads must not share one
/// instance; the pool lends each caller an instance of its own. Instances are built on demand
/// and kept, so the pool grows to the number of threads that ever score at the same moment and
/// never makes a caller wait. Their weights are copies of one `ModelWeights`, which Swift's
/// arrays share without copying (scoring only reads them), so an extra instance costs its
/// workspaces, not another copy of the tables.
final class ModelPool: @unchecked Sendable {
    private let lock = Lock()
    private var idle: [any CTRModel] = []
    private var built = 0
    private let make: () throws(ModelFileError) -> any CTRModel

    /// A pool whose instances `make` builds; one is built at once, to check that it can be.
    init(make: @escaping () throws(ModelFileError) -> any CTRModel) throws(ModelFileError) {
        self.make = make
        idle.append(try make())
        built = 1
    }

    /// Instances built so far.
    var instanceCount: Int { lock.withLock { built } }

    /// Runs `body` with an instance no other caller is using.
    func withModel<R, E: Error>(_ body: (any CTRModel) throws(E) -> R) throws(E) -> R {
        let model = lock.withLock { idle.popLast() } ?? buildInstance()
        defer { lock.withLock { idle.append(model) } }
        return try body(model)
    }

    private func buildInstance() -> any CTRModel {
        // The first instance was built from the same configuration and weights, so this succeeds.
        guard let model = try? make() else { preconditionFailure("ModelPool: an instance like the first could not be built") }
        lock.withLock { built += 1 }
        return model
    }
}
