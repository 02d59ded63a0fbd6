import CompactRec
import CompactRecData

/// Scores raw rows with a model file's model: the preprocessing applied identically, the
/// inference-form model run by the same kernels as training's evaluation, one click
/// probability per row. Safe to call from many threads at once (`ModelPool`).
public final class Predictor: Sendable {
    /// The model file.
    public let file: ModelFile
    /// The file's section sizes, as written.
    public let sections: ModelFile.Sections
    let encoder: RowEncoder
    private let pool: ModelPool

    /// A predictor for `file`; `source` names it in errors. Fails if the weights do not fit the
    /// model the header describes.
    public init(file: ModelFile, source: String) throws(ModelFileError) {
        self.file = file
        sections = try file.sections()
        let header = file.header
        encoder = RowEncoder(schema: header.schema, vocabularies: file.vocabularies, preprocessing: header.preprocessing)
        let cardinalities = file.vocabularies.map(\.cardinality)
        let weights = file.weights
        pool = try ModelPool { () throws(ModelFileError) -> any CTRModel in
            do {
                let model = try ModelFactory.make(
                    header.model, schema: header.schema, cardinalities: cardinalities, seed: 0, source: source)
                try weights.restore(into: model, source: source)
                model.useThreads(1)
                return model
            } catch {
                throw .corrupt(
                    path: source, reason: "its weights do not fit the model its header describes (\(error.localizedDescription))")
            }
        }
    }

    /// Loads the model file at `path`.
    public convenience init(path: String) throws(ModelFileError) {
        try self.init(file: try ModelFile.read(from: path), source: path)
    }

    /// The click probability of a logit: the training loss's overflow-free logistic function,
    /// in Double, rounded to Float.
    @inline(__always)
    public static func probability(logit: Float) -> Float { Float(SigmoidCrossEntropy.sigmoid(Double(logit))) }

    /// The model's logits for `batch` (rows already encoded), one per row.
    public func logits(_ batch: Batch) -> [Float] {
        pool.withModel { model in model.forward(batch, training: false).values }
    }

    /// Click probabilities of rows given by field name (missing fields allowed); rows are
    /// numbered from 0 in errors.
    public func probabilities(named rows: [[String: FeatureValue]]) throws(PredictionError) -> [Float] {
        var batch = Batch(schema: file.header.schema)
        try encoder.encode(named: rows, into: &batch)
        let scores = logits(batch).map(Predictor.probability)
        if let bad = scores.firstIndex(where: { !$0.isFinite }) { throw .nonFiniteScore(row: bad) }
        return scores
    }

    /// Model instances built so far (the most threads that scored at once).
    public var instanceCount: Int { pool.instanceCount }
}
