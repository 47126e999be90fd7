import DensekitIndex
import DensekitStore
import Foundation

/// Queries in, ranked passages out, by BM25 over the index folder's lexical index
/// (`LexicalIndex`); no model is loaded.
public struct LexicalSearcher: Sendable {
    public let folder: IndexFolder
    public let index: LexicalIndex

    /// Opens the folder's lexical index; says (through `log`) when the index is incomplete.
    public init(folder: IndexFolder, log: (String) -> Void) throws {
        self.folder = folder
        index = try LexicalIndex(folder: folder)
        if let warning = try Searcher.coverageWarning(folder) { log(warning) }
    }

    /// The `k` best passages for each query by BM25 score, best first. A query without an
    /// indexable term (only stop words or one-letter tokens) gets no hits, and `log` says so.
    public func search(_ queries: [String], k: Int, includeText: Bool = false, threads: Int = 1,
                       progress: (Int) -> Void = { _ in }, log: (String) -> Void = { _ in }) throws -> [[Hit]] {
        var results: [[Hit]] = []
        results.reserveCapacity(queries.count)
        let chunk = 1_024
        var start = 0
        while start < queries.count {
            let end = min(start + chunk, queries.count)
            let ranked = try index.search(Array(queries[start..<end]), k: k, threads: threads)
            for (offset, hits) in ranked.enumerated() {
                if hits.isEmpty && index.analyzer.terms(queries[start + offset]).isEmpty {
                    log("warning: query \"\(queries[start + offset])\" has no term BM25 indexes (only stop words or one-letter words): no results")
                }
                let passages = try folder.store.passages(internalIds: hits.map(\.id), includeText: includeText)
                results.append(zip(hits, passages).compactMap { hit, passage in
                    passage.map { Hit(rank: 0, id: $0.id, score: hit.score, text: $0.text) }
                }.enumerated().map { rank, hit in
                    var hit = hit
                    hit.rank = rank + 1
                    return hit
                })
            }
            start = end
            progress(start)
        }
        return results
    }
}
