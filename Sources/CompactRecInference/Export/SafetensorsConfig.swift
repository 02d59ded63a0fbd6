import CompactRec
import CompactRecData

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The JSON beside an exported `.safetensors` file: what the model is, its fields and their
/// vocabularies (value of id `i + 2` at index `i`; id 0 is OOV, 1 missing), the preprocessing,
/// and which tensors make each part, with each MLP's layers in order. Keys are snake_case.
struct SafetensorsConfig: Encodable {
    var format = "compactrec-safetensors"
    var version = 1
    var model: ModelKind
    var dimension: Int
    var denseFields: [String]
    var categoricalFields: [String]
    var multiValuedFields: [String]
    var preprocessing: Preprocessing
    var vocabularies: [String: [String]]
    var embeddings: [String: Embedding] = [:]
    var firstOrder: FirstOrder?
    var mlps: [String: [Layer]] = [:]
    /// DLRM's interaction: the dot products `<v_i, v_j>` for `i` in `0..<n`, `j` in `0..<i`,
    /// over the bottom MLP's vector (absent, with `bottom_mlp`, when the data has no dense
    /// features) then the fields' vectors.
    var interaction: String

    struct Preprocessing: Encodable {
        var denseTransform: DenseTransform
        var denseMissingValue: Float
        var oovId: UInt32
        var missingId: UInt32
    }

    struct Embedding: Encodable {
        var table: String
        var projection: String?
    }

    struct FirstOrder: Encodable {
        var tables: [String: String] = [:]
        var denseWeight: String?
        var bias: String?
    }

    struct Layer: Encodable {
        var type: String
        var weight: String?
        var bias: String?
        var runningMean: String?
        var runningVar: String?
        var eps: Float?
    }

    init(file: ModelFile) {
        let header = file.header
        model = header.model.kind
        dimension = header.model.dimension
        denseFields = header.schema.dense
        categoricalFields = header.schema.categorical
        multiValuedFields = header.schema.multiValued
        let p = header.preprocessing
        preprocessing = Preprocessing(
            denseTransform: p.denseTransform, denseMissingValue: p.denseMissingValue, oovId: p.oovID, missingId: p.missingID)
        vocabularies = Dictionary(
            uniqueKeysWithValues: file.vocabularies.map { vocabulary in
                (vocabulary.name, (0..<vocabulary.valueCount).map { vocabulary.value(at: $0) })
            })
        interaction =
            switch header.model.kind {
            case .fm, .deepfm: "fm"
            case .dlrm: "dot"
            case .dcnv2: "cross"
            case .lr, .wd: "none"
            }
    }

    /// Stable, readable JSON.
    static func encoded(_ config: SafetensorsConfig) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return Array(try encoder.encode(config)) + [UInt8(ascii: "\n")]
    }
}
