import CompactRec
import CompactRecData

/// One raw feature value of a row given by field name (a scoring request's JSON), before
/// preprocessing: a number for a dense field, text for a categorical one, a list of texts for
/// a multi-valued one, or missing.
public enum FeatureValue: Sendable, Equatable, Decodable {
    /// JSON `null` (or an absent field): the field is missing.
    case missing
    /// A JSON number.
    case number(Double)
    /// A JSON string.
    case text(String)
    /// A JSON array of strings (a multi-valued field's values).
    case texts([String])
    /// Any other JSON value (a boolean, an object, an array of non-strings), named for the
    /// error message: no field takes it.
    case unsupported(String)

    /// Decodes any JSON value; never fails, so a wrong type becomes a message naming the field.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Most likely first: every failed attempt costs a thrown error.
        if container.decodeNil() {
            self = .missing
        } else if let text = try? container.decode(String.self) {
            self = .text(text)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let flag = try? container.decode(Bool.self) {
            self = .unsupported("the boolean \(flag)")
        } else if let texts = try? container.decode([String].self) {
            self = .texts(texts)
        } else if (try? container.decode([FeatureValue].self)) != nil {
            self = .unsupported("an array that is not all strings")
        } else {
            self = .unsupported("an object")
        }
    }

    /// What the value is, for messages.
    public var kindDescription: String {
        switch self {
        case .missing: "null"
        case .number(let value): "the number \(value)"
        case .text(let text): "the string \"\(text.prefix(40))\""
        case .texts: "an array of strings"
        case .unsupported(let what): what
        }
    }
}
