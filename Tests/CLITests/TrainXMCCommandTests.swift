import DensekitTestSupport
import Foundation
import Testing

/// `densekit train xmc` on a tiny random model: documents of tiny-model words, labels named by
/// the words they are about.
@Suite(.serialized) struct TrainXMCCommandTests {
    func task() throws -> (train: String, labels: String, model: String) {
        let words = TinyModel.words.filter { !$0.hasPrefix("##") && $0.first?.isLetter == true }
        var labels = "", documents = ""
        for (index, word) in words.prefix(6).enumerated() { labels += "topic::\(word)\tabout \(word)\n"; _ = index }
        for i in 0..<24 {
            let a = words[i % 6], b = words[(i / 6 + 1) % 6]
            documents += #"{"id": "d\#(i)", "text": "\#(a) \#(a) \#(b) \#(words[(i * 5) % words.count])", "labels": ["topic::\#(a)", "topic::\#(b)"]}"# + "\n"
        }
        let labelPath = try CommandRunner.temporaryFile(Array(labels.utf8), name: "labels.tsv")
        let folder = URL(fileURLWithPath: labelPath).deletingLastPathComponent()
        try documents.write(to: folder.appendingPathComponent("train.jsonl"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("model"), withIntermediateDirectories: true)
        let model = try TinyModel.writeFolder(at: folder.appendingPathComponent("model")).path
        return (folder.appendingPathComponent("train.jsonl").path, labelPath, model)
    }

    @Test(arguments: ["decoupled-softmax", "soft-topk", "infonce"])
    func trainsSavesAndResumesExactly(loss: String) throws {
        let (train, labels, model) = try task()
        let folder = URL(fileURLWithPath: train).deletingLastPathComponent().path
        let arguments = ["train", "xmc", "--model", model, "--train", train, "--labels", labels, "--loss", loss, "--top-k", "2",
                         "--batch-size", "4", "--chunk-size", "4", "--steps", "4", "--lr", "1e-3", "--checkpoint-every", "2", "--quiet"]
        let straight = try CommandRunner.run(arguments + ["--out", folder + "/straight"])
        #expect(straight.status == 0, "\(straight.stderr)")
        #expect(straight.stdout.contains("after 4 of 4 steps"), "\(straight.stdout)")
        #expect(FileManager.default.fileExists(atPath: folder + "/straight/checkpoint-2/trainer-state.json"))
        // Stopped after 2 steps of the same plan, then resumed: the same weights.
        let first = try CommandRunner.run(arguments + ["--out", folder + "/resumed", "--stop-after", "2"])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try CommandRunner.run(arguments + ["--out", folder + "/resumed", "--resume"])
        #expect(second.status == 0 && second.stderr.contains("resuming from step 2"), "\(second.stderr)")
        let a = try Data(contentsOf: URL(fileURLWithPath: folder + "/straight/model.safetensors"))
        let b = try Data(contentsOf: URL(fileURLWithPath: folder + "/resumed/model.safetensors"))
        #expect(a == b)
        #expect(a != (try Data(contentsOf: URL(fileURLWithPath: model + "/model.safetensors"))))
    }

    @Test func badInputIsRefusedBeforeTraining() throws {
        let (train, labels, model) = try task()
        let folder = URL(fileURLWithPath: train).deletingLastPathComponent().path
        let unknown = try CommandRunner.temporaryFile(Array((#"{"id": "x", "text": "cat", "labels": ["topic::nope"]}"# + "\n").utf8), name: "bad.jsonl")
        let result = try CommandRunner.run(["train", "xmc", "--model", model, "--train", unknown, "--labels", labels, "--steps", "1", "--out", folder + "/x"])
        #expect(result.status != 0 && result.stderr.contains("\(unknown):1: label 'topic::nope' is not in the label set"), "\(result.stderr)")
        let topK = try CommandRunner.run(["train", "xmc", "--model", model, "--train", train, "--labels", labels, "--loss", "soft-topk",
                                          "--top-k", "6", "--steps", "1", "--out", folder + "/y"])
        #expect(topK.status != 0 && topK.stderr.contains("--top-k 6 must be below the number of labels (6)"), "\(topK.stderr)")
    }

    /// The trained model predicts each document's labels (k lines, ranks 1..k, labels of the
    /// set, scores falling) in the file `eval --xmc` reads.
    @Test func predictWritesWhatEvalReads() throws {
        let (train, labels, model) = try task()
        let folder = URL(fileURLWithPath: train).deletingLastPathComponent().path
        let trained = try CommandRunner.run(["train", "xmc", "--model", model, "--train", train, "--labels", labels, "--batch-size", "4",
                                             "--steps", "6", "--lr", "1e-3", "--out", folder + "/m", "--quiet"])
        #expect(trained.status == 0, "\(trained.stderr)")
        let predicted = try CommandRunner.run(["xmc", "predict", "--model", folder + "/m", "--labels", labels, "--docs", train, "-k", "3", "--quiet"])
        #expect(predicted.status == 0, "\(predicted.stderr)")
        let lines = predicted.stdout.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        #expect(lines.count == 24 * 3)
        let known = Set(try String(contentsOfFile: labels, encoding: .utf8).split(separator: "\n").map { String($0.split(separator: "\t")[0]) })
        for (index, fields) in lines.enumerated() {
            #expect(fields.count == 4 && fields[0] == "d\(index / 3)" && fields[2] == String(index % 3 + 1) && known.contains(fields[1]), "\(fields)")
            if index % 3 > 0 { #expect(Float(fields[3])! <= Float(lines[index - 1][3])!) }
        }
        let output = folder + "/p.tsv"
        try predicted.stdout.write(toFile: output, atomically: true, encoding: .utf8)
        let scored = try CommandRunner.run(["eval", "--xmc", "--truth", train, "--predictions", output, "--train", train, "--json"])
        #expect(scored.status == 0 && scored.stdout.contains("\"P@1\""), "\(scored.stderr)")
    }

    /// A label tower apart: the saved model is a two-tower folder, and predict reads it; a kept
    /// label index is reused by a second call (same output); kNN voting changes the scores.
    @Test func separateTowersAStoredLabelIndexAndVoting() throws {
        let (train, labels, model) = try task()
        let folder = URL(fileURLWithPath: train).deletingLastPathComponent().path
        let trained = try CommandRunner.run(["train", "xmc", "--model", model, "--train", train, "--labels", labels, "--batch-size", "4",
                                             "--steps", "2", "--lr", "1e-3", "--separate-towers", "--out", folder + "/towers", "--quiet"])
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder + "/towers/query_model/model.safetensors"))
        #expect(FileManager.default.fileExists(atPath: folder + "/towers/passage_model/model.safetensors"))
        let predict = ["xmc", "predict", "--model", folder + "/towers", "--labels", labels, "--docs", train, "-k", "3", "--quiet"]
        let first = try CommandRunner.run(predict + ["--label-index", folder + "/labels.index"])
        #expect(first.status == 0 && first.stdout.split(separator: "\n").count == 24 * 3, "\(first.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder + "/labels.index/faiss.index"))
        let again = try CommandRunner.run(predict + ["--label-index", folder + "/labels.index"])
        #expect(again.status == 0 && again.stdout == first.stdout, "\(again.stderr)")
        let temporary = try CommandRunner.run(predict)
        #expect(temporary.stdout == first.stdout, "a temporary label index predicts the same")
        // Another label text cannot reuse the kept index.
        let other = try CommandRunner.run(predict + ["--label-index", folder + "/labels.index", "--label-text", "name"])
        #expect(other.status != 0 && other.stderr.contains("holds xmc-labels name-and-text"), "\(other.stderr)")
        let voted = try CommandRunner.run(predict + ["--knn-train", train, "--knn-k", "5", "--knn-weight", "1"])
        #expect(voted.status == 0 && voted.stdout != first.stdout, "\(voted.stderr)")
        let bad = try CommandRunner.run(predict + ["--knn-train", train, "--knn-weight", "1.5"])
        #expect(bad.status != 0 && bad.stderr.contains("--knn-weight must be between 0 and 1"), "\(bad.stderr)")
    }

    /// The Extreme Classification Repository's raw-text layout, end to end: train, predict,
    /// evaluate; labels are named by their column.
    @Test func ecrRawTextEndToEnd() throws {
        let (train, labels, model) = try task()
        let folder = URL(fileURLWithPath: train).deletingLastPathComponent()
        let names = try String(contentsOfFile: labels, encoding: .utf8).split(separator: "\n").map { String($0.split(separator: "\t")[0]) }
        var texts = "", matrix = "24 \(names.count)\n"
        for line in try String(contentsOfFile: train, encoding: .utf8).split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            texts += (object["text"] as! String) + "\n"
            matrix += (object["labels"] as! [String]).map { "\(names.firstIndex(of: $0)!):1" }.joined(separator: " ") + "\n"
        }
        try texts.write(to: folder.appendingPathComponent("trn_X.txt"), atomically: true, encoding: .utf8)
        try matrix.write(to: folder.appendingPathComponent("trn_X_Y.txt"), atomically: true, encoding: .utf8)
        let labelTexts = try String(contentsOfFile: labels, encoding: .utf8).split(separator: "\n").map { String($0.split(separator: "\t")[1]) }
        try (labelTexts.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("Y.txt"), atomically: true, encoding: .utf8)
        let x = folder.appendingPathComponent("trn_X.txt").path, y = folder.appendingPathComponent("Y.txt").path
        let trained = try CommandRunner.run(["train", "xmc", "--format", "ecr", "--model", model, "--train", x, "--labels", y, "--batch-size", "4",
                                             "--steps", "2", "--lr", "1e-3", "--label-text", "text", "--out", folder.path + "/ecr", "--quiet"])
        #expect(trained.status == 0 && trained.stderr.contains("24 documents, 6 labels"), "\(trained.stderr)")
        let predicted = try CommandRunner.run(["xmc", "predict", "--format", "ecr", "--model", folder.path + "/ecr", "--labels", y, "--docs", x,
                                               "--label-text", "text", "-k", "2", "-o", folder.path + "/ecr.tsv", "--quiet"])
        #expect(predicted.status == 0, "\(predicted.stderr)")
        let lines = try String(contentsOfFile: folder.path + "/ecr.tsv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        #expect(lines.count == 48 && lines[0][0] == "0" && lines[47][0] == "23" && lines.allSatisfy { Int($0[1]).map { (0..<6).contains($0) } == true })
        let scored = try CommandRunner.run(["eval", "--xmc", "--xmc-format", "ecr", "--truth", x, "--predictions", folder.path + "/ecr.tsv", "--train", x, "--json"])
        #expect(scored.status == 0 && scored.stdout.contains("\"documents\": 24"), "\(scored.stderr)")
        // A column the label file does not have is named with its file and line.
        try (matrix.replacingOccurrences(of: "24 6", with: "24 7")).write(to: folder.appendingPathComponent("trn_X_Y.txt"), atomically: true, encoding: .utf8)
        let bad = try CommandRunner.run(["train", "xmc", "--format", "ecr", "--model", model, "--train", x, "--labels", y, "--steps", "1", "--out", folder.path + "/bad"])
        #expect(bad.status != 0 && bad.stderr.contains("trn_X_Y.txt:1: the header says 7 label columns, the label file has 6 labels"), "\(bad.stderr)")
    }

    /// Hard-negative labels from shortlists refreshed every 2 steps: a run stopped at step 3
    /// and resumed reads the shortlist of step 2 back and ends with the same weights.
    @Test func shortlistTrainingResumesExactly() throws {
        let (train, labels, model) = try task()
        let folder = URL(fileURLWithPath: train).deletingLastPathComponent().path
        let arguments = ["train", "xmc", "--model", model, "--train", train, "--labels", labels, "--label-negatives", "shortlist",
                         "--shortlist-depth", "3", "--hard-labels", "2", "--shortlist-every", "2", "--batch-size", "4", "--chunk-size", "4",
                         "--steps", "5", "--lr", "1e-3", "--checkpoint-every", "3", "--quiet"]
        let straight = try CommandRunner.run(arguments + ["--out", folder + "/straight"])
        #expect(straight.status == 0 && straight.stderr.contains("label shortlist at step 4: the 3 nearest of 6 labels for 24 documents"), "\(straight.stderr)")
        for step in ["000000", "000002", "000004"] {
            #expect(FileManager.default.fileExists(atPath: folder + "/straight/label-shortlists/step-\(step).shortlist"))
        }
        let first = try CommandRunner.run(arguments + ["--out", folder + "/resumed", "--stop-after", "3"])
        #expect(first.status == 0, "\(first.stderr)")
        // Without the shortlist it needs, a resume stops and names the missing file.
        try FileManager.default.copyItem(atPath: folder + "/resumed", toPath: folder + "/missing")
        try FileManager.default.removeItem(atPath: folder + "/missing/label-shortlists/step-000002.shortlist")
        let missing = try CommandRunner.run(arguments + ["--out", folder + "/missing", "--resume"])
        #expect(missing.status != 0 && missing.stderr.contains("step-000002.shortlist is missing"), "\(missing.stderr)")
        let second = try CommandRunner.run(arguments + ["--out", folder + "/resumed", "--resume"])
        #expect(second.status == 0 && second.stderr.contains("resuming from step 3") && !second.stderr.contains("shortlist at step 2"), "\(second.stderr)")
        let a = try Data(contentsOf: URL(fileURLWithPath: folder + "/straight/model.safetensors"))
        let b = try Data(contentsOf: URL(fileURLWithPath: folder + "/resumed/model.safetensors"))
        #expect(a == b)
    }
}
