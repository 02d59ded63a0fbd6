import CompactRec
import CompactRecData
import CompactRecInference
import Foundation

/// The body of `POST /v1/predict`: `{"rows": [{"C1": "68fd1e64", "I1": 5, ...}, ...]}`, each
/// row the raw values of a sample by field name (fields may be left out: they are missing).
struct ScoringRequest: Decodable, Sendable {
    /// The rows to score.
    var rows: [[String: FeatureValue]]

    private enum CodingKeys: String, CodingKey { case rows }

    /// Decodes the rows, each value as the type its field takes first (a failed guess costs a
    /// thrown error, which dominated decoding when every value was tried as each JSON type).
    init(from decoder: any Decoder) throws {
        let kinds = decoder.userInfo[ScoringRequest.fieldKinds] as? [String: FieldKind] ?? [:]
        var list = try decoder.container(keyedBy: CodingKeys.self).nestedUnkeyedContainer(forKey: .rows)
        var rows: [[String: FeatureValue]] = []
        rows.reserveCapacity(list.count ?? 0)
        while !list.isAtEnd {
            let row = try list.nestedContainer(keyedBy: FieldKey.self)
            var values: [String: FeatureValue] = [:]
            values.reserveCapacity(row.allKeys.count)
            for key in row.allKeys {
                let expected: FeatureValue? =
                    switch kinds[key.stringValue] {
                    case .dense: (try? row.decode(Double.self, forKey: key)).map { .number($0) }
                    case .categorical: (try? row.decode(String.self, forKey: key)).map { .text($0) }
                    case .multiValued, nil: nil
                    }
                values[key.stringValue] = try expected ?? row.decode(FeatureValue.self, forKey: key)
            }
            rows.append(values)
        }
        self.rows = rows
    }

    /// A field name as a coding key.
    private struct FieldKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The `userInfo` key under which `decode` passes the model's field kinds by name.
    static let fieldKinds: CodingUserInfoKey = {
        guard let key = CodingUserInfoKey(rawValue: "compactrec.fieldKinds") else { preconditionFailure("a non-empty key is valid") }
        return key
    }()

    /// Decodes a body for a model with `schema`, turning every way it can be wrong into a
    /// message for a 400 response.
    static func decode(_ bytes: Data, schema: Schema) throws(ScoringFailure) -> ScoringRequest {
        do {
            let decoder = JSONDecoder()
            decoder.userInfo[fieldKinds] = Dictionary(uniqueKeysWithValues: schema.fields.map { ($0.name, $0.kind) })
            return try decoder.decode(ScoringRequest.self, from: bytes)
        } catch let DecodingError.dataCorrupted(context) where context.codingPath.isEmpty {
            throw .badRequest("the body is not valid JSON (\(ScoringRequest.reason(context)))")
        } catch DecodingError.keyNotFound {
            throw .badRequest(
                "the body must be a JSON object with a \"rows\" array of objects, e.g. {\"rows\": [{\"I1\": 5, \"C1\": \"68fd1e64\"}]}")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw .badRequest(
                "\(ScoringRequest.place(context.codingPath)) must be "
                    + (context.codingPath.count <= 1 ? "an array of objects" : "an object of field names and values"))
        } catch {
            throw .badRequest("the body is not a scoring request: \(error)")
        }
    }

    /// "rows[3]" for a coding path.
    private static func place(_ path: [any CodingKey]) -> String {
        guard !path.isEmpty else { return "the body" }
        return path.map { key in key.intValue.map { "[\($0)]" } ?? (key.stringValue == "rows" ? "rows" : ".\(key.stringValue)") }.joined()
    }

    private static func reason(_ context: DecodingError.Context) -> String {
        let text = context.underlyingError.map { "\($0)" } ?? context.debugDescription
        return text.count > 200 ? String(text.prefix(200)) + "..." : text
    }
}

/// Why a request was refused: the status and the message of the 4xx response.
enum ScoringFailure: Error, Sendable {
    /// 400: the body is not a valid scoring request for this model.
    case badRequest(String)
    /// 413: the body or the number of rows is over the server's limit.
    case tooLarge(String)
}
