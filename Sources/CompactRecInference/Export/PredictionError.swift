import CompactRec
import CompactRecData

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Why rows could not be scored: a request row that does not fit the model's fields, or a
/// malformed line of a prediction input. Messages name the row (or file and line) and the field.
public enum PredictionError: Error, LocalizedError, Sendable, Equatable {
    /// A row names a field the model does not have.
    case unknownField(row: Int, name: String, known: [String])
    /// A field's value has a type the field does not take.
    case wrongType(row: Int, field: String, expected: String, found: String)
    /// A dense value is not a finite Float32.
    case outOfRange(row: Int, field: String, value: Double)
    /// A line of an input file is malformed.
    case badRow(path: String, line: Int, problem: RowProblem)
    /// An input file's columns are not the ones the model was trained on.
    case schemaMismatch(path: String, reason: String)
    /// An input could not be read.
    case input(DataError)
    /// The scores could not be written.
    case writeFailed(path: String, reason: String)
    /// The model produced a score that is not a number (its weights hold NaN or infinity).
    case nonFiniteScore(row: Int)

    /// The message shown to the user (and in a server's 4xx response).
    public var errorDescription: String? {
        switch self {
        case .unknownField(let row, let name, let known):
            "row \(row): unknown field \"\(name)\"; the model's fields are " + known.joined(separator: ", ")
        case .wrongType(let row, let field, let expected, let found):
            "row \(row): field \(field) takes \(expected), not \(found)"
        case .outOfRange(let row, let field, let value):
            "row \(row): field \(field) is \(value), beyond Float32's range (about 3.4e38)"
        case .badRow(let path, let line, let problem):
            "\(path):\(line): \(problem.detail). Fix the row: predict scores every row and skips none"
        case .schemaMismatch(let path, let reason):
            "\(path): \(reason)"
        case .input(let error):
            error.errorDescription ?? "\(error)"
        case .writeFailed(let path, let reason):
            "\(path): cannot write: \(reason)"
        case .nonFiniteScore(let row):
            "row \(row): the model's score is not a number; its weights hold NaN or infinity (retrain or re-export it)"
        }
    }
}
