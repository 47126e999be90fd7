import DensekitEncoder
import Foundation
import Testing

/// all-MiniLM-L6-v2 through densekit against what sentence-transformers 6.2 produced for the
/// same 300 texts (150 dev queries, 150 passages; Fixtures/reference-embeddings.jsonl).
///
/// Needs the real model: scripts/test.sh fetches it and sets DENSEKIT_MODEL. Without it the
/// test fails (it never skips silently), saying how to get it.
@Suite struct ReferenceParityTests {
    static var modelDirectory: URL {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["DENSEKIT_MODEL"], !path.isEmpty { return URL(fileURLWithPath: path) }
        let cache = environment["DENSEKIT_CACHE"] ?? (NSHomeDirectory() + "/.cache/densekit")
        return URL(fileURLWithPath: cache + "/models/all-MiniLM-L6-v2")
    }

    struct Reference: Decodable {
        let text: String
        let embedding: [Double]
    }

    @Test func embeddingsMatchSentenceTransformers() throws {
        let directory = Self.modelDirectory
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("model.safetensors").path) else {
            Issue.record("all-MiniLM-L6-v2 not found at \(directory.path): run scripts/fetch-model.sh (scripts/test.sh does)")
            return
        }
        let url = try #require(Bundle.module.url(forResource: "reference-embeddings", withExtension: "jsonl", subdirectory: "Fixtures"))
        let references = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try JSONDecoder().decode(Reference.self, from: Data($0.utf8))
        }
        #expect(references.count == 300)

        let encoder = try SentenceEncoder.load(directory: directory)
        let got = encoder.encode(references.map(\.text), options: EncodeOptions(batchSize: 16))
        var worstCosine = 1.0, worstDifference = 0.0
        for (i, reference) in references.enumerated() {
            let row = got[i].map(Double.init)
            let dot = zip(row, reference.embedding).map(*).reduce(0, +)
            let norms = (row.map { $0 * $0 }.reduce(0, +) * reference.embedding.map { $0 * $0 }.reduce(0, +)).squareRoot()
            let cosine = dot / norms
            let difference = zip(row, reference.embedding).map { abs($0 - $1) }.max() ?? 0
            // Measured: worst max-abs 1.6e-7 (Zen, Haswell kernels) to 2.5e-7 (Sandybridge);
            // 1e-6 leaves room for other kernel sets, not for a wrong operation.
            if cosine < 1 - 1e-9 || difference > 1e-6 {
                Issue.record("text \(i) \"\(reference.text.prefix(60))\": cosine \(cosine), max abs difference \(difference)")
            }
            worstCosine = min(worstCosine, cosine)
            worstDifference = max(worstDifference, difference)
        }
        print("parity over \(references.count) texts: worst cosine \(worstCosine), worst max-abs difference \(worstDifference)")
    }
}
