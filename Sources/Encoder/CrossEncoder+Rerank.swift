import Foundation

extension CrossEncoder {
    /// One query's candidates after reranking: indices into the candidates as given, best first,
    /// with their scores (`activation(logit)`, as sentence-transformers' `predict` returns them).
    public struct Reranked: Sendable, Equatable {
        public var order: [Int]
        public var scores: [Double]
    }

    /// Reranks each query's candidate passages: every (query, passage) pair of every list is
    /// scored in one pass (length-sorted batches over all workers), then each list is ordered by
    /// logit, best first; equal logits keep the given order (the first stage's ranking).
    ///
    /// - Parameter progress: called with the number of pairs scored so far.
    public func rerank(_ lists: [(query: String, passages: [String])], options: EncodeOptions = EncodeOptions(),
                       progress: (@Sendable (Int) -> Void)? = nil) -> [Reranked] {
        let pairs = lists.flatMap { list in list.passages.map { (query: list.query, passage: $0) } }
        let logits = self.logits(tokenized: tokenize(pairs: pairs, maxLength: options.maxLength), options: options, progress: progress)
        var start = 0
        return lists.map { list in
            let mine = logits[start..<(start + list.passages.count)].map { $0 }
            start += list.passages.count
            let order = mine.indices.sorted { mine[$0] != mine[$1] ? mine[$0] > mine[$1] : $0 < $1 }
            // In Double, so that sigmoid keeps apart logits that Float would round to 1.
            return Reranked(order: order, scores: order.map { score(logit: mine[$0]) })
        }
    }

    /// A query or passage a first-stage ranking names but the inputs lack.
    public enum MissingInput: Error, Equatable, Sendable {
        case query(String)
        case passage(String, query: String)
    }

    /// Reranks first-stage rankings (each query's passage ids, best first): the top `depth` of
    /// each, scored against the query's text; returns each query's passages, best first, with
    /// their scores. Passages below `depth` are dropped (see `Reranker` in Search).
    ///
    /// - Parameter passages: the text of every passage id the rankings' tops name.
    /// - Throws: `MissingInput` for a query without a text or a passage without one.
    public func rerank(rankings: [(queryId: String, passageIds: [String])], depth: Int, queries: [String: String], passages: [String: String],
                       options: EncodeOptions = EncodeOptions(), progress: (@Sendable (Int) -> Void)? = nil)
        throws(MissingInput) -> [(queryId: String, ranked: [(id: String, score: Double)])] {
        var lists: [(query: String, passages: [String])] = []
        var tops: [[String]] = []
        for (qid, ids) in rankings {
            guard let text = queries[qid] else { throw .query(qid) }
            let top = Array(ids.prefix(depth))
            var texts: [String] = []
            for pid in top {
                guard let passage = passages[pid] else { throw .passage(pid, query: qid) }
                texts.append(passage)
            }
            lists.append((text, texts))
            tops.append(top)
        }
        let reranked = rerank(lists, options: options, progress: progress)
        return zip(rankings, zip(tops, reranked)).map { ranking, pair in
            let (top, r) = pair
            return (ranking.queryId, zip(r.order, r.scores).map { (top[$0], $1) })
        }
    }

    /// `activation(logit)` in Double.
    public func score(logit: Float) -> Double {
        switch activation {
        case .sigmoid: 1 / (1 + Foundation.exp(-Double(logit)))
        case .identity: Double(logit)
        }
    }
}
