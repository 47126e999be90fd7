import Foundation

/// BEIR's JSON lines: corpus.jsonl `{"_id", "title", "text", ...}` and queries.jsonl `{"_id", "text", ...}`.
enum BEIRFormat {
    /// The record of one line. A non-empty title is joined to the text as title + " " + text,
    /// the string BEIR's sentence-transformers models embed; a missing, null or empty title adds
    /// nothing. Other keys (`metadata`) are ignored.
    static func record<Record: TextRecord>(_ line: String, decoder: JSONDecoder) throws(LineProblem) -> Record {
        let object = try JSONLine(line, decoder: decoder)
        let id = try object.id("_id")
        let title = try object.string("title", optional: true) ?? ""
        let text = try object.string("text", optional: false) ?? ""
        return Record(id: id, text: title.isEmpty ? text : title + " " + text)
    }
}
