import Foundation

/// Plain JSON lines `{"id": ..., "text": ...}`; the id may be a JSON string or an integer.
enum JSONLFormat {
    /// The record of one line; other keys are ignored.
    static func record<Record: TextRecord>(_ line: String, decoder: JSONDecoder) throws(LineProblem) -> Record {
        let object = try JSONLine(line, decoder: decoder)
        let id = try object.id("id")
        let text = try object.string("text", optional: false) ?? ""
        return Record(id: id, text: text)
    }
}
