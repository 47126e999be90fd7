import DensekitCorpus
import Foundation
import Testing

@Suite struct CorpusFormatTests {
    @Test func byExtensionAndFirstObject() throws {
        #expect(try CorpusFormat.detect(path: Fixture.file("1\tx\n", name: "collection.tsv")) == .msmarcoTSV)
        #expect(try CorpusFormat.detect(path: Fixture.file("1\tx\n", name: "COLLECTION.TSV")) == .msmarcoTSV)
        #expect(try CorpusFormat.detect(path: Fixture.file(#"{"_id": "d", "text": "x"}"#, name: "corpus.jsonl")) == .beirJSONL)
        #expect(try CorpusFormat.detect(path: Fixture.file(#"{"id": 1, "text": "x"}"#, name: "docs.jsonl")) == .plainJSONL)
        // Blank lines before the first object are passed over; an empty file is taken as plain.
        #expect(try CorpusFormat.detect(path: Fixture.file("\n\n" + #"{"text": "x", "_id": "d"}"#, name: "c.jsonl")) == .beirJSONL)
        #expect(try CorpusFormat.detect(path: Fixture.file("", name: "empty.jsonl")) == .plainJSONL)
    }

    @Test func undecidable() throws {
        let neither = try Fixture.file("\n" + #"{"doc": 1, "text": "x"}"#, name: "c.jsonl")
        #expect(throws: CorpusError(path: neither, line: 2, reason: #"the first object has neither "_id" (BEIR) nor "id" (plain JSON lines)"#)) {
            try CorpusFormat.detect(path: neither)
        }
        let notJSON = try Fixture.file("1\tx\n", name: "c.jsonl")
        #expect(throws: CorpusError(path: notJSON, line: 1, reason: "invalid JSON")) { try CorpusFormat.detect(path: notJSON) }
        let text = try Fixture.file("x", name: "c.txt")
        #expect(throws: CorpusError(path: text, line: 0, reason: #"cannot tell the format from extension '.txt'; expected .tsv (MS MARCO id<TAB>text) or .jsonl (BEIR {"_id","title","text"} or {"id","text"})"#)) {
            try CorpusFormat.detect(path: text)
        }
        let gzip = try Fixture.file("x", name: "corpus.jsonl.gz")
        #expect(throws: CorpusError(path: gzip, line: 0, reason: "compressed files are not read; decompress it first")) { try CorpusFormat.detect(path: gzip) }
        #expect(throws: CorpusError(path: "-", line: 0, reason: "the format of standard input cannot be detected; name it")) {
            try CorpusFormat.detect(path: "-")
        }
    }

    @Test func explicitFormatOverridesTheExtension() throws {
        let path = try Fixture.file("7\tseven\n", name: "passages.txt")
        #expect(try Fixture.passages(path, format: .msmarcoTSV) == [Fixture.Read<Passage>(1, "7", "seven")])
    }
}
