import DensekitCorpus
import Foundation
import Testing

@Suite struct JSONLReaderTests {
    typealias Read = Fixture.Read<Passage>

    @Test func stringAndIntegerIds() throws {
        let path = try Fixture.file("""
            {"id": 12, "text": "integer id"}
            {"id": "doc-7", "text": "string id", "extra": [1, 2]}
            {"id": -3, "text": ""}
            {"id": 12345678901234567890, "text": "beyond Int64"}
            """, name: "docs.jsonl")
        let reader = try PassageReader(path: path)
        #expect(reader.format == .plainJSONL)
        #expect(try Fixture.readAll(reader) == [
            Read(1, "12", "integer id"), Read(2, "doc-7", "string id"), Read(3, "-3", ""), Read(4, "12345678901234567890", "beyond Int64"),
        ])
        #expect(reader.report.emptyTexts == 1)
    }

    @Test func titleIsNotJoinedInPlainFormat() throws {
        let path = try Fixture.file(#"{"id": "a", "title": "T", "text": "body"}"#, name: "docs.jsonl")
        #expect(try Fixture.passages(path) == [Read(1, "a", "body")])
    }

    @Test func badLines() throws {
        let missingId = try Fixture.file(#"{"id": 1, "text": "a"}"# + "\n" + #"{"text": "b"}"#, name: "docs.jsonl")
        #expect(throws: CorpusError(path: missingId, line: 2, reason: #"missing "id""#)) { try Fixture.passages(missingId) }
        let missingText = try Fixture.file(#"{"id": 1}"#, name: "docs.jsonl")
        #expect(throws: CorpusError(path: missingText, line: 1, reason: #"missing "text""#)) { try Fixture.passages(missingText) }
        let objectId = try Fixture.file(#"{"id": {"n": 1}, "text": "a"}"#, name: "docs.jsonl")
        #expect(throws: CorpusError(path: objectId, line: 1, reason: #""id" must be a string or an integer"#)) { try Fixture.passages(objectId) }
        // In a plain file, a BEIR line lacks "id".
        let beirLine = try Fixture.file(#"{"id": 1, "text": "a"}"# + "\n" + #"{"_id": "2", "text": "b"}"#, name: "docs.jsonl")
        #expect(throws: CorpusError(path: beirLine, line: 2, reason: #"missing "id""#)) { try Fixture.passages(beirLine) }
    }
}

extension JSONLReaderTests {
    /// Ids are JSON values: an integer-valued number is that integer however written; a fraction is refused.
    @Test func numericIdsAreTheirIntegerValue() throws {
        let path = try Fixture.file(#"{"id": 1.0, "text": "a"}"# + "\n" + #"{"id": 2e3, "text": "b"}"#, name: "docs.jsonl")
        #expect(try Fixture.passages(path) == [Read(1, "1", "a"), Read(2, "2000", "b")])
        let fraction = try Fixture.file(#"{"id": 1.5, "text": "a"}"#, name: "docs.jsonl")
        #expect(throws: CorpusError(path: fraction, line: 1, reason: #""id" must be a string or an integer"#)) { try Fixture.passages(fraction) }
    }
}
