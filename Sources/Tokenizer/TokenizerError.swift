/// Why a tokenizer could not be built. Every case names where the problem is, so that the message
/// alone is enough to fix a broken model directory.
public enum TokenizerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file does not exist.
    case fileNotFound(path: String)
    /// The file exists but could not be read.
    case unreadableFile(path: String, reason: String)
    /// A line of a vocabulary file is not valid UTF-8.
    case invalidUTF8(path: String, line: Int)
    /// A token occurs twice; `line` is the second occurrence (1-based), `firstLine` the first.
    case duplicateToken(source: String, line: Int, firstLine: Int, token: String)
    /// Two tokens claim the same id in a tokenizer.json vocabulary.
    case duplicateId(source: String, id: Int, tokens: [String])
    /// A token id is negative or does not fit in 32 bits.
    case invalidId(source: String, id: Int, token: String)
    /// The vocabulary has no tokens at all.
    case emptyVocabulary(source: String)
    /// A special token (`role` is e.g. "CLS") is not in the vocabulary.
    case missingSpecialToken(source: String, role: String, token: String)
    /// A JSON file could not be parsed or lacks a required field.
    case invalidJSON(path: String, reason: String)
    /// The file describes a tokenizer this implementation does not reproduce (e.g. a BPE model).
    case unsupported(path: String, reason: String)
    /// A configuration value is out of range.
    case invalidConfiguration(reason: String)

    /// A one-line message that starts with the file (and line) at fault.
    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): no such file"
        case .unreadableFile(let path, let reason):
            return "\(path): cannot be read: \(reason)"
        case .invalidUTF8(let path, let line):
            return "\(path):\(line): not valid UTF-8"
        case .duplicateToken(let source, let line, let firstLine, let token):
            return "\(source):\(line): duplicate token '\(token)' (first on line \(firstLine))"
        case .duplicateId(let source, let id, let tokens):
            return "\(source): id \(id) is given to several tokens: \(tokens.map { "'\($0)'" }.joined(separator: ", "))"
        case .invalidId(let source, let id, let token):
            return "\(source): token '\(token)' has invalid id \(id)"
        case .emptyVocabulary(let source):
            return "\(source): the vocabulary is empty"
        case .missingSpecialToken(let source, let role, let token):
            return "\(source): the \(role) token '\(token)' is not in the vocabulary"
        case .invalidJSON(let path, let reason):
            return "\(path): invalid JSON: \(reason)"
        case .unsupported(let path, let reason):
            return "\(path): unsupported tokenizer: \(reason)"
        case .invalidConfiguration(let reason):
            return "invalid tokenizer configuration: \(reason)"
        }
    }
}
