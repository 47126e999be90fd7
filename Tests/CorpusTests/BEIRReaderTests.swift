import DensekitCorpus
import Foundation
import Testing

@Suite struct BEIRReaderTests {
    typealias Read = Fixture.Read<Passage>

    @Test func corpusJoinsNonEmptyTitleToText() throws {
        let path = try Fixture.file("""
            {"_id": "d1", "title": "Paris", "text": "Capital of France.", "metadata": {"url": "x"}}\r
            {"_id": "d2", "text": "No title key."}\r
            {"_id": "d3", "title": "", "text": "Empty title."}
            {"_id": 42, "title": null, "text": "Integer id, null title."}
            {"text": "Key order does not matter.", "title": "T", "_id": "d5"}

            """, name: "corpus.jsonl")
        let reader = try PassageReader(path: path)
        #expect(reader.format == .beirJSONL)
        #expect(try Fixture.readAll(reader) == [
            Read(1, "d1", "Paris Capital of France."),
            Read(2, "d2", "No title key."),
            Read(3, "d3", "Empty title."),
            Read(4, "42", "Integer id, null title."),
            Read(5, "d5", "T Key order does not matter."),
        ])
    }

    @Test func queries() throws {
        let path = try Fixture.file("{\"_id\": \"q1\", \"text\": \"what is \\\"BM25\\\"?\", \"metadata\": {}}\n", name: "queries.jsonl")
        let queries = try Fixture.readAll(QueryReader(path: path))
        #expect(queries == [Fixture.Read<Query>(1, "q1", "what is \"BM25\"?")])
    }

    @Test(arguments: [
        (#"{"_id": "d1", "text": "#, "invalid JSON"),
        (#"{"title": "t", "text": "x"}"#, #"missing "_id""#),
        (#"{"_id": "d1", "title": "t"}"#, #"missing "text""#),
        (#"{"_id": 1.5, "text": "x"}"#, #""_id" must be a string or an integer"#),
        (#"{"_id": true, "text": "x"}"#, #""_id" must be a string or an integer"#),
        (#"{"_id": "d1", "text": 3}"#, #""text" must be a string"#),
        (#"{"_id": "d1", "text": null}"#, #""text" must be a string"#),
        (#"{"_id": "d1", "title": 7, "text": "x"}"#, #""title" must be a string"#),
        (#"{"_id": "", "text": "x"}"#, "empty id"),
        (#"["d1", "x"]"#, "expected a JSON object"),
        (#"{"_id": "d1", "text": "x"} trailing"#, "invalid JSON"),
    ])
    func badLine(line: String, reason: String) throws {
        let path = try Fixture.file(#"{"_id": "ok", "text": "fine"}"# + "\n" + line + "\n", name: "corpus.jsonl")
        #expect(throws: CorpusError(path: path, line: 2, reason: reason)) { try Fixture.passages(path, format: .beirJSONL) }
    }

    @Test func folderDetection() throws {
        let folder = try Fixture.folder()
        #expect(!BEIRFolder.isBEIRFolder(folder.path))
        #expect(throws: CorpusError(path: folder.path, line: 0, reason: "not a BEIR folder: missing corpus.jsonl, queries.jsonl, qrels/*.tsv")) {
            try BEIRFolder(path: folder.path)
        }
        try Data().write(to: folder.appendingPathComponent("corpus.jsonl"))
        try Data().write(to: folder.appendingPathComponent("queries.jsonl"))
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("qrels"), withIntermediateDirectories: true)
        #expect(throws: CorpusError(path: folder.path, line: 0, reason: "not a BEIR folder: missing qrels/*.tsv")) {
            try BEIRFolder(path: folder.path)
        }
        try Data("query-id\tcorpus-id\tscore\n".utf8).write(to: folder.appendingPathComponent("qrels/test.tsv"))
        try Data().write(to: folder.appendingPathComponent("qrels/dev.tsv"))
        let beir = try BEIRFolder(path: folder.path)
        #expect(BEIRFolder.isBEIRFolder(folder.path))
        #expect(beir.corpus == folder.appendingPathComponent("corpus.jsonl").path)
        #expect(beir.queries == folder.appendingPathComponent("queries.jsonl").path)
        #expect(beir.qrels == ["test": folder.appendingPathComponent("qrels/test.tsv").path, "dev": folder.appendingPathComponent("qrels/dev.tsv").path])

        let file = try Fixture.file("x", name: "corpus.jsonl")
        #expect(throws: CorpusError(path: file, line: 0, reason: "not a folder")) { try BEIRFolder(path: file) }
    }
}
