import DensekitTestSupport
import DensekitTraining
import Foundation
import Testing

/// `densekit train dual` as a user runs it, on a tiny random model (fast) and a tiny corpus.
@Suite(.serialized) struct TrainCommandTests {
    /// 16 passages of 5 tiny-model words; query i asks for passage i with its first two words.
    func corpus() throws -> (collection: String, queries: String, qrels: String) {
        let words = TinyModel.words.filter { !$0.hasPrefix("##") && $0.first?.isLetter == true }
        var collection = "", queries = "", qrels = ""
        for i in 0..<16 {
            let text = (0..<5).map { words[(i * 7 + $0 * 3) % words.count] }
            collection += "p\(i)\t\(text.joined(separator: " "))\n"
            queries += "q\(i)\t\(text.prefix(2).joined(separator: " "))\n"
            qrels += "q\(i)\t0\tp\(i)\t1\n"
        }
        return try CommandRunner.writeTask(collection: collection, queries: queries, qrels: qrels)
    }

    func embedding(_ model: String, _ text: String) throws -> [Float] {
        struct Row: Decodable { let embedding: [Float] }
        let result = try CommandRunner.run(["embed", "--model", model, "--quiet"], stdin: text + "\n")
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONDecoder().decode(Row.self, from: Data(result.stdout.utf8)).embedding
    }

    /// `bench train` times steps in a scratch folder it makes and removes: one JSON line with
    /// the step's seconds and its phases, nothing left behind.
    @Test func benchTrainReportsTimedStepsAndPhases() throws {
        let (collection, queries, qrels) = try corpus()
        let base = try TinyModel.writeFolder(at: TinyModel.temporaryFolder()).path
        let run = try CommandRunner.run(["bench", "train", "--model", base, "--collection", collection, "--queries", queries, "--qrels", qrels,
                                         "--batch-size", "4", "--steps", "2", "--threads", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        let result = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        #expect(result?["steps"] as? Int == 2 && (result?["pairs_per_second"] as? Double).map { $0 > 0 } == true, "\(run.stdout)")
        let phases = result?["phase_seconds_per_step"] as? [String: Double]
        #expect(Set(phases?.keys.map { $0 } ?? []) == ["tokenize", "forward", "loss", "backward", "gradient_sum", "clipping", "optimizer"], "\(run.stdout)")
    }

    /// Two towers trained apart make one model for index build and search: passages through the
    /// passage tower, queries through the query tower (the search score is the dot product of
    /// the two towers' embeddings); a single tower is not taken for the pair.
    @Test func separateTowersIndexAndSearchAsOneModel() throws {
        let (collection, queries, qrels) = try corpus()
        let base = try TinyModel.writeFolder(at: TinyModel.temporaryFolder()).path
        let out = try TinyModel.temporaryFolder().appendingPathComponent("towers").path
        let train = try CommandRunner.run(["train", "dual", "--model", base, "--collection", collection, "--queries", queries, "--qrels", qrels,
                                           "--batch-size", "4", "--chunk-size", "2", "--steps", "3", "--lr", "1e-3", "--separate-towers",
                                           "--gradient-checkpointing", "--checkpoint-every", "2", "--eval-queries", queries, "--eval-qrels", qrels,
                                           "--out", out, "--quiet"])
        #expect(train.status == 0, "\(train.stderr)")
        // Dev metrics before training, at the checkpoint of step 2 and at the end.
        #expect(train.stderr.components(separatedBy: "MRR@10 ").count - 1 == 3, "\(train.stderr)")
        // train.jsonl: the three steps and the three evaluations, with the printed figures.
        let log = try TrainingLog.read(URL(fileURLWithPath: out + "/" + TrainingLog.fileName))
        #expect(log.filter { !$0.isEvaluation }.map(\.step) == [1, 2, 3])
        let evaluations = log.filter(\.isEvaluation)
        #expect(evaluations.map(\.step) == [0, 2, 3])
        for evaluation in evaluations {
            let mrr = String(format: "MRR@10 %.4f", evaluation.evaluation?["MRR@10"] ?? -1)
            #expect(train.stderr.contains(mrr), "\(mrr) in \(train.stderr)")
            #expect(Set(evaluation.evaluation?.keys.map { $0 } ?? []) == ["MRR@10", "R@10", "nDCG@10"])
        }
        #expect(FileManager.default.fileExists(atPath: out + "/checkpoint-2/towers.json"))
        #expect(train.stdout.contains("after 3 of 3 steps"), "\(train.stdout)")
        #expect(FileManager.default.fileExists(atPath: out + "/towers.json"))

        let index = out + ".index"
        let build = try CommandRunner.run(["index", "build", "--model", out, "--index", index, "--collection", collection, "--quiet"])
        #expect(build.status == 0, "\(build.stderr)")
        let query = "cat sat"
        let search = try CommandRunner.run(["search", "--index", index, "-k", "1", "--json", query])
        #expect(search.status == 0, "\(search.stderr)")
        let object = try JSONSerialization.jsonObject(with: search.stdoutData) as? [String: Any]
        let top = try #require((object?["hits"] as? [[String: Any]])?.first)
        let score = try #require(top["score"] as? Double), text = try #require(top["text"] as? String)
        let q = try embedding(out + "/query_model", query), p = try embedding(out + "/passage_model", text)
        let dot = zip(q, p).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(dot - score) < 1e-4, "search score \(score), query tower . passage tower \(dot)")
        // Had the passage tower embedded the query, the score would differ: the towers differ.
        let wrong = zip(try embedding(out + "/passage_model", query), p).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(wrong - score) > 1e-4)

        let single = try CommandRunner.run(["search", "--index", index, "--model", out + "/passage_model", query])
        #expect(single.status != 0 && single.stderr.contains("differs from the index's model"), "\(single.stderr)")
        let embed = try CommandRunner.run(["embed", "--model", out, "--quiet"], stdin: "cat\n")
        #expect(embed.status != 0 && embed.stderr.contains("two-tower model") && embed.stderr.contains("query_model"), "\(embed.stderr)")
    }

    /// Every training problem that can be seen before training is refused before anything is
    /// read or trained, with the option or file named: the base model as --out, an --out that
    /// holds another model, unusable numbers, files that do not fit together.
    @Test func problemsAreRefusedBeforeTraining() throws {
        let (collection, queries, qrels) = try corpus()
        let base = try TinyModel.writeFolder(at: TinyModel.temporaryFolder()).path
        let baseWeights = try Data(contentsOf: URL(fileURLWithPath: base + "/model.safetensors"))
        func train(_ extra: [String], out: String, qrels q: String = qrels) throws -> CommandRunner.Result {
            try CommandRunner.run(["train", "dual", "--model", base, "--collection", collection, "--queries", queries, "--qrels", q,
                                   "--batch-size", "4", "--steps", "1", "--out", out, "--quiet"] + extra)
        }
        for out in [base, base + "/inner"] {
            let result = try train([], out: out)
            #expect(result.status == 1 && result.stderr.contains("the base model folder"), "\(result.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: base + "/model.safetensors")) == baseWeights)

        let other = try TinyModel.writeFolder(at: TinyModel.temporaryFolder(), parameters: TinyModel.parameters(seed: 99)).path
        let held = try train([], out: other)
        #expect(held.status == 1 && held.stderr.contains("already holds a model; pass --overwrite"), "\(held.stderr)")
        #expect(try train(["--overwrite"], out: other).status == 0)

        let fresh = try TinyModel.temporaryFolder().appendingPathComponent("out").path
        for (option, value) in [("--lr", "-1"), ("--lr", "nan"), ("--lr", "0"), ("--max-grad-norm", "-2"), ("--scale", "inf"), ("--time-budget", "-5")] {
            let result = try train([option, value], out: fresh)
            #expect(result.status == 64 && result.stderr.contains(option), "\(option) \(value): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: fresh))

        // Qrels of another collection: most of their passages are unknown.
        let foreign = try CommandRunner.temporaryFile(Array((0..<16).map { "q\($0)\t0\tx\($0)\t1\n" }.joined().utf8), name: "qrels.tsv")
        let mismatch = try train([], out: fresh, qrels: foreign)
        #expect(mismatch.status == 1 && mismatch.stderr.contains("16 of 16 qrels lines name a passage not in the collection"), "\(mismatch.stderr)")
        let mixed = try CommandRunner.temporaryFile(Array((try String(contentsOfFile: qrels, encoding: .utf8) + "q1\t0\tgone\t1\n").utf8), name: "qrels.tsv")
        let skipped = try train(["--skip-bad-lines"], out: fresh, qrels: mixed)
        #expect(skipped.status == 0 && skipped.stderr.contains("1 of 17 qrels lines name a passage not in the collection"), "\(skipped.stderr)")

        // A negatives file naming a passage the collection lacks: an error at its line.
        let negatives = try CommandRunner.temporaryFile(Array("q0\tp1,p2\nq1\tp3,ghost\n".utf8), name: "negatives.tsv")
        let unknown = try train(["--negatives", negatives, "--overwrite"], out: fresh)
        #expect(unknown.status == 1 && unknown.stderr.contains("\(negatives):2: passage 'ghost' is not in"), "\(unknown.stderr)")
        #expect(try train(["--negatives", negatives, "--overwrite", "--skip-bad-lines"], out: fresh).status == 0)
    }
}
