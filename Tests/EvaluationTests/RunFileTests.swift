import DensekitCorpus
import DensekitEvaluation
import DensekitTestSupport
import Foundation
import Testing

@Suite struct RunFileTests {
    @Test func msmarcoRunIsOrderedByRank() throws {
        // Lines out of order, a query split in two, equal ranks kept in file order, tabs or spaces.
        let path = try Toy.file("q1\tb\t2\nq1\ta\t1\nq2\tx\t1\nq1 c 2\n", name: "run.tsv")
        let (run, format) = try RunReader.read(path: path)
        #expect(format == .msmarco)
        #expect(run.rankings["q1"]?.map(\.docId) == ["a", "b", "c"])
        #expect(run.rankings["q2"] == [RankedDoc(docId: "x", score: nil)])
        #expect(run.queryCount == 2 && run.resultCount == 4)
    }

    @Test func trecRunIsOrderedByScoreThenDocIdDescending() throws {
        // trec_eval ignores the rank column: order by score descending, equal scores by docid descending.
        //   scores: a 1.0, b 1.0, c 0.5, d 2.0  ->  d (2.0), b (1.0, "b" > "a"), a (1.0), c (0.5)
        let path = try Toy.file("q1 Q0 a 1 1.0 run\nq1 Q0 b 2 1.0 run\nq1 Q0 c 3 0.5 run\nq1 Q0 d 4 2 run\n", name: "run.trec")
        let (run, format) = try RunReader.read(path: path)
        #expect(format == .trec)
        #expect(run.rankings["q1"] == [RankedDoc(docId: "d", score: 2), RankedDoc(docId: "b", score: 1), RankedDoc(docId: "a", score: 1), RankedDoc(docId: "c", score: 0.5)])

        // Relevant a: ranked 3rd after the tie-break -> MRR 1/3 (1/1 if the file's rank column were used).
        let result = Evaluator(qrels: ["q1": ["a": 1]], metrics: [.mrr(cutoff: 10)]).evaluate(run)
        #expect(Toy.close(result.means[0], 1.0 / 3))
    }

    @Test func trecEvalOrderComparator() {
        var docs = [RankedDoc(docId: "d10", score: 3), RankedDoc(docId: "d9", score: 3), RankedDoc(docId: "x", score: nil), RankedDoc(docId: "d2", score: 5)]
        docs.sort(by: RankedDoc.trecEvalOrder)
        // byte-wise: "d9" > "d10" because '9' > '1'.
        #expect(docs.map(\.docId) == ["d2", "d9", "d10", "x"])
    }

    @Test func malformedLinesNameFileAndLine() throws {
        let cases: [(String, Int, String)] = [
            ("q1 Q0 a 1 1.0 run\nq1 Q0 b 2 1.0\n", 2, "expected 6 fields (qid Q0 docid rank score tag), found 5"),
            ("q1\ta\t1\nq1\tb\t2\textra\n", 2, "expected 3 fields (qid<TAB>pid<TAB>rank), found 4"),
            ("q1 a\n", 1, "expected 3 fields (MS MARCO qid<TAB>pid<TAB>rank) or 6 (TREC qid Q0 docid rank score tag), found 2"),
            ("q1\ta\tfirst\n", 1, "rank 'first' is not an integer"),
            ("q1 Q0 a one 1.0 run\n", 1, "rank 'one' is not an integer"),
            ("q1 Q0 a 1 high run\n", 1, "score 'high' is not a finite number"),
            ("q1 Q0 a 1 nan run\n", 1, "score 'nan' is not a finite number"),
        ]
        for (text, line, reason) in cases {
            let path = try Toy.file(text, name: "run.txt")
            #expect(throws: CorpusError(path: path, line: line, reason: reason)) { try RunReader.read(path: path) }
        }
    }

    @Test func givenFormatIsEnforcedAndBlankLinesIgnored() throws {
        let path = try Toy.file("\nq1\ta\t1\n\n", name: "run.tsv")
        #expect(throws: CorpusError(path: path, line: 2, reason: "expected 6 fields (qid Q0 docid rank score tag), found 3")) {
            try RunReader.read(path: path, format: .trec)
        }
        #expect(try RunReader.read(path: path).run.rankings == ["q1": [RankedDoc(docId: "a")]])
        let empty = try Toy.file("", name: "run.tsv")
        #expect(try RunReader.read(path: empty).run.queryCount == 0)
    }

    @Test func writerRoundTrips() throws {
        let folder = try TestScratch.folder("run")
        let q1 = [RankedDoc(docId: "d3", score: 0.75), RankedDoc(docId: "d1", score: 0.5)]
        let q2 = [RankedDoc(docId: "d7"), RankedDoc(docId: "d8")]

        let trecPath = folder.appendingPathComponent("run.trec").path
        let trec = try RunWriter(path: trecPath, format: .trec, tag: "dense")
        try trec.write(queryId: "q1", ranking: q1)
        try trec.write(queryId: "q2", ranking: q2)     // no scores: n - i + 1 keeps the given order
        try trec.close()
        #expect(try String(contentsOfFile: trecPath, encoding: .utf8) == """
            q1 Q0 d3 1 0.75 dense
            q1 Q0 d1 2 0.5 dense
            q2 Q0 d7 1 2.0 dense
            q2 Q0 d8 2 1.0 dense

            """)
        let (readTrec, _) = try RunReader.read(path: trecPath)
        #expect(readTrec.rankings["q1"] == q1)
        #expect(readTrec.rankings["q2"]?.map(\.docId) == ["d7", "d8"])

        let marcoPath = folder.appendingPathComponent("run.tsv").path
        let marco = try RunWriter(path: marcoPath, format: .msmarco)
        try marco.write(queryId: "q1", ranking: q1)
        try marco.close()
        #expect(try String(contentsOfFile: marcoPath, encoding: .utf8) == "q1\td3\t1\nq1\td1\t2\n")
        #expect(try RunReader.read(path: marcoPath).run.rankings == ["q1": [RankedDoc(docId: "d3"), RankedDoc(docId: "d1")]])
    }

    /// The writer truncates the path in place: a symbolic link (like a device such as
    /// /dev/null) stays what it is, and the text goes where it points.
    @Test func writerWritesThroughTheNameItIsGiven() throws {
        let folder = try TestScratch.folder("run")
        let target = folder.appendingPathComponent("target.tsv").path, link = folder.appendingPathComponent("link.tsv").path
        try Data("old\n".utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let writer = try RunWriter(path: link, format: .msmarco)
        try writer.write(queryId: "q1", ranking: [RankedDoc(docId: "d1", score: 1)])
        try writer.close()
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == target, "the link was replaced")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "q1\td1\t1\n")
    }

    @Test func writerRefusesIdsThatWouldBreakTheFile() throws {
        let path = try TestScratch.folder("run").appendingPathComponent("run.trec").path
        let writer = try RunWriter(path: path, format: .trec)
        try writer.write(queryId: "q1", ranking: [RankedDoc(docId: "a", score: 1)])
        #expect(throws: CorpusError(path: path, line: 2, reason: "document id 'b c' is empty or contains whitespace")) {
            try writer.write(queryId: "q2", ranking: [RankedDoc(docId: "b c", score: 1)])
        }
        #expect(throws: CorpusError(path: path, line: 2, reason: "query id 'q 3' is empty or contains whitespace")) {
            try writer.write(queryId: "q 3", ranking: [])
        }
        #expect(throws: CorpusError(path: path, line: 2, reason: "score of 'd' is not finite")) {
            try writer.write(queryId: "q4", ranking: [RankedDoc(docId: "d", score: .nan)])
        }
        #expect(throws: CorpusError(path: path, line: 0, reason: "run tag 'my run' is empty or contains whitespace")) {
            try RunWriter(path: path, format: .trec, tag: "my run")
        }
    }
}
