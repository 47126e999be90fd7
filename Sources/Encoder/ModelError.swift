import Foundation

/// Why a model folder could not be loaded. Every case names the file at fault.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// A file the model needs is not there.
    case missingFile(path: String, need: String)
    /// A file exists but could not be read or parsed.
    case unreadable(path: String, reason: String)
    /// A configuration value is missing, out of range, or contradicts another file.
    case invalidConfiguration(path: String, reason: String)
    /// The safetensors file is truncated or malformed.
    case invalidWeights(path: String, reason: String)
    /// A tensor the architecture needs is absent from the weights.
    case missingTensor(path: String, name: String)
    /// A tensor has a shape other than the configuration implies.
    case shapeMismatch(path: String, name: String, expected: [Int], found: [Int])
    /// The folder describes something densekit does not run (yet).
    case unsupported(path: String, reason: String)
    /// The tokenizer files could not be loaded (the message names the file).
    case tokenizer(String)
    /// A folder that a model cannot be written to (in use as the base model, not writable,
    /// holding another model).
    case output(path: String, reason: String)

    public var description: String {
        switch self {
        case let .missingFile(path, need): "\(path): missing (\(need))"
        case let .unreadable(path, reason): "\(path): cannot read: \(reason)"
        case let .invalidConfiguration(path, reason): "\(path): \(reason)"
        case let .invalidWeights(path, reason): "\(path): invalid safetensors: \(reason)"
        case let .missingTensor(path, name): "\(path): tensor '\(name)' not found"
        case let .shapeMismatch(path, name, expected, found):
            "\(path): tensor '\(name)' has shape \(found), expected \(expected)"
        case let .unsupported(path, reason): "\(path): not supported: \(reason)"
        case let .tokenizer(message): message
        case let .output(path, reason): "\(path): \(reason)"
        }
    }
}

/// The bytes of a JSON file, without a UTF-8 byte-order mark, with errors that name the file.
func readJSONData(_ url: URL, need: String = "JSON file") throws(ModelError) -> Data {
    guard FileManager.default.fileExists(atPath: url.path) else {
        throw .missingFile(path: url.path, need: need)
    }
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
        throw .unreadable(path: url.path, reason: error.localizedDescription)
    }
    return data.starts(with: [0xEF, 0xBB, 0xBF]) ? data.dropFirst(3) : data
}

/// Reads a JSON object from `url`, with errors that name the file.
func readJSONObject(_ url: URL) throws(ModelError) -> [String: Any] {
    let data = try readJSONData(url)
    let object: Any
    do { object = try JSONSerialization.jsonObject(with: data) } catch {
        throw .unreadable(path: url.path, reason: "not valid JSON")
    }
    guard let dictionary = object as? [String: Any] else {
        throw .unreadable(path: url.path, reason: "expected a JSON object at the top level")
    }
    return dictionary
}

/// Typed accessors for values of a parsed JSON object, failing with the file's name.
struct JSONFields {
    let path: String
    let object: [String: Any]

    func int(_ key: String, default fallback: Int? = nil) throws(ModelError) -> Int {
        guard let value = object[key] else {
            if let fallback { return fallback }
            throw .invalidConfiguration(path: path, reason: "missing key '\(key)'")
        }
        // JSONSerialization gives NSNumber; refuse fractions.
        guard let number = value as? NSNumber, let int = Int(exactly: number.doubleValue) else {
            throw .invalidConfiguration(path: path, reason: "'\(key)' must be an integer, found \(value)")
        }
        return int
    }

    func double(_ key: String, default fallback: Double? = nil) throws(ModelError) -> Double {
        guard let value = object[key] else {
            if let fallback { return fallback }
            throw .invalidConfiguration(path: path, reason: "missing key '\(key)'")
        }
        guard let number = value as? NSNumber else {
            throw .invalidConfiguration(path: path, reason: "'\(key)' must be a number, found \(value)")
        }
        return number.doubleValue
    }

    func string(_ key: String, default fallback: String? = nil) throws(ModelError) -> String {
        guard let value = object[key] else {
            if let fallback { return fallback }
            throw .invalidConfiguration(path: path, reason: "missing key '\(key)'")
        }
        guard let string = value as? String else {
            throw .invalidConfiguration(path: path, reason: "'\(key)' must be a string, found \(value)")
        }
        return string
    }

    func bool(_ key: String, default fallback: Bool) throws(ModelError) -> Bool {
        guard let value = object[key], !(value is NSNull) else { return fallback }
        guard let bool = value as? Bool else {
            throw .invalidConfiguration(path: path, reason: "'\(key)' must be true or false, found \(value)")
        }
        return bool
    }
}
