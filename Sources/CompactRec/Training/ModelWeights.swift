/// A copy of a model's learned values: embedding tables, dense parameters and training state
/// (BatchNorm running statistics, dropout generators). Used for best-weights restore, and
/// written to `best.weights` and inside checkpoints.
public struct ModelWeights: Sendable {
    /// Per sparse table: rows, width and values (row-major).
    public var tables: [(rows: Int, dimension: Int, values: [Float])]
    /// Per dense parameter: its shape and values.
    public var dense: [Matrix]
    /// Per training state: its words.
    public var states: [[UInt64]]

    /// The current values of `model`.
    public init(_ model: any CTRModel) {
        tables = model.sparseTables.map { ($0.rows, $0.dimension, $0.weights) }
        dense = model.denseParameters.map(\.value)
        states = model.trainingStates.map(\.stateWords)
    }

    init(tables: [(rows: Int, dimension: Int, values: [Float])], dense: [Matrix], states: [[UInt64]]) {
        self.tables = tables
        self.dense = dense
        self.states = states
    }

    /// Whether these values have exactly the shapes of `model`'s.
    public func fits(_ model: any CTRModel) -> Bool {
        let modelTables = model.sparseTables
        let modelDense = model.denseParameters
        return tables.count == modelTables.count && dense.count == modelDense.count
            && states.count == model.trainingStates.count
            && zip(tables, modelTables).allSatisfy { $0.rows == $1.rows && $0.dimension == $1.dimension }
            && zip(dense, modelDense).allSatisfy { $0.rows == $1.value.rows && $0.columns == $1.value.columns }
    }

    /// Whether `other` has exactly these shapes (tables, parameters and states).
    public func hasShapes(of other: ModelWeights) -> Bool {
        tables.count == other.tables.count && dense.count == other.dense.count
            && zip(states, other.states).allSatisfy { $0.count == $1.count } && states.count == other.states.count
            && zip(tables, other.tables).allSatisfy { $0.rows == $1.rows && $0.dimension == $1.dimension }
            && zip(dense, other.dense).allSatisfy { $0.rows == $1.rows && $0.columns == $1.columns }
    }

    /// Copies the values into `model`; `source` names the file in the error if shapes differ.
    public func restore(into model: any CTRModel, source: String) throws(TrainingError) {
        guard fits(model) else {
            throw .badCheckpoint(path: source, reason: "its tables and layers do not match the model's shapes")
        }
        for (table, saved) in zip(model.sparseTables, tables) { table.weights = saved.values }
        for (parameter, value) in zip(model.denseParameters, dense) { parameter.value = value }
        for (state, words) in zip(model.trainingStates, states) where !state.restoreState(words) {
            throw .badCheckpoint(path: source, reason: "a BatchNorm or dropout state does not fit the model")
        }
    }

    /// Appends the values to `writer`.
    func encode(into writer: inout ByteWriter) {
        writer.append(UInt64(tables.count))
        for table in tables {
            writer.append(UInt64(table.rows))
            writer.append(UInt64(table.dimension))
            writer.append(floats: table.values)
        }
        writer.append(UInt64(dense.count))
        for matrix in dense {
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

    /// Reads what `encode` wrote.
    static func decode(from reader: inout ByteReader) throws(DataError) -> ModelWeights {
        var tables: [(rows: Int, dimension: Int, values: [Float])] = []
        for _ in 0..<(try reader.count()) {
            let rows = try reader.count()
            let dimension = try reader.count()
            tables.append((rows, dimension, try reader.floats(rows * dimension)))
        }
        var dense: [Matrix] = []
        for _ in 0..<(try reader.count()) {
            let rows = try reader.count()
            let columns = try reader.count()
            dense.append(Matrix(rows: rows, columns: columns, values: try reader.floats(rows * columns)))
        }
        var states: [[UInt64]] = []
        for _ in 0..<(try reader.count()) { states.append(try reader.words(try reader.count())) }
        return ModelWeights(tables: tables, dense: dense, states: states)
    }
}

extension ByteReader {
    /// Reads a UInt64 count that must fit the bytes left (a corrupt count becomes an error, not
    /// a huge allocation).
    mutating func count() throws(DataError) -> Int {
        let value = try uint64()
        guard value <= UInt64(remaining) else { throw corrupt("corrupt: a count of \(value) at offset \(offset) exceeds the file") }
        return Int(value)
    }
}
