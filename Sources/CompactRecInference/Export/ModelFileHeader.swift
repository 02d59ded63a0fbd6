import CompactRec
import CompactRecData

/// The JSON header of a model file: everything needed to turn raw rows into the model's inputs
/// and to build the model the weights load into, plus where the weights came from.
public struct ModelFileHeader: Codable, Sendable, Equatable {
    /// Identifies the kind of file.
    public var format = "compactrec-model"
    /// The program that wrote it.
    public var createdBy = "compactrec \(CompactRecVersion.current)"
    /// The model the weights load into: always the inference form (plain tables, MLET folded,
    /// narrow fields with their projections).
    public var model: ModelConfiguration
    /// The fields, in model order.
    public var schema: Schema
    /// How raw rows are read (`compactrec predict` reads new rows the same way).
    public var input: InputSettings
    /// Vocabulary and dense-value settings applied to raw rows, as at prepare time.
    public var preprocessing: DatasetManifest.Preprocessing
    /// Per field (schema order): its kind, embedding rows and stored width.
    public var fields: [ModelField]
    /// Where the weights came from.
    public var training: TrainingRecord
    /// Values in the embedding tables and kept projections.
    public var embeddingParameters: Int
    /// All values in the weights.
    public var totalParameters: Int

    /// One field of the model.
    public struct ModelField: Codable, Sendable, Equatable {
        /// The field's name, as in `dataset.json` (and as the server's JSON rows name it).
        public var name: String
        /// Dense, categorical or multi-valued.
        public var kind: FieldKind
        /// Embedding rows (OOV, missing and the kept values); nil for dense fields.
        public var cardinality: Int?
        /// Width of the field's stored table; nil for dense fields and for LR, which has none.
        public var width: Int?
    }

    /// The training run the weights are from.
    public struct TrainingRecord: Codable, Sendable, Equatable {
        /// The run's configuration as known where the weights were read (the trained embedding
        /// method and MLET's inner widths when exported from a checkpoint or by `train`).
        public var configuration: RunConfiguration
        /// The step the weights are from.
        public var step: Int
        /// Their validation metrics, if the run had validation rows.
        public var validation: Evaluation?
    }
}
