import Foundation
/// Whole-file readers for small inputs (texts to embed, ad-hoc queries).
public enum TextFile {
    /// Reads every line of `path` (`-` = standard input).
    ///
    /// - Parameter tsv: lines are `id<TAB>text` (the text may contain further tabs); otherwise
    ///   every line is a text and its id is its line number. An empty line is an empty text.
    /// - Throws: `CorpusError` with the line number for bad UTF-8, a missing tab or an empty id.
    public static func read(path: String, tsv: Bool) throws(CorpusError) -> (ids: [String], texts: [String]) {
        let reader = try LineReader(path: path)
        var ids: [String] = [], texts: [String] = []
        while let line = try reader.nextLine() {
            if tsv {
                let (id, text) = try splitIdText(line.text, path: path, line: line.number)
                ids.append(id)
                texts.append(text)
            } else {
                ids.append(String(line.number))
                texts.append(line.text)
            }
        }
        return (ids, texts)
    }

    /// Reads a file of ids, one per line (`index export --ids`, `index import --ids`).
    /// - Throws: `CorpusError` with the line number for bad UTF-8 or an empty or malformed id.
    public static func readIds(path: String) throws(CorpusError) -> [String] {
        let reader = try LineReader(path: path)
        var ids: [String] = []
        while let line = try reader.nextLine() {
            if let problem = RecordId.problem(line.text) { throw CorpusError(path: path, line: line.number, reason: problem) }
            ids.append(line.text)
        }
        return ids
    }

    /// Splits `id<TAB>text` at the first tab.
    public static func splitIdText(_ line: String, path: String, line number: Int) throws(CorpusError) -> (String, String) {
        guard let tab = line.firstIndex(of: "\t") else {
            throw CorpusError(path: path, line: number, reason: "expected id<TAB>text, found no tab")
        }
        let id = String(line[..<tab])
        if let problem = RecordId.problem(id) { throw CorpusError(path: path, line: number, reason: problem) }
        return (id, String(line[line.index(after: tab)...]))
    }
}

/// Number of lines in a regular file (a fast byte count), for progress ETAs; nil for standard
/// input, pipes, FIFOs and devices, which can be read only once (their progress has no ETA).
public func lineCount(ofRegularFile path: String) -> Int? {
    guard path != "-", (try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType) == .typeRegular else { return nil }
    return try? countLines(path)
}

/// Number of lines in a file (a fast byte count).
public func countLines(_ path: String) throws -> Int {
    guard let handle = FileHandle(forReadingAtPath: path) else { return 0 }
    defer { try? handle.close() }
    var count = 0
    while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty {
        count += chunk.withUnsafeBytes { bytes in bytes.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } }
    }
    return count
}
