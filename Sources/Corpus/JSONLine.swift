import Foundation

/// The fields densekit reads from one JSON line (`_id`, `id`, `title`, `text`, `labels`), each as found.
///
/// Decoding only these keys, each to a small enum, lets the BEIR and plain readers report exactly
/// which field is missing or has the wrong type, which a plain `Decodable` struct would not.
struct JSONLine {
    /// A field's value, reduced to what the readers distinguish.
    enum Field: Equatable {
        case string(String)
        /// An integer (an id), as its decimal text.
        case integer(String)
        case null
        /// An array of strings (XMC labels).
        case strings([String])
        /// A float, a boolean, another array or an object.
        case other
    }

    static let keys = ["_id", "id", "title", "text", "labels"]
    let fields: [String: Field]

    /// Parses `text`, which must be one JSON object.
    init(_ text: String, decoder: JSONDecoder) throws(LineProblem) {
        do {
            fields = try decoder.decode(Fields.self, from: Data(text.utf8)).values
        } catch DecodingError.typeMismatch {
            throw LineProblem("expected a JSON object")
        } catch {
            throw LineProblem("invalid JSON")
        }
    }

    /// The id under `key`: a JSON string, or an integer kept as its decimal text. An integer is
    /// judged by value, as JSON defines numbers: `7`, `7.0` and `7e0` all give "7"; `7.5` is refused.
    func id(_ key: String) throws(LineProblem) -> String {
        let id: String
        switch fields[key] {
        case nil: throw LineProblem("missing \"\(key)\"")
        case .string(let value)?, .integer(let value)?: id = value
        default: throw LineProblem("\"\(key)\" must be a string or an integer")
        }
        if let problem = RecordId.problem(id) { throw LineProblem(problem) }
        return id
    }

    /// The string under `key`; nil when the key is absent or null and `optional`.
    func string(_ key: String, optional: Bool) throws(LineProblem) -> String? {
        switch fields[key] {
        case .string(let value)?: return value
        case nil where optional, .null? where optional: return nil
        case nil: throw LineProblem("missing \"\(key)\"")
        default: throw LineProblem("\"\(key)\" must be a string")
        }
    }

    /// The array of strings under `key`.
    func strings(_ key: String) throws(LineProblem) -> [String] {
        switch fields[key] {
        case .strings(let values)?: return values
        case nil: throw LineProblem("missing \"\(key)\"")
        default: throw LineProblem("\"\(key)\" must be an array of strings")
        }
    }

    private struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private struct Fields: Decodable {
        var values: [String: Field] = [:]

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            for name in JSONLine.keys {
                let key = Key(name)
                guard container.contains(key) else { continue }
                values[name] = Self.field(container, key)
            }
        }

        private static func field(_ container: KeyedDecodingContainer<Key>, _ key: Key) -> Field {
            if (try? container.decodeNil(forKey: key)) == true { return .null }
            if let value = try? container.decode(String.self, forKey: key) { return .string(value) }
            if let value = try? container.decode(Int64.self, forKey: key) { return .integer(String(value)) }
            if let value = try? container.decode(UInt64.self, forKey: key) { return .integer(String(value)) }
            if let values = try? container.decode([String].self, forKey: key) { return .strings(values) }
            return .other
        }
    }
}
