import DensekitTestSupport
import Foundation
import Testing

/// `densekit report` as a user runs it: two runs and a training log into one HTML file whose
/// numbers are `densekit eval`'s.
@Suite(.serialized) struct ReportCommandTests {
    static let qrels = "q1 0 p1 1\nq2 0 p2 1\nq3 0 p3 1\nq4 0 p4 1\nq4 0 p5 1\n"
    /// MS MARCO format; q9 is not judged.
    static let first = "q1\tp7\t1\nq1\tp1\t2\nq2\tp2\t1\nq3\tp8\t1\nq3\tp9\t2\nq3\tp3\t3\nq4\tp5\t1\nq9\tp1\t1\n"
    /// TREC format.
    static let second = "q1 Q0 p1 1 3.0 b\nq2 Q0 p6 1 2.0 b\nq2 Q0 p2 2 1.5 b\nq3 Q0 p3 1 1.0 b\nq4 Q0 p4 1 2.0 b\nq4 Q0 p5 2 1.0 b\n"

    /// The table row of run `name`.
    func row(_ html: String, _ name: String) -> String? {
        guard let start = html.range(of: "<tr data-run=\"\(name)\">") else { return nil }
        return String(html[start.upperBound...].prefix { $0 != "\n" }.split(separator: "</tr>").first ?? "")
    }

    @Test func twoRunsAndATrainingLog() throws {
        let qrels = try CommandRunner.temporaryFile(Array(Self.qrels.utf8), name: "qrels.txt")
        let first = try CommandRunner.temporaryFile(Array(Self.first.utf8), name: "first.tsv")
        let second = try CommandRunner.temporaryFile(Array(Self.second.utf8), name: "second.trec")
        // A real training log: a tiny model trained 3 steps with dev evaluation.
        let (collection, queries, trainQrels) = try TrainCommandTests().corpus()
        let base = try TinyModel.writeFolder(at: TinyModel.temporaryFolder()).path
        let model = try TinyModel.temporaryFolder().appendingPathComponent("tuned").path
        let train = try CommandRunner.run(["train", "dual", "--model", base, "--collection", collection, "--queries", queries, "--qrels", trainQrels,
                                           "--batch-size", "4", "--steps", "3", "--lr", "1e-3", "--checkpoint-every", "2",
                                           "--eval-queries", queries, "--eval-qrels", trainQrels, "--out", model, "--quiet"])
        #expect(train.status == 0, "\(train.stderr)")

        let out = URL(fileURLWithPath: first).deletingLastPathComponent().appendingPathComponent("report.html").path
        let report = try CommandRunner.run(["report", "--qrels", qrels, "--run", "base=" + first, "--run", second, "--training-log", model, "-o", out])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stderr.contains("note: base (\(first)): 1 of its 5 queries are not judged"), "\(report.stderr)")
        let html = try String(contentsOfFile: out, encoding: .utf8)
        let figures = html.components(separatedBy: "data-figure=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        #expect(figures == ["recall", "difference-base-second", "loss", "learning-rate", "dev-MRR@10"])
        #expect(html.components(separatedBy: "<svg ").count - 1 == figures.count)
        #expect(!html.contains("<script") && !html.contains("<link") && !html.contains("src="), "self-contained")
        // The table's numbers are densekit eval's.
        for (name, path) in [("base", first), ("second", second)] {
            let eval = try CommandRunner.run(["eval", "--qrels", qrels, "--run", path, "--metrics", "MRR@10,R@10,R@100,R@1000,nDCG@10,MAP", "--json"])
            let metrics = try #require((try JSONSerialization.jsonObject(with: eval.stdoutData) as? [String: Any])?["metrics"] as? [String: Double])
            let cells = try #require(row(html, name), "no row for \(name)")
            for (metric, value) in metrics {
                let shown = String(format: "%.4f", value)
                #expect(cells.contains("data-metric=\"\(metric)\">\(shown)</td>") || cells.contains("data-metric=\"\(metric)\" class=\"best\">\(shown)</td>"),
                        "\(name) \(metric) \(shown) in \(cells)")
            }
        }
        // second ranks q2's passage at 2 where base has it at 1 (a loss), q1's and q3's higher (wins), q4's alike (a tie).
        #expect(html.contains("second wins on 2</strong>, ties on 1, <strong>loses on 1</strong> of 4 queries"), "\(html)")
    }

    @Test func badInputsAreRefused() throws {
        let qrels = try CommandRunner.temporaryFile(Array(Self.qrels.utf8), name: "qrels.txt")
        let run = try CommandRunner.temporaryFile(Array(Self.first.utf8), name: "run.tsv")
        let out = URL(fileURLWithPath: run).deletingLastPathComponent().appendingPathComponent("r.html").path
        let twice = try CommandRunner.run(["report", "--qrels", qrels, "--run", "a=" + run, "--run", "a=" + run, "-o", out])
        #expect(twice.status != 0 && twice.stderr.contains("two inputs are named 'a'"), "\(twice.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out), "nothing written for refused inputs")
        let noQrels = try CommandRunner.run(["report", "--run", run, "-o", out])
        #expect(noQrels.status != 0 && noQrels.stderr.contains("--run needs --qrels"), "\(noQrels.stderr)")
        let badLog = try CommandRunner.temporaryFile(Array("{\"step\":1}\nnot json\n".utf8), name: "train.jsonl")
        let log = try CommandRunner.run(["report", "--training-log", badLog, "-o", out])
        #expect(log.status != 0 && log.stderr.contains("\(badLog), line 2"), "\(log.stderr)")
    }

    /// Label predictions: the table holds `densekit eval --xmc`'s numbers, PSP included with --xmc-train.
    @Test func labelPredictionsAreScoredAsEvalXMCScoresThem() throws {
        let truth = try CommandRunner.temporaryFile(Array("""
            {"id": "d1", "text": "a", "labels": ["x", "y"]}
            {"id": "d2", "text": "b", "labels": ["z"]}
            {"id": "d3", "text": "c", "labels": ["x"]}

            """.utf8), name: "dev.jsonl")
        let train = try CommandRunner.temporaryFile(Array("""
            {"id": "t1", "text": "a", "labels": ["x"]}
            {"id": "t2", "text": "b", "labels": ["x", "z"]}
            {"id": "t3", "text": "c", "labels": ["y"]}

            """.utf8), name: "train.jsonl")
        let first = try CommandRunner.temporaryFile(Array("d1\tx\t1\t0.9\nd1\tz\t2\t0.5\nd2\ty\t1\t0.8\nd2\tz\t2\t0.7\nd3\tx\t1\t0.6\n".utf8), name: "first.tsv")
        let second = try CommandRunner.temporaryFile(Array("d1\ty\t1\t0.9\nd2\tz\t1\t0.8\nd9\tx\t1\t0.5\n".utf8), name: "second.tsv")
        let out = URL(fileURLWithPath: first).deletingLastPathComponent().appendingPathComponent("labels.html").path
        let report = try CommandRunner.run(["report", "--xmc-truth", truth, "--xmc-train", train, "--predictions", first, "--predictions", "two=" + second, "-o", out])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stderr.contains("two (\(second)): 1 of the 3 documents have no prediction") && report.stderr.contains("1 predicted documents have no true labels"),
                "\(report.stderr)")
        let html = try String(contentsOfFile: out, encoding: .utf8)
        #expect(html.contains("<h2>Label predictions</h2>") && !html.contains("<svg "))
        for (name, path) in [("first", first), ("two", second)] {
            let eval = try CommandRunner.run(["eval", "--xmc", "--truth", truth, "--predictions", path, "--train", train, "--json"])
            let metrics = try #require((try JSONSerialization.jsonObject(with: eval.stdoutData) as? [String: Any])?["metrics"] as? [String: Double])
            #expect(metrics.count == 7)
            let cells = try #require(row(html, name), "no row for \(name)")
            for (metric, value) in metrics {
                let shown = String(format: "%.4f", value)
                #expect(cells.contains("data-metric=\"\(metric)\">\(shown)</td>") || cells.contains("data-metric=\"\(metric)\" class=\"best\">\(shown)</td>"),
                        "\(name) \(metric) \(shown) in \(cells)")
            }
        }
        let noTruth = try CommandRunner.run(["report", "--predictions", first, "-o", out])
        #expect(noTruth.status != 0 && noTruth.stderr.contains("--predictions needs --xmc-truth"), "\(noTruth.stderr)")
    }
}
