import DensekitCorpus
import Foundation
import Testing

@Suite struct MSMarcoReaderTests {
    typealias Read = Fixture.Read<Passage>

    @Test func collectionLinesWithCRLFTabsInTextAndEmptyText() throws {
        let path = try Fixture.file("1\tfirst passage\r\n2\tsecond\twith tab\n3\t\n", name: "collection.tsv")
        let reader = try PassageReader(path: path)
        #expect(reader.format == .msmarcoTSV)
        #expect(try Fixture.readAll(reader) == [Read(1, "1", "first passage"), Read(2, "2", "second\twith tab"), Read(3, "3", "")])
        #expect(reader.report.records == 3)
        #expect(reader.report.emptyTexts == 1)   // allowed, but counted as a warning
        #expect(reader.report.warning == "1 record has an empty text")
    }

    @Test func queriesUseQidInMessages() throws {
        let good = try Fixture.file("1048585\twhat is paula deen's brother\n2\tandrew jackson\n", name: "queries.dev.tsv")
        let queries = try Fixture.readAll(QueryReader(path: good))
        #expect(queries == [Fixture.Read<Query>(1, "1048585", "what is paula deen's brother"), Fixture.Read<Query>(2, "2", "andrew jackson")])

        let bad = try Fixture.file("1\tok\nno tab here\n", name: "queries.tsv")
        #expect(throws: CorpusError(path: bad, line: 2, reason: "expected qid<TAB>text, found no tab")) {
            try Fixture.readAll(QueryReader(path: bad))
        }
    }

    @Test func badLinesNameFileAndLine() throws {
        let noTab = try Fixture.file("1\tok\nbroken line\n", name: "collection.tsv")
        let error = #expect(throws: CorpusError.self) { try Fixture.passages(noTab) }
        #expect(error?.description == "\(noTab):2: expected pid<TAB>text, found no tab")
        let emptyId = try Fixture.file("\tno id\n", name: "collection.tsv")
        #expect(throws: CorpusError(path: emptyId, line: 1, reason: "empty id")) { try Fixture.passages(emptyId) }
        let badUTF8 = try Fixture.file(bytes: Array("1\tok\n".utf8) + [0x32, 0x09, 0xFE, 0x0A], name: "collection.tsv")
        #expect(throws: CorpusError(path: badUTF8, line: 2, reason: "not valid UTF-8")) { try Fixture.passages(badUTF8) }
    }

    @Test func blankLinesAreIgnoredAndCounted() throws {
        let path = try Fixture.file("1\ta\n\n  \n2\tb\n", name: "collection.tsv")
        let reader = try PassageReader(path: path)
        #expect(try Fixture.readAll(reader) == [Read(1, "1", "a"), Read(4, "2", "b")])
        #expect(reader.report.blankLines == 2)
    }

    @Test func missingFile() {
        #expect(throws: CorpusError(path: "/nonexistent/c.tsv", line: 0, reason: "no such file")) {
            try PassageReader(path: "/nonexistent/c.tsv")
        }
    }
}
