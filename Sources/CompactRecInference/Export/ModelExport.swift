import CompactRec
import CompactRecData

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension ModelFile {
    /// The model file of `inference` (a trained model's inference form) trained on `store`
    /// by `training`: the dataset's schema, vocabularies, preprocessing and reader settings
    /// beside the weights. `schemaFile` supplies a schema-format dataset's schema file when its
    /// `dataset.json` predates recording it.
    public init(
        inference: InferenceModel, training: RunConfiguration, step: Int, validation: Evaluation?,
        store: ColumnStore, schemaFile: String? = nil
    ) throws(ModelFileError) {
        let manifest = store.manifest
        let vocabularies: [Vocabulary]
        do { vocabularies = try store.vocabularies() } catch {
            throw .cannotExport(path: store.directory, reason: error.reason)
        }
        let widths =
            inference.configuration.embedding.fieldWidths
            ?? Array(repeating: inference.configuration.dimension, count: vocabularies.count)
        var embedded = 0
        let fields = manifest.fields.map { field -> ModelFileHeader.ModelField in
            guard field.kind != .dense else { return .init(name: field.name, kind: field.kind, cardinality: nil, width: nil) }
            defer { embedded += 1 }
            return .init(
                name: field.name, kind: field.kind, cardinality: field.cardinality,
                width: inference.configuration.kind == .lr ? nil : widths[embedded])
        }
        let header = ModelFileHeader(
            model: inference.configuration, schema: manifest.schema,
            input: try ModelFile.inputSettings(of: store, schemaFile: schemaFile), preprocessing: manifest.preprocessing,
            fields: fields, training: .init(configuration: training, step: step, validation: validation),
            embeddingParameters: inference.embeddingParameterCount, totalParameters: inference.totalParameterCount)
        self.init(header: header, vocabularies: vocabularies, weights: inference.weights)
    }

    /// Exports a trained run: `source` is a run directory (its `best.weights`), a weights file
    /// or a `checkpoint.bin` (whose training-form weights are folded into inference form, MLET's
    /// tables and maps multiplied). The vocabularies come from the run's dataset, or `dataset`,
    /// which must have the same fields and vocabulary sizes.
    public static func export(from source: String, dataset: String? = nil, schemaFile: String? = nil) throws(ModelFileError) -> ModelFile {
        guard FileManager.default.fileExists(atPath: source) else {
            throw .cannotExport(path: source, reason: "no such run directory, weights or checkpoint file")
        }
        let isDirectory = (try? FileManager.default.contentsOfDirectory(atPath: source)) != nil
        let path = isDirectory ? source + "/best.weights" : source
        do throws(any Error) {
            let bytes = try AtomicFile.read(path, what: "weights or checkpoint")
            let (configuration, weights, step, validation): (RunConfiguration, ModelWeights, Int, Evaluation?)
            if bytes.starts(with: Checkpoint.magic) {
                let checkpoint = try Checkpoint.read(from: path)
                let cursor = checkpoint.cursor
                configuration = checkpoint.configuration
                weights = checkpoint.weights
                step = cursor.step
                validation = cursor.historySteps.last == cursor.step ? cursor.history.last : nil
            } else {
                let file = try WeightsFile.read(from: path)
                (configuration, weights, step, validation) = (
                    file.header.configuration, file.weights, file.header.step, file.header.validation
                )
            }
            let store = try openDataset(dataset ?? configuration.dataset.directory, for: configuration, source: path)
            let model = try ModelFactory.make(configuration.model, store: store, seed: configuration.options.seed)
            try weights.restore(into: model, source: path)
            return try ModelFile(
                inference: InferenceModel(model, configuration: configuration.model), training: configuration,
                step: step, validation: validation, store: store, schemaFile: schemaFile)
        } catch let error as ModelFileError {
            throw error
        } catch {
            throw .cannotExport(path: path, reason: error.localizedDescription)
        }
    }

    /// The dataset at `directory`, checked to have the fields and vocabulary sizes the run was
    /// trained with.
    private static func openDataset(_ directory: String, for configuration: RunConfiguration, source: String) throws(ModelFileError)
        -> ColumnStore
    {
        let store: ColumnStore
        do { store = try ColumnStore(directory: directory) } catch {
            throw .cannotExport(path: source, reason: "its dataset cannot be opened (\(error.localizedDescription)); pass --dataset DIR")
        }
        let identity = DatasetIdentity(store)
        guard identity.fields == configuration.dataset.fields, identity.cardinalities == configuration.dataset.cardinalities else {
            throw .cannotExport(
                path: source,
                reason: "\(directory) does not have the fields and vocabulary sizes of the dataset "
                    + "\(configuration.dataset.directory) the run was trained on")
        }
        return store
    }

    /// How `store`'s raw rows were read: as recorded by `prepare`, else what the format name
    /// and schema imply (a schema-format dataset then needs `schemaFile`).
    static func inputSettings(of store: ColumnStore, schemaFile: String?) throws(ModelFileError) -> InputSettings {
        let source = store.manifest.source
        if var settings = source.settings {
            if let schemaFile, settings.format == .schema { settings.delimitedSchema = try loadSchema(schemaFile) }
            return settings
        }
        guard let format = InputFormatName(rawValue: source.format) else {
            throw .cannotExport(path: store.directory, reason: "its dataset.json names an unknown input format \(source.format)")
        }
        guard format == .schema else { return InputSettings(format: format) }
        guard let schemaFile else {
            throw .cannotExport(
                path: store.directory,
                reason: "it was prepared from a schema file that dataset.json does not record; "
                    + "pass --schema FILE (the file given to prepare)")
        }
        return InputSettings(format: .schema, delimitedSchema: try loadSchema(schemaFile))
    }

    private static func loadSchema(_ path: String) throws(ModelFileError) -> DelimitedSchemaFile {
        do { return try DelimitedSchemaFile.load(path: path) } catch { throw .cannotExport(path: path, reason: error.reason) }
    }
}
