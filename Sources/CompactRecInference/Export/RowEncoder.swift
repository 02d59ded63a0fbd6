import CompactRec
import CompactRecData

/// Turns raw rows into model inputs exactly as `prepare` did: each categorical value to its
/// vocabulary id (unseen or rarer than `--min-count`: the field's OOV id 0; empty: the missing
/// id 1), each dense value through the dense transform (missing: `denseMissingValue`).
///
/// Two sources: rows a `LineFormat` parsed from a file (`predict`), and rows of named values
/// (`serve`'s JSON). Both fill a reused `Batch`.
struct RowEncoder: Sendable {
    let schema: Schema
    let vocabularies: [Vocabulary]
    let transform: DenseTransform
    let missingValue: Float
    /// Field name to its kind and index among the fields of that kind.
    private let positions: [String: (kind: FieldKind, index: Int)]

    /// An encoder with the preprocessing of a model file.
    init(schema: Schema, vocabularies: [Vocabulary], preprocessing: DatasetManifest.Preprocessing) {
        self.schema = schema
        self.vocabularies = vocabularies
        transform = preprocessing.denseTransform
        missingValue = preprocessing.denseMissingValue
        var positions: [String: (kind: FieldKind, index: Int)] = [:]
        for (i, name) in schema.dense.enumerated() { positions[name] = (.dense, i) }
        for (i, name) in schema.categorical.enumerated() { positions[name] = (.categorical, i) }
        for (i, name) in schema.multiValued.enumerated() { positions[name] = (.multiValued, i) }
        self.positions = positions
    }

    /// Rows `range` of `rows` (whose dense values `ParsedRows.transformDense` has already
    /// transformed, as the preparer does) into `batch`.
    func encode(_ rows: ParsedRows, range: Range<Int>, into batch: inout Batch) {
        let c = schema.categorical.count
        let denseWidth = schema.dense.count
        start(&batch, size: range.count)
        for r in range { batch.labels.append(Float(rows.labels[r])) }
        let dense = rows.dense
        let denseStart = dense.startIndex + range.lowerBound * denseWidth
        batch.dense.withUnsafeMutableBufferPointer { out in
            for i in 0..<range.count * denseWidth { out[i] = dense[denseStart + i] }
        }
        let keys = rows.keys
        for r in range {
            let base = keys.startIndex + r * c
            for f in 0..<c { batch.ids.append(vocabularies[f].id(forKey: keys[base + f])) }
        }
        for m in 0..<schema.multiValued.count {
            let vocabulary = vocabularies[c + m]
            let ends = rows.multiEnds[m]
            let values = rows.multiKeys[m]
            for r in range {
                for v in (r == 0 ? 0 : ends[r - 1])..<ends[r] { batch.multiValuedIDs[m].append(vocabulary.id(forKey: values[v])) }
                batch.multiValuedOffsets[m].append(batch.multiValuedIDs[m].count)
            }
        }
    }

    /// Rows of named raw values into `batch`; a field not named in a row is missing. Rows are
    /// numbered from 0 in errors.
    func encode(named rows: [[String: FeatureValue]], into batch: inout Batch) throws(PredictionError) {
        let c = schema.categorical.count
        start(&batch, size: rows.count)
        batch.ids.append(contentsOf: repeatElement(Vocabulary.missingID, count: rows.count * c))
        batch.dense.fill(missingValue)
        var lists = [[UInt32]](repeating: [], count: schema.multiValued.count)
        for (r, row) in rows.enumerated() {
            batch.labels.append(0)
            for m in lists.indices { lists[m].removeAll(keepingCapacity: true) }
            for (name, value) in row {
                guard let position = positions[name] else {
                    throw .unknownField(row: r, name: name, known: schema.fields.map(\.name))
                }
                switch position.kind {
                case .dense:
                    batch.dense[r, position.index] = try denseInput(value, row: r, field: name)
                case .categorical:
                    batch.ids[r * c + position.index] = try categoricalID(
                        value, vocabulary: vocabularies[position.index], row: r, field: name)
                case .multiValued:
                    lists[position.index] = try multiValuedIDs(value, vocabulary: vocabularies[c + position.index], row: r, field: name)
                }
            }
            for m in lists.indices {
                batch.multiValuedIDs[m].append(contentsOf: lists[m])
                batch.multiValuedOffsets[m].append(batch.multiValuedIDs[m].count)
            }
        }
    }

    /// Empties `batch` and sizes it for `size` rows.
    private func start(_ batch: inout Batch, size: Int) {
        batch.size = size
        batch.labels.removeAll(keepingCapacity: true)
        batch.ids.removeAll(keepingCapacity: true)
        batch.dense.resize(rows: size)
        for m in 0..<schema.multiValued.count {
            batch.multiValuedOffsets[m].removeAll(keepingCapacity: true)
            batch.multiValuedOffsets[m].append(0)
            batch.multiValuedIDs[m].removeAll(keepingCapacity: true)
        }
    }

    private func denseInput(_ value: FeatureValue, row: Int, field: String) throws(PredictionError) -> Float {
        switch value {
        case .missing:
            return missingValue
        case .number(let number):
            let x = Float(number)
            guard x.isFinite else { throw .outOfRange(row: row, field: field, value: number) }
            return transform.apply(x, missingValue: missingValue)
        default:
            throw .wrongType(row: row, field: field, expected: "a number or null (a dense field)", found: value.kindDescription)
        }
    }

    private func categoricalID(_ value: FeatureValue, vocabulary: Vocabulary, row: Int, field: String) throws(PredictionError) -> UInt32 {
        switch value {
        case .missing:
            return Vocabulary.missingID
        case .text(let text):
            return vocabulary.id(of: text)
        case .number(let number) where number == number.rounded() && abs(number) < 1e15:
            return vocabulary.id(of: String(Int64(number)))
        default:
            throw .wrongType(
                row: row, field: field, expected: "a string, an integer or null (a categorical field)",
                found: value.kindDescription)
        }
    }

    private func multiValuedIDs(_ value: FeatureValue, vocabulary: Vocabulary, row: Int, field: String) throws(PredictionError) -> [UInt32]
    {
        switch value {
        case .missing:
            return []
        case .text(let text):
            return text.isEmpty ? [] : [vocabulary.id(of: text)]
        case .texts(let texts):
            return texts.filter { !$0.isEmpty }.map { vocabulary.id(of: $0) }
        default:
            throw .wrongType(
                row: row, field: field, expected: "an array of strings, a string or null (a multi-valued field)",
                found: value.kindDescription)
        }
    }
}
