import DensekitTestSupport
import Foundation
import Testing

/// BM25, hybrid search and run fusion from the command line, on a tiny model.
@Suite(.serialized) struct HybridCommandTests {
    func index(bm25: Bool) throws -> (index: String, model: String) {
        let folder = try TinyModel.temporaryFolder()
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("model"), withIntermediateDirectories: true)
        let model = try TinyModel.writeFolder(at: folder.appendingPathComponent("model")).path
        let corpus = folder.appendingPathComponent("c.tsv").path
        try "p1\tthe cat sat on the mat\np2\ta big red dog ran\np3\tred mat, red cat\np4\tdog\n".write(toFile: corpus, atomically: true, encoding: .utf8)
        let index = folder.appendingPathComponent("index").path
        let build = try CommandRunner.run(["index", "build", "--model", model, "--index", index, "--collection", corpus, "--quiet"] + (bm25 ? [] : ["--no-bm25"]))
        #expect(build.status == 0, "\(build.stderr)")
        return (index, model)
    }

    func ids(_ result: CommandRunner.Result) throws -> [String] {
        let object = try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any]
        return (object?["hits"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    @Test func bm25AndHybridSearch() throws {
        let (index, _) = try index(bm25: true)
        let bm25 = try CommandRunner.run(["search", "--index", index, "--retriever", "bm25", "-k", "2", "--json", "red cat"])
        #expect(bm25.status == 0, "\(bm25.stderr)")
        #expect(try ids(bm25) == ["p3", "p1"])
        let hybrid = try CommandRunner.run(["search", "--index", index, "--retriever", "hybrid", "-k", "4", "--json", "red cat"])
        #expect(hybrid.status == 0, "\(hybrid.stderr)")
        #expect(Set(try ids(hybrid)) == ["p1", "p2", "p3", "p4"])
        let stopWords = try CommandRunner.run(["search", "--index", index, "--retriever", "bm25", "--json", "the a"])
        #expect(stopWords.status == 0 && stopWords.stderr.contains("no term BM25 indexes"), "\(stopWords.stderr)")
    }

    @Test func anIndexWithoutBM25SaysHowToBuildIt() throws {
        let (index, _) = try index(bm25: false)
        let refused = try CommandRunner.run(["search", "--index", index, "--retriever", "bm25", "cat"])
        #expect(refused.status == 1 && refused.stderr.contains("index rebuild --index \(index) --bm25"), "\(refused.stderr)")
        #expect(try CommandRunner.run(["index", "rebuild", "--index", index, "--bm25"]).status == 0)
        #expect(try CommandRunner.run(["search", "--index", index, "--retriever", "bm25", "cat"]).status == 0)
    }

    @Test func fuseRunFiles() throws {
        let a = try CommandRunner.temporaryFile(Array("q1 Q0 d1 1 9 x\nq1 Q0 d2 2 5 x\nq1 Q0 d3 3 1 x\n".utf8), name: "a.trec")
        let b = try CommandRunner.temporaryFile(Array("q1 Q0 d3 1 0.9 y\nq1 Q0 d4 2 0.8 y\nq1 Q0 d1 3 0.1 y\n".utf8), name: "b.trec")
        let rrf = try CommandRunner.run(["fuse", "--run", a, "--run", b, "--format", "msmarco"])
        #expect(rrf.status == 0 && rrf.stdout == "q1\td1\t1\nq1\td3\t2\nq1\td2\t3\nq1\td4\t4\n", "\(rrf.stdout)\(rrf.stderr)")
        let linear = try CommandRunner.run(["fuse", "--run", a, "--run", b, "--fusion", "linear", "--alpha", "0.7", "--format", "msmarco"])
        #expect(linear.stdout == "q1\td1\t1\nq1\td2\t2\nq1\td3\t3\nq1\td4\t4\n", "\(linear.stdout)\(linear.stderr)")
        let msmarco = try CommandRunner.temporaryFile(Array("q1\td1\t1\n".utf8), name: "m.tsv")
        let refused = try CommandRunner.run(["fuse", "--run", a, "--run", msmarco, "--fusion", "linear"])
        #expect(refused.status == 1 && refused.stderr.contains("needs TREC runs"), "\(refused.stderr)")
    }

    /// `--stemmer porter`: "connected" finds "connection"; the manifest records the stemmer, so
    /// queries are stemmed as the passages were; a rebuild can change it.
    @Test func porterStemmingIsRecordedAndUsed() throws {
        let folder = try TinyModel.temporaryFolder()
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("model"), withIntermediateDirectories: true)
        let model = try TinyModel.writeFolder(at: folder.appendingPathComponent("model")).path
        let corpus = folder.appendingPathComponent("c.tsv").path
        try "p1\tnetwork connections manager\np2\tconnected dots game\np3\tprinting tools\n".write(toFile: corpus, atomically: true, encoding: .utf8)
        let index = folder.appendingPathComponent("index").path
        let build = try CommandRunner.run(["index", "build", "--model", model, "--index", index, "--collection", corpus, "--stemmer", "porter", "--quiet"])
        #expect(build.status == 0, "\(build.stderr)")
        let stemmed = try CommandRunner.run(["search", "--index", index, "--retriever", "bm25", "-k", "3", "--json", "connecting"])
        #expect(stemmed.status == 0, "\(stemmed.stderr)")
        #expect(Set(try ids(stemmed)) == ["p1", "p2"])
        let info = try CommandRunner.run(["index", "info", "--index", index])
        #expect(info.stdout.contains("stemmer porter"), "\(info.stdout)")
        #expect(try CommandRunner.run(["index", "rebuild", "--index", index, "--bm25", "--stemmer", "none"]).status == 0)
        let plain = try CommandRunner.run(["search", "--index", index, "--retriever", "bm25", "-k", "3", "--json", "connecting"])
        #expect(try ids(plain).isEmpty, "\(plain.stdout)")
        let bad = try CommandRunner.run(["index", "build", "--model", model, "--index", index + "2", "--collection", corpus, "--stemmer", "lancaster"])
        #expect(bad.status != 0 && bad.stderr.contains("porter"), "\(bad.stderr)")
    }
}
