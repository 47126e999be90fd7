import DensekitCorpus
import Foundation
import Testing

@Suite struct BadLinePolicyTests {
    typealias Read = Fixture.Read<Passage>

    @Test func skipCountsAndContinuesPastEveryKindOfBadLine() throws {
        // 1 good, 2 no tab, 3 invalid UTF-8, 4 good, 5 empty id, 6 good (no final newline)
        let bytes = Array("1\ta\nno tab\n".utf8) + [0x33, 0x09, 0xC0, 0xAF, 0x0A] + Array("4\td\n\tno id\n6\tf".utf8)
        let path = try Fixture.file(bytes: bytes, name: "collection.tsv")
        let reader = try PassageReader(path: path, policy: .skip)
        #expect(try Fixture.readAll(reader) == [Read(1, "1", "a"), Read(4, "4", "d"), Read(6, "6", "f")])
        #expect(reader.report.records == 3)
        #expect(reader.report.skippedLines == 3)
        #expect(reader.report.firstErrors == [
            CorpusError(path: path, line: 2, reason: "expected pid<TAB>text, found no tab"),
            CorpusError(path: path, line: 3, reason: "not valid UTF-8"),
            CorpusError(path: path, line: 5, reason: "empty id"),
        ])
        #expect(reader.report.warning == "skipped 3 bad lines (first: \(path):2: expected pid<TAB>text, found no tab)")
    }

    @Test func stopThrowsTheFirstBadLine() throws {
        let path = try Fixture.file("1\ta\nno tab\nalso none\n", name: "collection.tsv")
        let reader = try PassageReader(path: path)
        #expect(try reader.nextRecord()?.record == Passage(id: "1", text: "a"))
        #expect(throws: CorpusError(path: path, line: 2, reason: "expected pid<TAB>text, found no tab")) { try reader.nextRecord() }
    }

    @Test func onlyTheFirstErrorsAreKept() throws {
        let lines = (1...25).map { $0 % 2 == 0 ? "\($0)\tgood" : #"{"id": \#($0)"# }
        let path = try Fixture.file(lines.joined(separator: "\n"), name: "docs.jsonl")
        let reader = try PassageReader(path: path, format: .plainJSONL, policy: .skip)
        #expect(try Fixture.readAll(reader).isEmpty)   // every line is bad JSON
        #expect(reader.report.skippedLines == 25)
        #expect(reader.report.firstErrors.count == ReadReport.keptErrorLimit)
        #expect(reader.report.firstErrors.first == CorpusError(path: path, line: 1, reason: "invalid JSON"))
    }

    @Test func skippingJSONLinesKeepsTheGoodOnes() throws {
        let path = try Fixture.file(#"{"_id": "a", "text": "x"}"# + "\n{oops\n" + #"{"_id": "b"}"# + "\n" + #"{"_id": "c", "text": "z"}"#, name: "corpus.jsonl")
        let reader = try PassageReader(path: path, policy: .skip)
        #expect(try Fixture.readAll(reader) == [Read(1, "a", "x"), Read(4, "c", "z")])
        #expect(reader.report.firstErrors.map(\.reason) == ["invalid JSON", #"missing "text""#])
    }
}
