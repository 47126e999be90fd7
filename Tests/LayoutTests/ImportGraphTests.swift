import Foundation
import Testing

/// The module graph follows the data flow (corpus -> tokenizer -> encoder -> store -> index ->
/// search -> evaluation, training beside it): each folder of Sources/ may import only the
/// modules listed here, so a low module never imports a high one and none reaches across the
/// pipeline. Package.swift declares the same edges; this test reads the `import` lines
/// themselves, which is what the compiler would let slip through transitive dependencies.
@Suite struct ImportGraphTests {
    /// Folder of Sources/ -> the densekit modules (without the Densekit prefix) it may import.
    static let allowed: [String: Set<String>] = [
        "Corpus": [], "Tokenizer": [], "Tensor": [], "Store": ["Tensor"],
        "Encoder": ["Tokenizer", "Tensor"],
        "Losses": ["Tensor"],
        "Evaluation": ["Corpus"],
        "Index": ["Store", "Encoder", "Tensor", "Tokenizer"],
        "Search": ["Corpus", "Encoder", "Store", "Index", "Tensor"],
        // Training evaluates with ExactSearch (Tensor), not FAISS: it sits beside Index, not above.
        "Training": ["Tensor", "Tokenizer", "Corpus", "Encoder", "Losses", "Evaluation"],
        // The HTTP service sits on search (and reranking), beside the CLI that starts it.
        "Serve": ["Corpus", "Encoder", "Store", "Index", "Search"],
        // Reports lay out what evaluation scores and what training logged.
        "Report": ["Corpus", "Evaluation", "Training"],
        "CLI": ["Corpus", "Tokenizer", "Tensor", "Encoder", "Losses", "Store", "Index", "Search", "Evaluation", "Training", "Serve", "Report"],
    ]

    static var sources: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources")
    }

    @Test func everyImportIsAnAllowedEdge() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.sources.path).filter { $0 != "Bridges" }.sorted()
        #expect(Set(folders) == Set(Self.allowed.keys), "a module folder without a row in the table (or a row without a folder)")
        var edges = 0
        for folder in folders {
            let files = FileManager.default.enumerator(atPath: Self.sources.appendingPathComponent(folder).path)?
                .compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
            #expect(!files.isEmpty, "\(folder) has no Swift files")
            for file in files {
                let text = try String(contentsOf: Self.sources.appendingPathComponent(folder).appendingPathComponent(file), encoding: .utf8)
                for line in text.split(separator: "\n") where line.hasPrefix("import Densekit") {
                    let module = String(line.dropFirst("import Densekit".count)).trimmingCharacters(in: .whitespaces)
                    edges += 1
                    #expect(Self.allowed[folder]?.contains(module) == true, "Sources/\(folder)/\(file) imports Densekit\(module)")
                }
            }
        }
        #expect(edges > 20)  // the scan found the imports at all
    }

    /// The table itself has no cycle: the modules can be listed so that each imports only earlier ones.
    @Test func theAllowedGraphIsLayered() {
        var placed: Set<String> = [], remaining = Set(Self.allowed.keys)
        while !remaining.isEmpty {
            let ready = remaining.filter { Self.allowed[$0]!.isSubset(of: placed) }
            #expect(!ready.isEmpty, "a cycle among \(remaining.sorted())")
            if ready.isEmpty { return }
            placed.formUnion(ready)
            remaining.subtract(ready)
        }
    }
}
