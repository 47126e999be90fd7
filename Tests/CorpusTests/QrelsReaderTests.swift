import DensekitCorpus
import Foundation
import Testing

@Suite struct QrelsReaderTests {
    @Test func trecLinesWithTabsOrSpaces() throws {
        let path = try Fixture.file("q1\t0\td1\t1\nq1 0 d2 2\r\nq2   Q0\t d3 \t0\nq2 0 d4 -1\n\n", name: "qrels.dev.tsv")
        let reader = try QrelsReader(path: path)
        #expect(try reader.readAll() == ["q1": ["d1": 1, "d2": 2], "q2": ["d3": 0, "d4": -1]])
        #expect(reader.report.records == 4 && reader.report.blankLines == 1)
    }

    @Test func beirHeaderIsSkipped() throws {
        let path = try Fixture.file("query-id\tcorpus-id\tscore\n1\tdoc1\t1\n1\tdoc2\t0\n2\tdoc1\t2\n", name: "test.tsv")
        let reader = try QrelsReader(path: path)
        let first = try reader.nextJudgment()
        #expect(first?.line == 2 && first?.judgment == Judgment(queryId: "1", docId: "doc1", relevance: 1))
        #expect(try QrelsReader.read(path: path) == ["1": ["doc1": 1, "doc2": 0], "2": ["doc1": 2]])
    }

    @Test func threeColumnsWithoutHeader() throws {
        let path = try Fixture.file("1 doc1 1\n", name: "test.tsv")
        #expect(try QrelsReader.read(path: path) == ["1": ["doc1": 1]])
    }

    @Test func aRepeatedPairKeepsTheLastRelevance() throws {
        let path = try Fixture.file("q 0 d 1\nq 0 d 3\n", name: "qrels.txt")
        #expect(try QrelsReader.read(path: path) == ["q": ["d": 3]])
    }

    @Test func badLines() throws {
        let notInteger = try Fixture.file("q1 0 d1 1\nq1 0 d2 x\n", name: "qrels.txt")
        #expect(throws: CorpusError(path: notInteger, line: 2, reason: "relevance 'x' is not an integer")) { try QrelsReader.read(path: notInteger) }
        let graded = try Fixture.file("q1 0 d1 1.5\n", name: "qrels.txt")
        #expect(throws: CorpusError(path: graded, line: 1, reason: "relevance '1.5' is not an integer")) { try QrelsReader.read(path: graded) }
        let twoFields = try Fixture.file("q1 d1\n", name: "qrels.txt")
        #expect(throws: CorpusError(path: twoFields, line: 1, reason: "expected 'qid 0 docid relevance' (TREC) or 'query-id corpus-id score' (BEIR), found 2 fields")) {
            try QrelsReader.read(path: twoFields)
        }
        // A header is only recognized on the first line.
        let lateHeader = try Fixture.file("1 d1 1\nquery-id corpus-id score\n", name: "test.tsv")
        #expect(throws: CorpusError(path: lateHeader, line: 2, reason: "relevance 'score' is not an integer")) { try QrelsReader.read(path: lateHeader) }
        // A four-column first line is never a header.
        let fourColumns = try Fixture.file("qid iter docno rel\n", name: "qrels.txt")
        #expect(throws: CorpusError(path: fourColumns, line: 1, reason: "relevance 'rel' is not an integer")) { try QrelsReader.read(path: fourColumns) }
    }

    @Test func skipPolicyKeepsGoodJudgments() throws {
        let path = try Fixture.file("q1 0 d1 1\nq1 0 d2 x\nbroken\nq1 0 d3 2\n", name: "qrels.txt")
        let reader = try QrelsReader(path: path, policy: .skip)
        #expect(try reader.readAll() == ["q1": ["d1": 1, "d3": 2]])
        #expect(reader.report.skippedLines == 2)
        #expect(reader.report.firstErrors.map(\.line) == [2, 3])
    }
}
