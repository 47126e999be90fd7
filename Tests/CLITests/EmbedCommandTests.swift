import Foundation
import Testing

/// `densekit embed`, `model info` and `nearest` run as a user runs them, on the real
/// all-MiniLM-L6-v2 (scripts/test.sh fetches it; without it these tests fail and say so).
@Suite struct EmbedCommandTests {
    /// sentence-transformers' embedding of this text starts with these values
    /// (Tests/EncoderTests/Fixtures/reference-embeddings.jsonl, line 1).
    let akismet = "Library for accessing the Akismet API"
    let akismetStart: [Float] = [-0.0965680256485939, 0.002756033092737198, -0.12777899205684662]

    func requireModel() -> Bool {
        if !CommandRunner.modelAvailable {
            Issue.record("model not found at \(CommandRunner.modelPath): run scripts/fetch-model.sh (scripts/test.sh does)")
        }
        return CommandRunner.modelAvailable
    }

    struct Row: Decodable {
        let id: String?
        let embedding: [Float]
    }

    @Test func embedsLinesFromStandardInputAsJSONLines() throws {
        guard requireModel() else { return }
        let result = try CommandRunner.run(["embed", "--model", CommandRunner.modelPath, "--quiet"], stdin: "\(akismet)\n\nfast key-value store\n")
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try result.stdout.split(separator: "\n").map { try JSONDecoder().decode(Row.self, from: Data($0.utf8)) }
        #expect(rows.count == 3)
        #expect(rows.allSatisfy { $0.embedding.count == 384 && $0.id == nil })
        for row in rows {
            let norm = row.embedding.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(norm - 1) < 1e-5)
        }
        for (got, want) in zip(rows[0].embedding, akismetStart) { #expect(abs(got - want) < 1e-5) }
    }

    @Test func tsvInputKeepsIdsAndNpyOutputHasTheMatrix() throws {
        guard requireModel() else { return }
        let input = try CommandRunner.temporaryFile(Array("p7\t\(akismet)\np9\tsecond text\n".utf8), name: "in.tsv")
        let json = try CommandRunner.run(["embed", "--model", CommandRunner.modelPath, "--tsv", input, "--quiet"])
        #expect(json.status == 0, "\(json.stderr)")
        let ids = try json.stdout.split(separator: "\n").map { try JSONDecoder().decode(Row.self, from: Data($0.utf8)).id }
        #expect(ids == ["p7", "p9"])

        let npy = URL(fileURLWithPath: input).deletingLastPathComponent().appendingPathComponent("out.npy").path
        let result = try CommandRunner.run(["embed", "--model", CommandRunner.modelPath, "--tsv", input, "--format", "npy", "-o", npy, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: npy))
        #expect(data.prefix(6) == Data([0x93] + Array("NUMPY".utf8)))
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.contains("'shape': (2, 384)") && header.contains("'<f4'"))
        #expect((10 + headerLength) % 64 == 0)
        #expect(data.count == 10 + headerLength + 2 * 384 * 4)
        let first = data[(10 + headerLength)...].withUnsafeBytes { raw in (0..<3).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
        for (got, want) in zip(first, akismetStart) { #expect(abs(got - want) < 1e-5) }
    }

    @Test func malformedTSVNamesFileAndLine() throws {
        guard requireModel() else { return }
        let input = try CommandRunner.temporaryFile(Array("p1\tfine\nno tab here\n".utf8), name: "bad.tsv")
        let result = try CommandRunner.run(["embed", "--model", CommandRunner.modelPath, "--tsv", input])
        #expect(result.status != 0)
        #expect(result.stderr.contains("\(input):2:") && result.stderr.contains("no tab"))
        #expect(result.stdout.isEmpty)
    }

    @Test func badUTF8NamesFileAndLine() throws {
        guard requireModel() else { return }
        let input = try CommandRunner.temporaryFile(Array("ok\n".utf8) + [0xC3, 0x28, 0x0A], name: "bad-utf8.txt")
        let result = try CommandRunner.run(["embed", "--model", CommandRunner.modelPath, input])
        #expect(result.status != 0)
        #expect(result.stderr.contains("\(input):2: not valid UTF-8"))
    }

    @Test func missingOrBrokenModelIsExplained() throws {
        let missing = try CommandRunner.run(["embed", "--model", "/nonexistent/model"], stdin: "x\n")
        #expect(missing.status != 0 && missing.stderr.contains("/nonexistent/model"))

        let folder = URL(fileURLWithPath: try CommandRunner.temporaryFile([], name: "placeholder")).deletingLastPathComponent()
        try Data("{\"hidden_size\": 8".utf8).write(to: folder.appendingPathComponent("config.json"))
        let broken = try CommandRunner.run(["model", "info", folder.path])
        #expect(broken.status != 0 && broken.stderr.contains("config.json") && broken.stderr.contains("not valid JSON"))
    }

    @Test func modelInfoDescribesMiniLM() throws {
        guard requireModel() else { return }
        let result = try CommandRunner.run(["model", "info", CommandRunner.modelPath, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let info = try #require(try JSONSerialization.jsonObject(with: result.stdoutData) as? [String: Any])
        #expect(info["dimension"] as? Int == 384)
        #expect(info["pooling"] as? String == "mean")
        #expect(info["normalize"] as? Bool == true)
        #expect(info["layers"] as? Int == 6)
        #expect(info["max_seq_length"] as? Int == 256)
        // Hugging Face's count includes BERT's pooler head (384 x 384 + 384), which sentence
        // embeddings do not use.
        #expect(info["parameters"] as? Int == 22_713_216)
        #expect(info["encoder_parameters"] as? Int == 22_713_216 - 384 * 384 - 384)
    }

    @Test func nearestFindsTheMatchingDescription() throws {
        guard requireModel() else { return }
        let input = try CommandRunner.temporaryFile(Array("""
        a\tA fast, lightweight web server with a small memory footprint.
        b\tA library for reading and writing PNG image files.
        c\tA command-line client for the Akismet anti-spam web service API.
        """.utf8), name: "passages.tsv")
        let result = try CommandRunner.run(["nearest", "--model", CommandRunner.modelPath, "--tsv", input, "-q", akismet, "-k", "2", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let ranked = result.stdout.split(separator: "\n").filter { $0.hasPrefix("  ") }
        #expect(ranked.count == 2)
        #expect(ranked.first?.contains("  c  ") == true, "\(result.stdout)")
    }
}
