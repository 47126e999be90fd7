/// Bad input in a corpus, queries or qrels file; names the file and the 1-based line.
public struct CorpusError: Error, CustomStringConvertible, Equatable, Sendable {
    public let path: String
    /// 1-based line number; 0 when the problem is the file itself (missing, unreadable).
    public let line: Int
    public let reason: String

    /// An error at `line` (1-based; 0 for the file as a whole) of `path`.
    public init(path: String, line: Int, reason: String) {
        self.path = path
        self.line = line
        self.reason = reason
    }

    public var description: String { line > 0 ? "\(path):\(line): \(reason)" : "\(path): \(reason)" }
}
