/// MS MARCO's TSV lines: `pid<TAB>text` (collection.tsv) and `qid<TAB>text` (queries.*.tsv).
enum MSMarcoFormat {
    /// Splits at the first tab; the text is the rest of the line, further tabs included, as
    /// `TextFile.splitIdText` does. An empty text is allowed (the reader counts it).
    static func record<Record: TextRecord>(_ line: String) throws(LineProblem) -> Record {
        guard let tab = line.utf8.firstIndex(of: 0x09) else {
            throw LineProblem("expected \(Record.idName)<TAB>text, found no tab")
        }
        let id = line[..<tab]
        if let problem = RecordId.problem(id) { throw LineProblem(problem) }
        return Record(id: String(id), text: String(line[line.utf8.index(after: tab)...]))
    }
}
