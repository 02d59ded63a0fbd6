import ArgumentParser
import CompactRec
import CompactRecData
import CompactRecInference
import Foundation

/// `compactrec export`: a trained run to one model file (or safetensors for Python).
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a trained run as one model file (.crmodel) for predict and serve, or as safetensors.",
        discussion: """
            --checkpoint takes a run directory (its best.weights), a best.weights file or a \\
            checkpoint.bin (its latest weights). The model file holds the schema, the \\
            preprocessing (vocabularies with the OOV rule, the dense transform), the model \\
            configuration and the weights in inference form: MLET's tables and maps multiplied \\
            into plain n x d tables, narrow per-field tables kept with their projections. The \\
            vocabularies come from the run's dataset (or --dataset).

            --format safetensors writes OUTPUT (.safetensors) with the same weights, named as in \\
            a PyTorch state dict, and OUTPUT with .json in place of .safetensors: the model \\
            configuration, the layers in order and the vocabularies (docs/FORMATS.md; \\
            docs/python/compactrec_safetensors.py scores rows with them in numpy).

            Examples:
              compactrec export --checkpoint runs/deepfm --output deepfm.crmodel
              compactrec export --checkpoint runs/deepfm --format safetensors --output deepfm.safetensors
            """
    )

    @Option(help: "A run directory, a best.weights file or a checkpoint.bin.")
    var checkpoint: String

    @Option(help: "The file to write (.crmodel, or .safetensors with --format safetensors).")
    var output: String

    @Option(help: "crmodel (one file for predict and serve) or safetensors (weights + JSON config for Python).")
    var format: ExportFormat = .crmodel

    @Option(help: "The prepared dataset whose vocabularies to ship (default: the one the run was trained on).")
    var dataset: String?

    @Option(help: "The schema file a --format schema dataset was prepared with, if its dataset.json does not record it.")
    var schema: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    /// The export formats.
    enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
        case crmodel, safetensors
    }

    func run() async throws {
        let file = try ModelFile.export(from: checkpoint, dataset: dataset, schemaFile: schema)
        let result: ExportResult
        switch format {
        case .crmodel:
            let sections = try file.write(to: output)
            result = ExportResult(file: file, paths: [output], bytes: sections.total, weightBytes: sections.weights)
        case .safetensors:
            let written = try SafetensorsExport.write(file, to: output)
            result = ExportResult(
                file: file, paths: [written.tensorsPath, written.configPath], bytes: written.tensorBytes,
                weightBytes: written.tensorBytes)
        }
        if json {
            print(try jsonString(result))
            return
        }
        let header = file.header
        print(
            "\(header.model.kind.rawValue) d = \(header.model.dimension), \(header.embeddingParameters) embedding parameters, "
                + "\(header.totalParameters) in all; weights from step \(header.training.step)"
                + (header.training.validation.map { " (validation AUC \(ProgressBar.fixed($0.auc, 4)))" } ?? ""))
        print("  wrote \(result.files.joined(separator: " and ")) (\(result.bytes) bytes)")
    }
}

/// What `export --json` prints.
struct ExportResult: Encodable {
    var files: [String]
    var bytes: Int
    var weightBytes: Int
    var embeddingParams: Int
    var totalParams: Int
    var step: Int

    init(file: ModelFile, paths: [String], bytes: Int, weightBytes: Int) {
        files = paths
        self.bytes = bytes
        self.weightBytes = weightBytes
        embeddingParams = file.header.embeddingParameters
        totalParams = file.header.totalParameters
        step = file.header.training.step
    }

    enum CodingKeys: String, CodingKey {
        case files, bytes, step
        case weightBytes = "weight_bytes"
        case embeddingParams = "embedding_params"
        case totalParams = "total_params"
    }
}
