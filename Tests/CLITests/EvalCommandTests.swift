import Foundation
import Testing

/// `densekit eval` end to end on toy files (no model needed).
@Suite struct EvalCommandTests {
    /// q1: relevant a (rel 1), c (rel 2); q2: relevant z, which the run lacks; q3: nothing relevant (skipped).
    static let qrels = "q1 0 a 1\nq1 0 b 0\nq1 0 c 2\nq2 0 z 1\nq3 0 a 0\n"
    /// q1 ranks b, a, c; q9 is not judged.
    static let run = "q1\tb\t1\nq1\ta\t2\nq1\tc\t3\nq9\ta\t1\n"

    @Test func tableWithPerQueryValues() throws {
        let qrels = try CommandRunner.temporaryFile(Array(Self.qrels.utf8), name: "qrels.txt")
        let run = try CommandRunner.temporaryFile(Array(Self.run.utf8), name: "run.tsv")
        let result = try CommandRunner.run(["eval", "--qrels", qrels, "--run", run, "--metrics", "MRR@10,P@2,MAP", "--per-query"])
        #expect(result.status == 0)
        // q1: MRR 1/2, P@2 1/2, AP (1/2 + 2/3) / 2 = 0.5833; q2: 0. Means: 0.25, 0.25, 0.2917.
        #expect(result.stdout == """
            metric   value  queries
            MRR@10  0.2500        2
            P@2     0.2500        2
            MAP     0.2917        2

            query  MRR@10     P@2     MAP
            q1     0.5000  0.5000  0.5833
            q2     0.0000  0.0000  0.0000

            """)
        #expect(result.stderr.contains("1 of 2 queries are not in the run and score 0"))
        #expect(result.stderr.contains("1 run queries have no relevant judgments and are ignored"))
    }

    /// A run that misses most judged queries (another split, or the files swapped) is
    /// evaluated, with a warning that says so; half or more present gives none.
    @Test func aRunThatBarelyOverlapsTheQrelsIsWarnedAbout() throws {
        let qrels = try CommandRunner.temporaryFile(Array((1...10).map { "q\($0) 0 d\($0) 1\n" }.joined().utf8), name: "qrels.txt")
        let other = try CommandRunner.temporaryFile(Array(("q1\td1\t1\n" + (11...20).map { "q\($0)\td\($0)\t1\n" }.joined()).utf8), name: "run.tsv")
        let warned = try CommandRunner.run(["eval", "--qrels", qrels, "--run", other])
        #expect(warned.status == 0)
        #expect(warned.stderr.contains("warning: only 1 of the 10 judged queries are in the run"), "\(warned.stderr)")
        let half = try CommandRunner.temporaryFile(Array((1...5).map { "q\($0)\td\($0)\t1\n" }.joined().utf8), name: "run.tsv")
        #expect(!(try CommandRunner.run(["eval", "--qrels", qrels, "--run", half]).stderr.contains("warning")))
    }

    @Test func json() throws {
        let qrels = try CommandRunner.temporaryFile(Array(Self.qrels.utf8), name: "qrels.txt")
        let run = try CommandRunner.temporaryFile(Array(Self.run.utf8), name: "run.tsv")
        let result = try CommandRunner.run(["eval", "--qrels", qrels, "--run", run, "--metrics", "mrr@10,map", "--json", "--per-query"])
        #expect(result.status == 0)
        let object = try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any]
        #expect(object?["queries"] as? Int == 2)
        let metrics = object?["metrics"] as? [String: Double]
        #expect(metrics?["MRR@10"] == 0.25)
        #expect(abs((metrics?["MAP"] ?? 0) - (0.5 + 2.0 / 3) / 4) < 1e-12)
        let perQuery = object?["per_query"] as? [String: [String: Double]]
        #expect(perQuery?["q2"]?["MAP"] == 0)
    }

    @Test func badMetricAndBadRunLine() throws {
        let qrels = try CommandRunner.temporaryFile(Array(Self.qrels.utf8), name: "qrels.txt")
        let run = try CommandRunner.temporaryFile(Array("q1\ta\t1\nq1\tb\n".utf8), name: "run.tsv")
        let badMetric = try CommandRunner.run(["eval", "--qrels", qrels, "--run", run, "--metrics", "MRR@10,F1"])
        #expect(badMetric.status != 0)
        #expect(badMetric.stderr.contains("metric 'F1': unknown metric; valid forms: MRR@k"))
        let badLine = try CommandRunner.run(["eval", "--qrels", qrels, "--run", run])
        #expect(badLine.status != 0)
        #expect(badLine.stderr.contains("\(run):2: expected 3 fields (qid<TAB>pid<TAB>rank), found 2"))
    }
}

/// `densekit eval --xmc`: label predictions scored with pyxclib's metrics.
@Suite struct XMCEvalCommandTests {
    func files() throws -> (truth: String, predictions: String, train: String) {
        let truth = try CommandRunner.temporaryFile(Array("""
            {"id": "doc1", "text": "x", "labels": ["a", "b"]}
            {"id": "doc2", "text": "y", "labels": ["c"]}
            """.utf8), name: "dev.jsonl")
        let predictions = try CommandRunner.temporaryFile(Array("doc1\tc\t2\t0.5\ndoc1\ta\t1\t0.9\ndoc1\tb\t3\t0.1\ndoc2\td\t1\t0.8\ndoc2\te\t2\t0.7\ndoc2\tc\t3\t0.6\ndoc9\ta\t1\t1\n".utf8), name: "p.tsv")
        // a in 3 of 4 training documents, b and c in 1: b and c are the rare ones.
        let train = try CommandRunner.temporaryFile(Array("""
            {"id": "t1", "text": "", "labels": ["a", "b"]}
            {"id": "t2", "text": "", "labels": ["a"]}
            {"id": "t3", "text": "", "labels": ["a", "c"]}
            {"id": "t4", "text": "", "labels": ["d"]}
            """.utf8), name: "train.jsonl")
        return (truth, predictions, train)
    }

    @Test func metricsAsJSONAndTable() throws {
        let (truth, predictions, train) = try files()
        let result = try CommandRunner.run(["eval", "--xmc", "--truth", truth, "--predictions", predictions, "--train", train,
                                            "--metrics", "P@1,P@3,R@1,nDCG@3,PSP@3", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any]
        let metrics = try #require(object?["metrics"] as? [String: Double])
        #expect(metrics["P@1"] == 0.5 && metrics["P@3"] == 0.5 && metrics["R@1"] == 0.25)
        #expect(abs((metrics["nDCG@3"] ?? 0) - 0.7098603945740938) < 1e-9)
        #expect(metrics["PSP@3"] == 1, "every true label is in the top 3")
        #expect(result.stderr.contains("1 predicted documents are not in"), "\(result.stderr)")
        let table = try CommandRunner.run(["eval", "--xmc", "--truth", truth, "--predictions", predictions, "--metrics", "P@1"])
        #expect(table.status == 0 && table.stdout.contains("P@1     0.5000          2"), "\(table.stdout)\(table.stderr)")
    }

    @Test func mistakesAreRefused() throws {
        let (truth, predictions, _) = try files()
        for (arguments, message) in [
            (["--xmc", "--truth", truth, "--predictions", predictions, "--metrics", "PSP@5"], "PSP@5 needs --train"),
            (["--xmc", "--truth", truth], "--xmc needs --truth and --predictions"),
            (["--xmc", "--truth", truth, "--predictions", predictions, "--metrics", "MRR@10"], "not an XMC metric"),
            (["--truth", truth, "--predictions", predictions], "give --qrels and --run"),
        ] {
            let result = try CommandRunner.run(["eval"] + arguments)
            #expect(result.status != 0 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let bad = try CommandRunner.temporaryFile(Array("doc1\ta\tfirst\t0.5\n".utf8), name: "bad.tsv")
        let result = try CommandRunner.run(["eval", "--xmc", "--truth", truth, "--predictions", bad, "--metrics", "P@1"])
        #expect(result.status != 0 && result.stderr.contains("\(bad):1: rank 'first' is not a positive integer"), "\(result.stderr)")
    }
}
