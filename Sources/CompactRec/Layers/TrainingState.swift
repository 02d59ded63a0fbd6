import CompactRecData

/// Values that training changes but the optimizer does not: BatchNorm's running statistics and
/// dropout's random generator. Checkpoints and best-weights snapshots carry them, so a resumed
/// run continues bit for bit and a restored model infers exactly as it did when it was best.
public protocol TrainingState: AnyObject {
    /// The state as 64-bit words (a Float is stored as its bit pattern, one per word).
    var stateWords: [UInt64] { get }
    /// Sets the state from words that `stateWords` produced; false if they do not fit.
    func restoreState(_ words: [UInt64]) -> Bool
}

extension Layer {
    /// None by default: most layers change only their parameters.
    public var trainingStates: [any TrainingState] { (self as? any TrainingState).map { [$0] } ?? [] }
}
