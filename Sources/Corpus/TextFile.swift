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
