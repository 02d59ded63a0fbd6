import CompactRec
import CompactRecData

/// `compactrec export --format safetensors`: a model file's weights as a `.safetensors` file a
/// PyTorch (or numpy) user loads with the `safetensors` package, plus a JSON config saying how
/// they compute a score (docs/FORMATS.md; docs/python/compactrec_safetensors.py).
///
/// Tensors are named as in a PyTorch state dict: `embedding.<field>.weight` (rows x width),
/// `embedding.<field>.projection.weight` (d x k, a kept per-field projection),
/// `first_order.<field>.weight` (rows x 1), `first_order.dense.weight` / `.bias` or
/// `first_order.bias`, and each MLP layer's `<mlp>.<i>.weight` / `.bias` (`nn.Linear` layout:
/// out x in) or, for BatchNorm, `.weight`, `.bias`, `.running_mean`, `.running_var`, with `<i>`
/// the layer's index in an `nn.Sequential` (ReLUs count) and `<mlp>` one of `mlp`,
/// `bottom_mlp`, `top_mlp`.
public enum SafetensorsExport {
    /// What was written.
    public struct Written: Sendable {
        /// The `.safetensors` file.
        public var tensorsPath: String
        /// The JSON config beside it.
        public var configPath: String
        /// Bytes of tensor data.
        public var tensorBytes: Int
    }

    /// The config's path for tensors at `path`: `.safetensors` replaced by `.json`.
    public static func configPath(for path: String) -> String {
        (path.hasSuffix(".safetensors") ? String(path.dropLast(".safetensors".count)) : path) + ".json"
    }

    /// Writes `file`'s weights to `path` and its config to `configPath(for: path)`.
    public static func write(_ file: ModelFile, to path: String) throws(ModelFileError) -> Written {
        let header = file.header
        // The Python loader (docs/python/compactrec_safetensors.py) computes these models over plain tables.
        guard header.model.kind != .dcnv2, header.model.embedding.kind != .qr else {
            throw .cannotExport(
                path: path,
                reason: "the safetensors export describes LR, FM, Wide & Deep, DeepFM and DLRM over "
                    + "plain tables; this model (\(header.model.kind.rawValue), \(header.model.embedding.summary)) is "
                    + "scored from its .crmodel by compactrec predict and serve")
        }
        let model: any CTRModel
        do {
            model = try ModelFactory.make(
                header.model, schema: header.schema, cardinalities: file.vocabularies.map(\.cardinality),
                seed: 0, source: path)
            try file.weights.restore(into: model, source: path)
        } catch {
            throw .cannotExport(path: path, reason: error.localizedDescription)
        }
        var tensors = SafetensorsWriter()
        var config = SafetensorsConfig(file: file)
        var named = 0
        if header.model.kind != .lr {
            named += addEmbedding(model.embedding, into: &tensors, config: &config)
        }
        if let linear = firstOrder(of: model) {
            named += addFirstOrder(linear, into: &tensors, config: &config)
        }
        for (name, mlp) in mlps(of: model) {
            config.mlps[name] = addMLP(mlp, into: &tensors, count: &named)
        }
        let expected = model.sparseTables.count + model.denseParameters.count
        guard named == expected else {
            throw .cannotExport(path: path, reason: "\(expected - named) of the model's tables and parameters have no safetensors name")
        }
        let configPath = configPath(for: path)
        try tensors.write(
            to: path, metadata: ["format": "pt", "compactrec_config": configPath.split(separator: "/").last.map(String.init) ?? configPath])
        do {
            try AtomicFile.write(try SafetensorsConfig.encoded(config), to: configPath)
        } catch {
            throw .writeFailed(path: configPath, reason: error.localizedDescription)
        }
        return Written(tensorsPath: path, configPath: configPath, tensorBytes: tensors.dataBytes)
    }

    private static func addEmbedding(
        _ embedding: any EmbeddingLayer, into tensors: inout SafetensorsWriter,
        config: inout SafetensorsConfig
    ) -> Int {
        let projected = embedding as? ProjectedEmbedding
        let tables = projected?.rows.tables ?? embedding.tables
        var count = 0
        for (f, table) in tables.enumerated() {
            let field = ParameterPath.field(ofEmbedding: table.name) ?? table.name
            let name = "embedding.\(field).weight"
            tensors.add(name, shape: [table.rows, table.dimension], values: table.weights)
            count += 1
            var entry = SafetensorsConfig.Embedding(table: name, projection: nil)
            if let projection = projected?.projections[f] {
                entry.projection = "embedding.\(field).projection.weight"
                tensors.add(
                    "embedding.\(field).projection.weight", shape: [projection.value.columns, projection.value.rows],
                    values: transposed(projection.value))
                count += 1
            }
            config.embeddings[field] = entry
        }
        return count
    }

    private static func addFirstOrder(
        _ linear: FirstOrderTerm, into tensors: inout SafetensorsWriter,
        config: inout SafetensorsConfig
    ) -> Int {
        var entry = SafetensorsConfig.FirstOrder()
        var count = 0
        for table in linear.weights.tables {
            let field = ParameterPath.field(ofFirstOrder: table.name) ?? table.name
            entry.tables[field] = "first_order.\(field).weight"
            tensors.add("first_order.\(field).weight", shape: [table.rows, 1], values: table.weights)
            count += 1
        }
        if let dense = linear.denseLinear {
            tensors.add("first_order.dense.weight", shape: [1, dense.inputs], values: transposed(dense.weight.value))
            entry.denseWeight = "first_order.dense.weight"
            count += 1
            if let bias = dense.bias {
                tensors.add("first_order.dense.bias", shape: [1], values: bias.value.values)
                entry.bias = "first_order.dense.bias"
                count += 1
            }
        } else if let bias = linear.bias {
            tensors.add("first_order.bias", shape: [1], values: bias.value.values)
            entry.bias = "first_order.bias"
            count += 1
        }
        config.firstOrder = entry
        return count
    }

    private static func addMLP(_ mlp: MLP, into tensors: inout SafetensorsWriter, count: inout Int) -> [SafetensorsConfig.Layer] {
        var layers: [SafetensorsConfig.Layer] = []
        for layer in mlp.layers {
            if let linear = layer as? Linear {
                let prefix = String(linear.weight.name.dropLast(".weight".count))
                tensors.add(prefix + ".weight", shape: [linear.outputs, linear.inputs], values: transposed(linear.weight.value))
                count += 1
                var entry = SafetensorsConfig.Layer(type: "linear", weight: prefix + ".weight")
                if let bias = linear.bias {
                    tensors.add(prefix + ".bias", shape: [linear.outputs], values: bias.value.values)
                    entry.bias = prefix + ".bias"
                    count += 1
                }
                layers.append(entry)
            } else if let norm = layer as? BatchNorm {
                var entry = SafetensorsConfig.Layer(type: "batchnorm", weight: nil)
                if let gamma = norm.gamma, let beta = norm.beta {
                    tensors.add(norm.name + ".weight", shape: [norm.features], values: gamma.value.values)
                    tensors.add(norm.name + ".bias", shape: [norm.features], values: beta.value.values)
                    (entry.weight, entry.bias) = (norm.name + ".weight", norm.name + ".bias")
                    count += 2
                }
                tensors.add(norm.name + ".running_mean", shape: [norm.features], values: norm.runningMean.values)
                tensors.add(norm.name + ".running_var", shape: [norm.features], values: norm.runningVariance.values)
                (entry.runningMean, entry.runningVar, entry.eps) = (norm.name + ".running_mean", norm.name + ".running_var", norm.epsilon)
                layers.append(entry)
            } else if layer is ReLU {
                layers.append(SafetensorsConfig.Layer(type: "relu", weight: nil))
            }
            // Dropout is the identity at inference.
        }
        return layers
    }

    /// The first-order term of the models that have one.
    private static func firstOrder(of model: any CTRModel) -> FirstOrderTerm? {
        switch model {
        case let model as LogisticRegression: model.linear
        case let model as FactorizationMachine: model.linear
        case let model as WideAndDeep: model.linear
        case let model as DeepFM: model.linear
        default: nil
        }
    }

    /// The MLPs of a model, by the name their parameters carry.
    private static func mlps(of model: any CTRModel) -> [(String, MLP)] {
        switch model {
        case let model as WideAndDeep: [("mlp", model.deep.mlp)]
        case let model as DeepFM: [("mlp", model.deep.mlp)]
        case let model as DLRM: (model.bottom.map { [("bottom_mlp", $0)] } ?? []) + [("top_mlp", model.top)]
        default: []
        }
    }

    /// A matrix's transpose, row-major (our `x W` layout to PyTorch's `x W^T`).
    static func transposed(_ matrix: Matrix) -> [Float] {
        var values = [Float](repeating: 0, count: matrix.count)
        for r in 0..<matrix.rows {
            for c in 0..<matrix.columns { values[c * matrix.rows + r] = matrix[r, c] }
        }
        return values
    }
}
