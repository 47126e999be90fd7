import DensekitTestSupport
import DensekitTraining
import Foundation
import Testing

/// `densekit train ar2` on tiny random models and a tiny corpus, as a user runs it: both models
/// saved, one retrieval per cycle, and a run stopped inside a cycle resuming to the same models.
@Suite(.serialized) struct TrainAR2CommandTests {
    func arguments() throws -> [String] {
        let (collection, queries, qrels) = try RefreshCommandTests().corpus(30)
        let folder = URL(fileURLWithPath: collection).deletingLastPathComponent()
        for name in ["retriever-base", "ranker-base"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        let retriever = try TinyModel.writeFolder(at: folder.appendingPathComponent("retriever-base")).path
        let ranker = try TinyModel.writeFolder(at: folder.appendingPathComponent("ranker-base")).path
        return ["train", "ar2", "--retriever", retriever, "--ranker", ranker, "--collection", collection, "--queries", queries, "--qrels", qrels,
                "--cycles", "2", "--ranker-steps", "1", "--retriever-steps", "2", "--candidates", "3", "--candidate-depth", "5",
                "--batch-size", "4", "--retriever-lr", "1e-3", "--ranker-lr", "1e-3", "--query-max-length", "12", "--passage-max-length", "16",
                "--pair-max-length", "24", "--chunk-size", "6", "--quiet"]
    }

    /// `arguments()` with `name`'s value replaced (or the option added).
    func with(_ arguments: [String], _ name: String, _ value: String) -> [String] {
        guard let at = arguments.firstIndex(of: name) else { return arguments + [name, value] }
        var copy = arguments
        copy[at + 1] = value
        return copy
    }

    func folder(of arguments: [String]) -> String {
        URL(fileURLWithPath: arguments[arguments.firstIndex(of: "--collection")! + 1]).deletingLastPathComponent().path
    }

    func same(_ a: String, _ b: String, _ note: String) throws {
        for model in ["retriever", "ranker"] {
            let x = try Data(contentsOf: URL(fileURLWithPath: a + "/\(model)/model.safetensors"))
            let y = try Data(contentsOf: URL(fileURLWithPath: b + "/\(model)/model.safetensors"))
            #expect(x == y, "\(note): \(model) differs from the uninterrupted run's")
        }
    }

    @Test func trainsBothModelsAndResumesInsideACycle() throws {
        let arguments = try arguments() + ["--ranker-warmup", "0"]
        let folder = folder(of: arguments)
        let straight = try CommandRunner.run(arguments + ["--out", folder + "/straight", "--keep-cycles", "2"])
        #expect(straight.status == 0 && straight.stdout.contains("after 6 of 6 steps"), "\(straight.stderr)")
        for path in ["retriever/model.safetensors", "ranker/model.safetensors", "cycles/step-000000/index/faiss.index",
                     "cycles/step-000003/negatives.tsv", "checkpoint-3/ranker/model.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: folder + "/straight/" + path), "\(path)")
        }
        let first = try CommandRunner.run(arguments + ["--out", folder + "/resumed", "--stop-after", "2"])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try CommandRunner.run(arguments + ["--out", folder + "/resumed", "--resume"])
        #expect(second.status == 0 && second.stderr.contains("resuming from step 2"), "\(second.stderr)")
        try same(folder + "/straight", folder + "/resumed", "stopped at step 2")
        for (extra, message) in [(["--adv-lambda", "2"], "--adv-lambda must be between 0 and 1"), (["--keep-cycles", "0"], "--keep-cycles must be at least 1"),
                                 (["--eval-queries", "q.tsv"], "--eval-queries and --eval-qrels go together")] {
            let bad = try CommandRunner.run(arguments + ["--out", folder + "/bad"] + extra)
            #expect(bad.status != 0 && bad.stderr.contains(message), "\(extra): \(bad.stderr)")
        }
    }

    /// A plain encoder as --ranker is warmed up first (default: --ranker-steps steps); with dev
    /// queries both models are scored before training and after each cycle, the last from one
    /// more encoding; only the current cycle's folder is kept; the progress line says where the
    /// run is.
    @Test func warmsUpANewRankerEvaluatesEachCycleAndKeepsOneCycle() throws {
        let arguments = try arguments()
        let folder = folder(of: arguments)
        let queries = arguments[arguments.firstIndex(of: "--queries")! + 1], qrels = arguments[arguments.firstIndex(of: "--qrels")! + 1]
        let out = folder + "/evaluated"
        let run = try CommandRunner.run(Array(arguments.dropLast()) + ["--out", out, "--eval-queries", queries, "--eval-qrels", qrels, "--eval-rerank-depth", "5"])
        #expect(run.status == 0 && run.stdout.contains("after 7 of 7 steps"), "\(run.stderr)")
        #expect(run.stderr.contains("warmed up for 1 steps"), "\(run.stderr)")
        let evaluations = run.stderr.split(separator: "\n").filter { $0.contains("retriever MRR@10") }
        #expect(evaluations.count == 3, "\(run.stderr)")
        for (line, label) in zip(evaluations, ["before training (step 0)", "after cycle 1/2 (step 4)", "after cycle 2/2 (step 7)"]) {
            #expect(line.contains(label) && line.contains("R@50") && line.contains("ranker on its top 5 MRR@10"), "\(line)")
        }
        #expect(run.stderr.contains("train: warm-up ranker step 1/1") && run.stderr.contains("train: cycle 2/2 retriever step 2/2"), "\(run.stderr)")
        let cycles = try FileManager.default.contentsOfDirectory(atPath: out + "/cycles").sorted()
        #expect(cycles == ["step-000000.evaluation.json", "step-000004.evaluation.json", "step-000007", "step-000007.evaluation.json"], "\(cycles)")
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/cycles/step-000004.evaluation.json"))) as? [String: [String: Double]]
        #expect(saved?["retriever"]?["MRR@10"].map { (0...1).contains($0) } == true && saved?["ranker"]?["depth"] == 5, "\(String(describing: saved))")
        #expect(FileManager.default.fileExists(atPath: out + "/checkpoint-1/ranker/model.safetensors"), "a checkpoint where the warm-up ends")
        // train.jsonl: 7 steps, and each evaluation once per model.
        let log = try TrainingLog.read(URL(fileURLWithPath: out + "/" + TrainingLog.fileName))
        #expect(log.filter { !$0.isEvaluation }.map(\.step) == Array(1...7))
        // Each step names the model it trained: the warm-up, then per cycle 1 ranker and 2 retriever steps.
        #expect(log.filter { !$0.isEvaluation }.map(\.model) == ["ranker", "ranker", "retriever", "retriever", "ranker", "retriever", "retriever"])
        let scored = log.filter(\.isEvaluation)
        #expect(scored.map(\.step) == [0, 0, 4, 4, 7, 7] && scored.map(\.model) == Array(repeating: ["retriever", "ranker"], count: 3).flatMap { $0 })
        // (JSONSerialization may read the last bit of a double differently from JSONDecoder.)
        func near(_ a: Double?, _ b: Double?) -> Bool { a != nil && b != nil && abs(a! - b!) < 1e-12 }
        #expect(near(scored[2].evaluation?["MRR@10"], saved?["retriever"]?["MRR@10"]) && near(scored[3].evaluation?["MRR@10"], saved?["ranker"]?["MRR@10"]), "\(scored)")
    }

    /// Killed with SIGKILL inside each stage (warm-up, ranker, retriever) and resumed: the same
    /// models bit for bit as the run that was never interrupted.
    @Test func killedInsideAnyStageResumesToTheSameModels() throws {
        let arguments = with(with(with(try arguments(), "--ranker-steps", "2"), "--ranker-warmup", "2"), "--retriever-steps", "2")
        let folder = folder(of: arguments)
        let straight = try CommandRunner.run(arguments + ["--out", folder + "/straight"])
        #expect(straight.status == 0 && straight.stdout.contains("after 10 of 10 steps"), "\(straight.stderr)")
        // Steps done when killed: 1 (of the warm-up's 2), 3 (the first cycle's ranker, 1 of 2), 5 (its retriever, 1 of 2).
        for killAfter in [1, 3, 5] {
            let out = folder + "/killed-\(killAfter)"
            let killed = try CommandRunner.run(arguments + ["--out", out], environment: ["DENSEKIT_TEST_KILL_AFTER_STEP": "\(killAfter)"])
            #expect(killed.status == SIGKILL, "step \(killAfter): \(killed.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out + "/ranker"), "step \(killAfter): the run ended")
            let resumed = try CommandRunner.run(arguments + ["--out", out, "--resume"])
            #expect(resumed.status == 0 && resumed.stdout.contains("after 10 of 10 steps"), "step \(killAfter): \(resumed.stderr)")
            try same(folder + "/straight", out, "killed after step \(killAfter)")
            // Its log holds every step once, with the uninterrupted run's losses.
            let log = try TrainingLog.read(URL(fileURLWithPath: out + "/" + TrainingLog.fileName))
            let whole = try TrainingLog.read(URL(fileURLWithPath: folder + "/straight/" + TrainingLog.fileName))
            #expect(log.map(\.step) == Array(1...10) && log.map(\.loss) == whole.map(\.loss), "step \(killAfter): \(log.map(\.step))")
        }
    }

    /// Killed while a cycle's retrieval encodes the collection (the real model, so that it
    /// takes long enough to be caught), then resumed: the same models bit for bit.
    @Test func killedWhileACycleEncodesResumesToTheSameModels() throws {
        guard CommandRunner.modelAvailable else { Issue.record("model missing at \(CommandRunner.modelPath): run scripts/fetch-model.sh"); return }
        let (collection, queries, qrels) = try RefreshCommandTests().corpus(300)
        let folder = URL(fileURLWithPath: collection).deletingLastPathComponent().path
        defer { try? FileManager.default.removeItem(atPath: folder) }  // checkpoints of the real model: gigabytes
        var arguments = with(with(with(try arguments(), "--retriever", CommandRunner.modelPath), "--collection", collection), "--queries", queries)
        arguments = with(with(arguments, "--qrels", qrels), "--ranker-warmup", "0")
        let straight = try CommandRunner.run(arguments + ["--out", folder + "/straight"])
        #expect(straight.status == 0, "\(straight.stderr)")
        // Killed while the second cycle's retrieval encodes the collection.
        #expect(try CommandRunner.killWhileEncoding(arguments + ["--out", folder + "/killed"], refresh: folder + "/killed/cycles/step-000003"),
                "the run finished before it could be killed")
        let resumed = try CommandRunner.run(arguments + ["--out", folder + "/killed", "--resume"])
        #expect(resumed.status == 0 && resumed.stderr.contains("resuming from step"), "\(resumed.stderr)")
        try same(folder + "/straight", folder + "/killed", "killed while encoding")
    }
}
