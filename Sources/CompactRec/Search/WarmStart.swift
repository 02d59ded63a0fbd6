import CompactRecData

/// AutoDim's `--warm-start`: a retrained model (per-field widths from the search) starts from
/// the search's weights instead of a fresh initialisation.
///
/// Per field, the table takes the chosen candidate's rows (the first d columns of the shared
/// table, or the candidate's own table) and its projection to the common width takes that
/// candidate's unifying map (without its bias and BatchNorm, which the retrained model does
/// not have: the copy is a starting point, not the same function). Every other weight whose
/// name and shape the two models share (the MLP, first-order weights) is copied as it is.
public enum WarmStart {
    /// Copies the search's weights into `model`; returns how many tensors (tables and dense
    /// parameters) were copied.
    @discardableResult
    public static func copy(from search: DimensionSearch, into model: any CTRModel) -> Int {
        let embedding = search.embedding
        let fields = search.store.schema.vocabularyFields.map(ParameterPath.embedding)
        var copied = 0
        let sourceTables = Dictionary(search.model.sparseTables.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for table in model.sparseTables {
            if let source = sourceTables[table.name], source.rows == table.rows, source.dimension == table.dimension {
                table.weights = source.weights
                copied += 1
                continue
            }
            guard let f = fields.firstIndex(of: table.name), embedding.candidates.contains(table.dimension) else { continue }
            let d = table.dimension
            let source: EmbeddingTable?
            switch embedding.candidateTables {
            case .shared: source = embedding.rows.first?.tables[f]
            case .separate: source = embedding.candidates.firstIndex(of: d).map { embedding.rows[$0].tables[f] }
            }
            guard let source, source.rows == table.rows else { continue }
            let width = source.dimension
            for row in 0..<table.rows {
                for k in 0..<d { table.weights[row * d + k] = source.weights[row * width + k] }
            }
            copied += 1
        }
        let sourceParameters = Dictionary(search.model.denseParameters.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for parameter in model.denseParameters {
            var source = sourceParameters[parameter.name]
            if source == nil, parameter.name.hasSuffix(".projection") {
                let field = String(parameter.name.dropLast(".projection".count))
                source = sourceParameters["\(field).candidate\(parameter.value.rows).transform.weight"]
            }
            guard let source, source.value.rows == parameter.value.rows, source.value.columns == parameter.value.columns else { continue }
            parameter.value = source.value
            copied += 1
        }
        return copied
    }
}
