import CompactRecData

/// A copy of a model's learned values: embedding tables, dense parameters and training state
/// (BatchNorm running statistics, dropout generators). Used for best-weights restore, and
/// written to `best.weights`, inside checkpoints and in model files.
///
/// Tables and dense parameters carry their path names (`ParameterPath`), and `restore(into:)`
/// matches them by name, so no file depends on the order a model lists its parameters in.
/// Files written before names existed (checkpoint version 1 and 2, weights file and model file
/// version 1) hold the values in the model's order without names (`tableNames` and
/// `denseNames` nil); they are still read, and restored by position as they were written.
/// Training states (running statistics, dropout generators) are matched by position: they
/// follow the model's MLP layers in order.
public struct ModelWeights: Sendable {
    /// Per sparse table: rows, width and values (row-major).
    public var tables: [(rows: Int, dimension: Int, values: [Float])]
    /// Per dense parameter: its shape and values.
    public var dense: [Matrix]
    /// Per training state: its words.
    public var states: [[UInt64]]
    /// The tables' path names (nil: a file written before names, in the model's order).
    public var tableNames: [String]?
    /// The dense parameters' path names (nil likewise).
    public var denseNames: [String]?

    /// The current values of `model`, named.
    public init(_ model: any CTRModel) {
        let sparse = model.sparseTables
        let parameters = model.denseParameters
        tables = sparse.map { ($0.rows, $0.dimension, $0.weights) }
        dense = parameters.map(\.value)
        states = model.trainingStates.map(\.stateWords)
        tableNames = sparse.map(\.name)
        denseNames = parameters.map(\.name)
    }

    /// Named values.
    init(tables: [(name: String, rows: Int, dimension: Int, values: [Float])], dense: [(name: String, value: Matrix)], states: [[UInt64]]) {
        self.tables = tables.map { ($0.rows, $0.dimension, $0.values) }
        self.dense = dense.map(\.value)
        self.states = states
        tableNames = tables.map(\.name)
        denseNames = dense.map(\.name)
    }

    /// Values as a file written before names held them, in the model's order.
    init(positionalTables tables: [(rows: Int, dimension: Int, values: [Float])], dense: [Matrix], states: [[UInt64]]) {
        self.tables = tables
        self.dense = dense
        self.states = states
    }

    /// Why these values do not fit `model` (nil when they do): a name or shape the model lacks,
    /// one it has that these lack, or another number of training states.
    public func mismatch(with model: any CTRModel) -> String? {
        let modelTables = model.sparseTables
        let modelDense = model.denseParameters
        guard states.count == model.trainingStates.count else {
            return "\(states.count) BatchNorm or dropout states for the model's \(model.trainingStates.count)"
        }
        guard let tableNames, let denseNames else {
            guard tables.count == modelTables.count, dense.count == modelDense.count,
                zip(tables, modelTables).allSatisfy({ $0.rows == $1.rows && $0.dimension == $1.dimension }),
                zip(dense, modelDense).allSatisfy({ $0.rows == $1.value.rows && $0.columns == $1.value.columns })
            else { return "its tables and layers do not match the model's shapes" }
            return nil
        }
        let savedTables = Dictionary(zip(tableNames, tables.indices), uniquingKeysWith: { first, _ in first })
        let savedDense = Dictionary(zip(denseNames, dense.indices), uniquingKeysWith: { first, _ in first })
        for table in modelTables {
            guard let i = savedTables[table.name] else { return "it has no table \(table.name)" }
            guard tables[i].rows == table.rows, tables[i].dimension == table.dimension else {
                return
                    "its table \(table.name) is \(tables[i].rows) x \(tables[i].dimension), the model's \(table.rows) x \(table.dimension)"
            }
        }
        for parameter in modelDense {
            guard let i = savedDense[parameter.name] else { return "it has no parameter \(parameter.name)" }
            guard dense[i].rows == parameter.value.rows, dense[i].columns == parameter.value.columns else {
                return
                    "its \(parameter.name) is \(dense[i].rows) x \(dense[i].columns), the model's \(parameter.value.rows) x \(parameter.value.columns)"
            }
        }
        let modelNames = Set(modelTables.map(\.name) + modelDense.map(\.name))
        if let extra = (tableNames + denseNames).first(where: { !modelNames.contains($0) }) {
            return "it holds \(extra), which the model does not have"
        }
        guard tableNames.count == modelTables.count, denseNames.count == modelDense.count else {
            return "it names a parameter twice"
        }
        return nil
    }

    /// Whether these values have exactly the shapes of `model`'s.
    public func fits(_ model: any CTRModel) -> Bool { mismatch(with: model) == nil }

    /// Whether `other` has exactly these names (where both have them), shapes and states.
    public func hasShapes(of other: ModelWeights) -> Bool {
        tables.count == other.tables.count && dense.count == other.dense.count
            && zip(states, other.states).allSatisfy { $0.count == $1.count } && states.count == other.states.count
            && zip(tables, other.tables).allSatisfy { $0.rows == $1.rows && $0.dimension == $1.dimension }
            && zip(dense, other.dense).allSatisfy { $0.rows == $1.rows && $0.columns == $1.columns }
            && (tableNames == nil || other.tableNames == nil || (tableNames == other.tableNames && denseNames == other.denseNames))
    }

    /// Copies the values into `model`, by name (by position for a file without names);
    /// `source` names the file in the error if they do not fit.
    public func restore(into model: any CTRModel, source: String) throws(TrainingError) {
        if let reason = mismatch(with: model) { throw .badCheckpoint(path: source, reason: reason) }
        if let tableNames, let denseNames {
            let savedTables = Dictionary(zip(tableNames, tables.indices), uniquingKeysWith: { first, _ in first })
            let savedDense = Dictionary(zip(denseNames, dense.indices), uniquingKeysWith: { first, _ in first })
            for table in model.sparseTables { if let i = savedTables[table.name] { table.weights = tables[i].values } }
            for parameter in model.denseParameters { if let i = savedDense[parameter.name] { parameter.value = dense[i] } }
        } else {
            for (table, saved) in zip(model.sparseTables, tables) { table.weights = saved.values }
            for (parameter, value) in zip(model.denseParameters, dense) { parameter.value = value }
        }
        for (state, words) in zip(model.trainingStates, states) where !state.restoreState(words) {
            throw .badCheckpoint(path: source, reason: "a BatchNorm or dropout state does not fit the model")
        }
    }

    /// Appends the values to `writer`, each table and parameter led by its name when `named`
    /// (every file this build writes; without names only to test reading older files).
    public func encode(into writer: inout ByteWriter, named: Bool = true) {
        writer.append(UInt64(tables.count))
        for (i, table) in tables.enumerated() {
            if named { writer.append(string: tableNames?[i] ?? "") }
            writer.append(UInt64(table.rows))
            writer.append(UInt64(table.dimension))
            writer.append(floats: table.values)
        }
        writer.append(UInt64(dense.count))
        for (i, matrix) in dense.enumerated() {
            if named { writer.append(string: denseNames?[i] ?? "") }
            writer.append(UInt64(matrix.rows))
            writer.append(UInt64(matrix.columns))
            writer.append(floats: matrix.storage)
        }
        writer.append(UInt64(states.count))
        for words in states {
            writer.append(UInt64(words.count))
            writer.append(words: words)
        }
    }

    /// Reads what `encode` wrote (`named`: a file version with names).
    public static func decode(from reader: inout ByteReader, named: Bool) throws(DataError) -> ModelWeights {
        var tables: [(rows: Int, dimension: Int, values: [Float])] = []
        var tableNames: [String] = []
        for _ in 0..<(try reader.count()) {
            if named { tableNames.append(try reader.string()) }
            let rows = try reader.count()
            let dimension = try reader.count()
            tables.append((rows, dimension, try reader.floats(rows * dimension)))
        }
        var dense: [Matrix] = []
        var denseNames: [String] = []
        for _ in 0..<(try reader.count()) {
            if named { denseNames.append(try reader.string()) }
            let rows = try reader.count()
            let columns = try reader.count()
            dense.append(Matrix(rows: rows, columns: columns, values: try reader.floats(rows * columns)))
        }
        var states: [[UInt64]] = []
        for _ in 0..<(try reader.count()) { states.append(try reader.words(try reader.count())) }
        var weights = ModelWeights(positionalTables: tables, dense: dense, states: states)
        if named { (weights.tableNames, weights.denseNames) = (tableNames, denseNames) }
        return weights
    }
}

extension ByteReader {
    /// Reads a UInt64 count that must fit the bytes left (a corrupt count becomes an error, not
    /// a huge allocation).
    public mutating func count() throws(DataError) -> Int {
        let value = try uint64()
        guard value <= UInt64(remaining) else { throw corrupt("corrupt: a count of \(value) at offset \(offset) exceeds the file") }
        return Int(value)
    }
}
