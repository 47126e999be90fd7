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
}
