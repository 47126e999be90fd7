import DensekitTestSupport
import Foundation
import Testing

/// `train dual --refresh-every` (ANCE) and `--mix-hardest` (MoCHi) as a user runs them.
@Suite(.serialized) struct RefreshCommandTests {
    /// `count` package-like passages the model can tell apart; query i asks for
    /// passage i with its first words.
    func corpus(_ count: Int) throws -> (collection: String, queries: String, qrels: String) {
        let subjects = ["library", "daemon", "tool", "plugin", "font", "driver", "game", "editor", "server", "theme"]
        let topics = ["audio", "video", "network", "printing", "python", "perl", "kernel", "music", "images", "mail", "backup", "maps"]
        var collection = "", queries = "", qrels = ""
        for i in 0..<count {
            let subject = subjects[i % subjects.count], topic = topics[(i / subjects.count) % topics.count]
            let text = "\(topic) \(subject) number \(i) for \(topics[(i * 7) % topics.count]) users"
            collection += "p\(i)\t\(text)\n"
            queries += "q\(i)\t\(topic) \(subject) \(i)\n"
            qrels += "q\(i)\t0\tp\(i)\t1\n"
        }
        return try CommandRunner.writeTask(collection: collection, queries: queries, qrels: qrels)
    }

    /// Mines negatives with the base model (writing the recipe beside them) and returns the
    /// arguments of a refreshing, mixing training run.
    func setUp(passages: Int, retriever: String = "dense") throws -> (arguments: [String], folder: String) {
        let (collection, queries, qrels) = try corpus(passages)
        let folder = URL(fileURLWithPath: collection).deletingLastPathComponent().path
        let index = folder + "/zero"
        let build = try CommandRunner.run(["index", "build", "--model", CommandRunner.modelPath, "--index", index, "--collection", collection, "--quiet"])
        #expect(build.status == 0, "\(build.stderr)")
        let mine = try CommandRunner.run(["mine", "--index", index, "--queries", queries, "--qrels", qrels, "--retriever", retriever,
                                          "--range-max", "8", "--range-min", "1", "--negatives-per-query", "3", "-o", folder + "/negatives.tsv", "--quiet"])
        #expect(mine.status == 0, "\(mine.stderr)")
        return (["train", "dual", "--model", CommandRunner.modelPath, "--collection", collection, "--queries", queries, "--qrels", qrels,
                 "--negatives", folder + "/negatives.tsv", "--batch-size", "4", "--steps", "5", "--lr", "1e-4", "--checkpoint-every", "1",
                 "--query-max-length", "16", "--passage-max-length", "24", "--refresh-every", "2",
                 "--mix-hardest", "3", "--mix-negatives", "2", "--mix-query", "1", "--mix-start", "1", "--quiet"], folder)
    }

    /// The recipe `mine` wrote is the one refreshes mine with; each refresh leaves its index,
    /// its negatives and a report, and says what it cost.
    @Test func refreshesMineAsTheNegativesWereMined() throws {
        guard CommandRunner.modelAvailable else { Issue.record("model missing at \(CommandRunner.modelPath): run scripts/fetch-model.sh"); return }
        let (arguments, folder) = try setUp(passages: 60)
        defer { try? FileManager.default.removeItem(atPath: folder) }  // checkpoints of the real model: gigabytes
        let recipe = try String(contentsOfFile: folder + "/negatives.tsv.mining.json", encoding: .utf8)
        #expect(recipe.contains("\"retriever\" : \"dense\"") && recipe.contains("\"rangeMin\" : 1") && recipe.contains("\"negativesPerQuery\" : 3"), "\(recipe)")

        let out = folder + "/trained"
        let train = try CommandRunner.run(arguments + ["--out", out])
        #expect(train.status == 0, "\(train.stderr)")
        for step in [2, 4] {
            let refresh = out + String(format: "/refresh/step-%06d", step)
            #expect(train.stderr.contains("refresh at step \(step): 60 passages encoded"), "\(train.stderr)")
            #expect(FileManager.default.fileExists(atPath: refresh + "/index/faiss.index"))
            #expect(FileManager.default.fileExists(atPath: refresh + "/refresh.json"))
            let lines = try String(contentsOfFile: refresh + "/negatives.tsv", encoding: .utf8).split(separator: "\n")
            // Every query gets 3 negatives, none of them its own passage.
            #expect(lines.count == 60)
            for line in lines {
                let parts = line.split(separator: "\t")
                let qid = String(parts[0]), negatives = parts[1].split(separator: ",").map(String.init)
                #expect(negatives.count == 3)
                #expect(!negatives.contains("p" + qid.dropFirst()), "\(line)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: out + "/refresh/step-000006"))
        // The refresh at step 2 encoded with the weights after two steps: the checkpoint's.
        let refreshed = try Data(contentsOf: URL(fileURLWithPath: out + "/refresh/step-000002/model/model.safetensors"))
        #expect(refreshed == (try Data(contentsOf: URL(fileURLWithPath: out + "/checkpoint-2/model.safetensors"))))
    }

    /// Killed with SIGKILL while a refresh encodes, then resumed: the same final weights as a run
    /// that was never interrupted, bit for bit (the refresh is redone with the same weights, the
    /// mixing generator comes back from the checkpoint).
    @Test func killedDuringARefreshResumesToTheSameWeights() throws {
        guard CommandRunner.modelAvailable else { Issue.record("model missing at \(CommandRunner.modelPath): run scripts/fetch-model.sh"); return }
        let (arguments, folder) = try setUp(passages: 400)
        defer { try? FileManager.default.removeItem(atPath: folder) }  // checkpoints of the real model: gigabytes
        let straight = folder + "/straight", killed = folder + "/killed"
        let train = try CommandRunner.run(arguments + ["--out", straight])
        #expect(train.status == 0, "\(train.stderr)")

        // Killed while the refresh before step 4 encodes (model saved, negatives not yet written).
        let refresh = killed + "/refresh/step-000004"
        #expect(try CommandRunner.killWhileEncoding(arguments + ["--out", killed], refresh: refresh), "the run finished before it could be killed")
        #expect(!FileManager.default.fileExists(atPath: refresh + "/refresh.json"))

        let resumed = try CommandRunner.run(arguments + ["--out", killed, "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming from step"), "\(resumed.stderr)")
        let a = try Data(contentsOf: URL(fileURLWithPath: straight + "/model.safetensors"))
        let b = try Data(contentsOf: URL(fileURLWithPath: killed + "/model.safetensors"))
        #expect(a == b, "resumed weights differ from the uninterrupted run's")
        #expect(try Data(contentsOf: URL(fileURLWithPath: refresh + "/negatives.tsv"))
            == Data(contentsOf: URL(fileURLWithPath: straight + "/refresh/step-000004/negatives.tsv")))
    }

    @Test func refreshAndMixingOptionsAreChecked() throws {
        guard CommandRunner.modelAvailable else { Issue.record("model missing at \(CommandRunner.modelPath): run scripts/fetch-model.sh"); return }
        let (arguments, folder) = try setUp(passages: 20, retriever: "bm25")
        let bm25 = try CommandRunner.run(arguments + ["--out", folder + "/a"])
        #expect(bm25.status != 0 && bm25.stderr.contains("BM25 negatives do not change with the model"), "\(bm25.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/a/checkpoint-1"))
        let base = Array(arguments.prefix(while: { $0 != "--refresh-every" }))
        for (extra, message) in [(["--mix-hardest", "2"], "makes nothing without --mix-negatives or --mix-query"),
                                 (["--mix-negatives", "2"], "need --mix-hardest N"),
                                 (["--mix-hardest", "-1"], "--mix-hardest must be 0 or more"),
                                 (["--refresh-every", "0"], "--refresh-every must be positive"),
                                 (["--refresh-index", folder + "/r"], "--refresh-index goes with --refresh-every")] {
            let result = try CommandRunner.run(base + extra + ["--out", folder + "/b"])
            #expect(result.status != 0 && result.stderr.contains(message), "\(extra): \(result.stderr)")
        }
    }
}
