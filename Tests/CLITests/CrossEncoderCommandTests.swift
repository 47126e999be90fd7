import DensekitTestSupport
import Foundation
import Testing

/// `densekit train cross`, `rerank` and `search --rerank` as a user runs them, on a tiny random
/// model and the tiny corpus of `TrainCommandTests`.
@Suite(.serialized) struct CrossEncoderCommandTests {
    /// The corpus, negatives (the next three passages of each query's) and a first-stage run
    /// listing each query's positive last of four, so that reranking has something to fix.
    func inputs() throws -> (collection: String, queries: String, qrels: String, negatives: String, run: String) {
        let (collection, queries, qrels) = try TrainCommandTests().corpus()
        let folder = URL(fileURLWithPath: collection).deletingLastPathComponent()
        var negatives = "", run = ""
        for i in 0..<16 {
            let others = (1...3).map { "p\((i + $0) % 16)" }
            negatives += "q\(i)\t\(others.joined(separator: ","))\n"
            for (rank, pid) in (others + ["p\(i)"]).enumerated() { run += "q\(i)\t\(pid)\t\(rank + 1)\n" }
        }
        try negatives.write(to: folder.appendingPathComponent("negatives.tsv"), atomically: true, encoding: .utf8)
        try run.write(to: folder.appendingPathComponent("run.tsv"), atomically: true, encoding: .utf8)
        return (collection, queries, qrels, folder.appendingPathComponent("negatives.tsv").path, folder.appendingPathComponent("run.tsv").path)
    }

    @Test func trainRerankAndSearchWithACrossEncoder() throws {
        let data = try inputs()
        let base = try TinyModel.writeFolder(at: TinyModel.temporaryFolder()).path
        let out = try TinyModel.temporaryFolder().appendingPathComponent("reranker").path
        let train = try CommandRunner.run(["train", "cross", "--model", base, "--collection", data.collection, "--queries", data.queries,
                                           "--qrels", data.qrels, "--negatives", data.negatives, "--group-size", "4", "--batch-size", "4",
                                           "--max-length", "16", "--steps", "40", "--lr", "5e-3", "--checkpoint-every", "20",
                                           "--eval-queries", data.queries, "--eval-qrels", data.qrels, "--eval-run", data.run, "--eval-depth", "4",
                                           "--out", out, "--quiet"])
        #expect(train.status == 0, "\(train.stderr)")
        // The first stage's score, then the reranked one at the checkpoint of step 20 and at the end.
        #expect(train.stderr.contains("first stage (top 4"), "\(train.stderr)")
        #expect(train.stderr.components(separatedBy: "MRR@10 ").count - 1 == 3, "\(train.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/checkpoint-20/trainer-state.json"))
        #expect(FileManager.default.fileExists(atPath: out + "/config_sentence_transformers.json"))
        #expect(train.stdout.contains("after 40 of 40 steps"), "\(train.stdout)")

        // Rerank the run: every query gets its four passages back, reordered, with scores in (0, 1).
        let reranked = try TinyModel.temporaryFolder().appendingPathComponent("reranked.trec").path
        let rerank = try CommandRunner.run(["rerank", "--model", out, "--run", data.run, "--queries", data.queries,
                                            "--collection", data.collection, "--depth", "4", "--format", "trec", "--output", reranked, "--quiet"])
        #expect(rerank.status == 0, "\(rerank.stderr)")
        let lines = try String(contentsOfFile: reranked, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 64)
        let scores = lines.compactMap { Double($0.split(separator: " ")[4]) }
        #expect(scores.count == 64 && scores.allSatisfy { $0 > 0 && $0 < 1 })
        // The trained model lifts MRR@10 over the first stage, which put every positive 4th (0.25).
        let eval = try CommandRunner.run(["eval", "--qrels", data.qrels, "--run", reranked, "--metrics", "MRR@10", "--json"])
        let object = try JSONSerialization.jsonObject(with: eval.stdoutData) as? [String: Any]
        let mrr = try #require((object?["metrics"] as? [String: Double])?["MRR@10"], "\(eval.stdout)")
        #expect(mrr > 0.4, "MRR@10 after reranking \(mrr)\n\(eval.stdout)")

        // A run naming a passage the collection lacks: an error with the run's file and line.
        let broken = try CommandRunner.temporaryFile(Array("q0\tp1\t1\nq1\tp404\t1\n".utf8), name: "broken.tsv")
        let missing = try CommandRunner.run(["rerank", "--model", out, "--run", broken, "--queries", data.queries,
                                             "--collection", data.collection, "--quiet"])
        #expect(missing.status != 0 && missing.stderr.contains("broken.tsv:2") && missing.stderr.contains("p404"), "\(missing.stderr)")

        // search --rerank: dense top 8 from an index, reranked, best 3 shown with the reranker's scores.
        let index = try TinyModel.temporaryFolder().appendingPathComponent("tiny.index").path
        let build = try CommandRunner.run(["index", "build", "--model", base, "--index", index, "--collection", data.collection, "--quiet"])
        #expect(build.status == 0, "\(build.stderr)")
        let search = try CommandRunner.run(["search", "--index", index, "-k", "3", "--rerank", out, "--rerank-depth", "8", "--json", "cat sat"])
        #expect(search.status == 0, "\(search.stderr)")
        let result = try JSONSerialization.jsonObject(with: search.stdoutData) as? [String: Any]
        let hits = try #require(result?["hits"] as? [[String: Any]])
        #expect(hits.count == 3)
        let hitScores = hits.compactMap { $0["score"] as? Double }
        #expect(hitScores == hitScores.sorted(by: >) && hitScores.allSatisfy { $0 > 0 && $0 < 1 })
        // The same passages, scored by rerank from the index's store, get the same scores.
        let firstId = try #require(hits.first?["id"] as? String)
        let single = try CommandRunner.temporaryFile(Array("x\t\(firstId)\t1\n".utf8), name: "one.tsv")
        let query = try CommandRunner.temporaryFile(Array("x\tcat sat\n".utf8), name: "q.tsv")
        let fromStore = try CommandRunner.run(["rerank", "--model", out, "--run", single, "--queries", query, "--index", index, "--format", "trec", "--quiet"])
        #expect(fromStore.status == 0, "\(fromStore.stderr)")
        let storeScore = try #require(Double(fromStore.stdout.split(separator: " ")[4].trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(abs(storeScore - (hitScores.first ?? 0)) < 1e-6)

        // A cross-encoder is not an embedding model.
        let embed = try CommandRunner.run(["embed", "--model", out, "--quiet"], stdin: "cat\n")
        #expect(embed.status != 0 && embed.stderr.contains("cross-encoder"), "\(embed.stderr)")
    }
}
