import Foundation

/// A JSON value as sent, so that a request's fields can be checked one by one: a wrong type,
/// an unknown field or malformed JSON is a 400 naming the field, not a decoder's message.
enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }
}

/// The fields of a JSON object request body.
struct JSONFields {
    let fields: [String: JSONValue]

    /// Parses `data` as one JSON object whose keys are all in `allowed`.
    init(_ data: Data, allowed: Set<String>) throws(ServeError) {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw .badRequest("malformed JSON: the body must be one JSON object")
        }
        guard case .object(let fields) = value else { throw .badRequest("the body must be a JSON object, not \(Self.kind(value))") }
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw .badRequest("unknown field '\(unknown)'; this endpoint takes \(allowed.sorted().joined(separator: ", "))")
        }
        self.fields = fields
    }

    static func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    func string(_ key: String) throws(ServeError) -> String? {
        guard let value = fields[key] else { return nil }
        guard case .string(let s) = value else { throw .badRequest("'\(key)' must be a string, not \(Self.kind(value))") }
        return s
    }

    func strings(_ key: String) throws(ServeError) -> [String]? {
        guard let value = fields[key] else { return nil }
        guard case .array(let items) = value else { throw .badRequest("'\(key)' must be an array of strings, not \(Self.kind(value))") }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item else { throw .badRequest("'\(key)[\(i)]' must be a string, not \(Self.kind(item))") }
            out.append(s)
        }
        return out
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws(ServeError) -> Int? {
        guard let value = fields[key] else { return nil }
        guard case .number(let n) = value, n.rounded() == n, n.magnitude < 1e15 else {
            throw .badRequest("'\(key)' must be an integer, not \(Self.kind(value))")
        }
        guard range.contains(Int(n)) else { throw .badRequest("'\(key)' must be between \(range.lowerBound) and \(range.upperBound), not \(Int(n))") }
        return Int(n)
    }

    func bool(_ key: String) throws(ServeError) -> Bool? {
        guard let value = fields[key] else { return nil }
        guard case .bool(let b) = value else { throw .badRequest("'\(key)' must be true or false, not \(Self.kind(value))") }
        return b
    }
}
