import DensekitCorpus
import DensekitEncoder
import DensekitIndex
import DensekitTensor

/// Hard negatives for training (`--negatives`: lines `qid<TAB>pid,pid,...`, best first), with
/// sentence-transformers' `mine_hard_negatives` semantics:
///
/// 1. Candidates: a retriever's top `rangeMax` passages for the query (`Retriever`: dense, BM25
///    or hybrid), optionally rescored by a cross-encoder (`rescore`), which then decides the
///    order and the scores below.
/// 2. Never a known positive (relevance > 0 in the qrels), and never a passage whose text equals a
///    positive's (the same package described twice).
/// 3. The first `rangeMin` remaining candidates are skipped (the likeliest false negatives).
/// 4. Score filters, against the query's best-scoring positive: `absoluteMargin` keeps a
///    candidate only when `score <= positive - margin`; `relativeMargin` when
///    `score <= positive - |positive| * margin`; `maxScore` / `minScore` bound the score itself.
/// 5. `negativesPerQuery` are taken: the first ones (`top`) or a seeded random sample (`random`),
///    written best first either way.
public struct HardNegativeMiner: Sendable {
    public enum Sampling: String, Codable, Sendable, CaseIterable {
        case top, random
    }

    public struct Options: Codable, Sendable, Equatable {
        public var rangeMin = 0
        public var rangeMax = 30
        public var negativesPerQuery = 10
        public var sampling = Sampling.top
        public var seed: UInt64 = 42
        public var absoluteMargin: Float?
        public var relativeMargin: Float?
        public var maxScore: Float?
        public var minScore: Float?

        public init() {}

        /// Whether a filter needs the positives' scores.
        var needsPositiveScores: Bool { absoluteMargin != nil || relativeMargin != nil }
    }

    /// What mining did, for the report a user reads.
    public struct Statistics: Sendable, Equatable {
        /// Queries with a relevant passage in the qrels (the ones mined).
        public var queries = 0
        public var queriesWithNegatives = 0
        /// Queries whose candidates held a relevant passage.
        public var queriesWithPositiveFound = 0
        public var negatives = 0
        public var droppedAsPositive = 0, droppedAsPositiveText = 0, droppedByRangeMin = 0
        public var droppedByMargin = 0, droppedByMaxScore = 0, droppedByMinScore = 0, droppedBySampling = 0
        /// Sums over the kept negatives (1-based candidate rank, score), for means.
        public var rankSum = 0, scoreSum = 0.0

        public var meanRank: Double { negatives == 0 ? 0 : Double(rankSum) / Double(negatives) }
        public var meanScore: Double { negatives == 0 ? 0 : scoreSum / Double(negatives) }
    }

    /// What mining found.
    public struct Result: Sendable {
        /// Per query with at least one negative, in query order: its id and negatives, best first.
        public var negatives: [(queryId: String, passageIds: [String])]
        public var statistics: Statistics
        public var queryCount: Int { statistics.queries }
        public var queriesWithPositiveFound: Int { statistics.queriesWithPositiveFound }
        public var negativeCount: Int { statistics.negatives }
    }

    /// Scores (query, passage) pairs with a cross-encoder, all of a chunk of queries in one call
    /// (length-sorted batches over every worker).
    public typealias Rescore = ([(query: String, passage: String)]) throws -> [Float]

    public var options: Options

    public init(options: Options) {
        self.options = options
    }

    /// The earlier interface: the top `depth`, `skip` skipped, `keep` kept.
    public init(depth: Int = 30, skip: Int = 0, keep: Int = 10) {
        var options = Options()
        options.rangeMax = depth
        options.rangeMin = skip
        options.negativesPerQuery = keep
        self.init(options: options)
    }

    /// Mines every query that has a relevant passage in `qrels`.
    ///
    /// - Parameters:
    ///   - text: a passage's text by id (for the positives' texts, which may not be retrieved).
    ///   - rescore: cross-encoder scores of (query, passage texts), replacing the retriever's.
    ///   - progress: called with the number of queries mined so far.
    public func mine(queries: [(id: String, text: String)], qrels: Qrels, retriever: some Retriever,
                     text: (String) throws -> String?, rescore: Rescore? = nil,
                     progress: (Int) -> Void = { _ in }) throws -> Result {
        let judged = queries.filter { qrels[$0.id]?.contains(where: { $0.value > 0 }) == true }
        var statistics = Statistics()
        statistics.queries = judged.count
        var negatives: [(queryId: String, passageIds: [String])] = []
        var random = RandomSource(seed: options.seed)
        let chunk = 256
        var start = 0
        while start < judged.count {
            let batch = Array(judged[start..<min(start + chunk, judged.count)])
            let hits = try retriever.search(batch.map(\.text), k: options.rangeMax, includeText: true, progress: { _ in })
            let positives = batch.map { query in (qrels[query.id] ?? [:]).filter { $0.value > 0 }.map(\.key).sorted() }
            var positiveScores: [[Float?]] = positives.map { _ in [] }
            if options.needsPositiveScores && rescore == nil {
                positiveScores = try retriever.scores(batch.map(\.text), passageIds: positives)
            }
            let positiveTexts = try positives.map { try $0.map { try text($0) ?? "" } }
            // Rescoring: every query's candidates, then its positives, scored in one call.
            var rescored: [Float] = []
            if let rescore {
                rescored = try rescore(batch.indices.flatMap { row in
                    (hits[row].map(\.text) + positiveTexts[row]).map { (query: batch[row].text, passage: $0) }
                })
            }
            var offset = 0
            for (row, query) in batch.enumerated() {
                let relevant = Set(positives[row])
                var candidates = hits[row]
                if candidates.contains(where: { relevant.contains($0.id) }) { statistics.queriesWithPositiveFound += 1 }
                var best = positiveScores[row].compactMap { $0 }.max()
                if rescore != nil {
                    let scores = rescored[offset..<(offset + candidates.count + positiveTexts[row].count)]
                    offset += scores.count
                    for i in candidates.indices { candidates[i].score = scores[scores.startIndex + i] }
                    candidates.sort { $0.score > $1.score }
                    best = scores.dropFirst(candidates.count).max()
                }
                let picked = pick(from: candidates, relevant: relevant, positiveTexts: Set(positiveTexts[row]), bestPositive: best,
                                  statistics: &statistics, random: &random)
                if !picked.isEmpty {
                    negatives.append((query.id, picked))
                    statistics.queriesWithNegatives += 1
                }
            }
            start += batch.count
            progress(start)
        }
        return Result(negatives: negatives, statistics: statistics)
    }

    /// The negatives among one query's ranked hits (steps 2-5), best first; the positives'
    /// texts default to those of the relevant hits.
    public func negatives(from hits: [Hit], relevant: Set<String>, positiveTexts: Set<String>? = nil, bestPositive: Float? = nil) -> [String] {
        var statistics = Statistics()
        var random = RandomSource(seed: options.seed)
        return pick(from: hits, relevant: relevant, positiveTexts: positiveTexts ?? Set(hits.filter { relevant.contains($0.id) }.map(\.text)),
                    bestPositive: bestPositive, statistics: &statistics, random: &random)
    }

    /// Steps 2-5 on one query's ranked candidates; returns the negatives' ids, best first.
    func pick(from candidates: [Hit], relevant: Set<String>, positiveTexts: Set<String>, bestPositive: Float?,
              statistics: inout Statistics, random: inout RandomSource) -> [String] {
        var kept: [(rank: Int, hit: Hit)] = []
        var remaining = 0
        for (index, hit) in candidates.enumerated() {
            if relevant.contains(hit.id) { statistics.droppedAsPositive += 1; continue }
            if positiveTexts.contains(hit.text) { statistics.droppedAsPositiveText += 1; continue }
            remaining += 1
            if remaining <= options.rangeMin { statistics.droppedByRangeMin += 1; continue }
            if let bestPositive {
                if let margin = options.absoluteMargin, hit.score > bestPositive - margin { statistics.droppedByMargin += 1; continue }
                if let margin = options.relativeMargin, hit.score > bestPositive - abs(bestPositive) * margin { statistics.droppedByMargin += 1; continue }
            }
            if let maxScore = options.maxScore, hit.score > maxScore { statistics.droppedByMaxScore += 1; continue }
            if let minScore = options.minScore, hit.score < minScore { statistics.droppedByMinScore += 1; continue }
            kept.append((index + 1, hit))
        }
        var chosen = kept
        if kept.count > options.negativesPerQuery {
            switch options.sampling {
            case .top: chosen = Array(kept.prefix(options.negativesPerQuery))
            case .random:
                chosen = Array(kept.indices.shuffled(using: &random).prefix(options.negativesPerQuery)).sorted().map { kept[$0] }
            }
            statistics.droppedBySampling += kept.count - chosen.count
        }
        statistics.negatives += chosen.count
        statistics.rankSum += chosen.reduce(0) { $0 + $1.rank }
        statistics.scoreSum += chosen.reduce(0.0) { $0 + Double($1.hit.score) }
        return chosen.map(\.hit.id)
    }
}

extension HardNegativeMiner {
    /// Mines every judged query from an index folder with the retriever `kind` names (hybrid:
    /// reciprocal rank fusion over `rangeMax` candidates of each side), the passages' texts read
    /// from the folder's store.
    public func mine(queries: [(id: String, text: String)], qrels: Qrels, folder: IndexFolder, retriever kind: RetrieverKind,
                     rescore: Rescore? = nil, log: (String) -> Void = { _ in },
                     progress: (Int) -> Void = { _ in }) throws -> Result {
        let text: (String) throws -> String? = { id in
            try folder.store.internalId(of: id).flatMap { try folder.store.passages(internalIds: [$0])[0]?.text }
        }
        switch kind {
        case .dense:
            return try mine(queries: queries, qrels: qrels, retriever: try Searcher(folder: folder, log: log), text: text, rescore: rescore, progress: progress)
        case .bm25:
            return try mine(queries: queries, qrels: qrels, retriever: try LexicalSearcher(folder: folder, log: log), text: text, rescore: rescore, progress: progress)
        case .hybrid:
            let hybrid = HybridSearcher(dense: try Searcher(folder: folder, log: log), lexical: try LexicalSearcher(folder: folder, log: { _ in }),
                                        fusion: RankFusion(method: .rrf, depth: options.rangeMax))
            return try mine(queries: queries, qrels: qrels, retriever: hybrid, text: text, rescore: rescore, progress: progress)
        }
    }
}

extension CrossEncoder {
    /// This model as a miner's rescorer: its scores (`activation(logit)`) of every pair.
    public func rescorer(options: EncodeOptions = EncodeOptions()) -> HardNegativeMiner.Rescore {
        { pairs in self.scores(pairs, options: options).map(Float.init) }
    }
}
