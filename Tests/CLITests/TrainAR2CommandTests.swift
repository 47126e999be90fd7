import DensekitTestSupport
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

    @Test func trainsBothModelsAndResumesInsideACycle() throws {
        let arguments = try arguments()
        let folder = URL(fileURLWithPath: arguments[arguments.firstIndex(of: "--collection")! + 1]).deletingLastPathComponent().path
        let straight = try CommandRunner.run(arguments + ["--out", folder + "/straight"])
        #expect(straight.status == 0 && straight.stdout.contains("after 6 of 6 steps"), "\(straight.stderr)")
        for path in ["retriever/model.safetensors", "ranker/model.safetensors", "cycles/step-000000/index/faiss.index",
                     "cycles/step-000003/negatives.tsv", "checkpoint-3/ranker/model.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: folder + "/straight/" + path), "\(path)")
        }
        let first = try CommandRunner.run(arguments + ["--out", folder + "/resumed", "--stop-after", "2"])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try CommandRunner.run(arguments + ["--out", folder + "/resumed", "--resume"])
        #expect(second.status == 0 && second.stderr.contains("resuming from step 2"), "\(second.stderr)")
        for model in ["retriever", "ranker"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: folder + "/straight/\(model)/model.safetensors"))
            let b = try Data(contentsOf: URL(fileURLWithPath: folder + "/resumed/\(model)/model.safetensors"))
            #expect(a == b, "\(model)")
        }
        let bad = try CommandRunner.run(arguments + ["--out", folder + "/bad", "--adv-lambda", "2"])
        #expect(bad.status != 0 && bad.stderr.contains("--adv-lambda must be between 0 and 1"), "\(bad.stderr)")
    }
}
