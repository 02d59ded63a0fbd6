import CompactRec
import CompactRecData
import CompactRecInference

/// What `GET /v1/model` returns: the model's fields, sizes and provenance, so a client can
/// see which field names and value types `POST /v1/predict` takes.
struct ModelDescription: Encodable, Sendable {
    /// The model file's path.
    var file: String
    /// Its format version.
    var formatVersion: UInt32
    /// The model configuration (inference form).
    var model: ModelConfiguration
    /// Field names by kind, in model order.
    var schema: Schema
    /// Per field: kind, embedding rows and stored width.
    var fields: [ModelFileHeader.ModelField]
    /// Values in the embedding tables and kept projections.
    var embeddingParameters: Int
    /// All values in the weights.
    var totalParameters: Int
    /// Byte counts of the model file's sections.
    var bytes: ModelFile.Sections
    /// Raw-value preprocessing.
    var preprocessing: DatasetManifest.Preprocessing
    /// The raw input format the model was trained on.
    var inputFormat: String
    /// The training run in one line, the step the weights are from, and their validation metrics.
    var training: String
    var step: Int
    var validation: Evaluation?
    /// The server's request limits.
    var maxRows: Int
    var maxBodyBytes: Int

    init(predictor: Predictor, path: String, configuration: ScoringServerConfiguration) {
        let header = predictor.file.header
        file = path
        formatVersion = ModelFile.version
        model = header.model
        schema = header.schema
        fields = header.fields
        embeddingParameters = header.embeddingParameters
        totalParameters = header.totalParameters
        bytes = predictor.sections
        preprocessing = header.preprocessing
        inputFormat = header.input.format.rawValue
        training = Trainer.describe(header.training.configuration)
        step = header.training.step
        validation = header.training.validation
        maxRows = configuration.maxRows
        maxBodyBytes = configuration.maxBodyBytes
    }
}
