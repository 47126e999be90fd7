import DensekitTensor

/// One cross-encoder batch: per query a group of candidates, its positive first.
public struct GroupBatch: Sendable, Equatable {
    public var queryIds: [String]
    public var queries: [String]
    /// `groups[i]`: passage ids for query `i`, the positive first, then its negatives.
    public var groups: [[String]]
}

/// Draws cross-encoder batches the way Tevatron's reranker and AR2's ranker do: epochs over the
/// training queries in a seeded random order; per query a random relevant passage and
/// `groupSize - 1` negatives drawn without replacement from its mined list (relevant passages
/// and passages missing from the collection left out). A list shorter than that is drawn from
/// with replacement (Tevatron's `random.choices`); a query with no usable negative gets random
/// passages of the collection that are not relevant to it.
public struct GroupSampler: Codable, Sendable, Equatable {
    public let batchSize: Int
    public let groupSize: Int
    public private(set) var random: RandomSource
    public private(set) var epoch = 0
    public private(set) var position = 0
    private var order: [Int] = []

    /// A sampler at the start of its first epoch.
    public init(batchSize: Int, groupSize: Int, seed: UInt64) {
        self.batchSize = batchSize
        self.groupSize = groupSize
        random = RandomSource(seed: seed)
    }

    /// The next batch; a new epoch (new order) starts when fewer than `batchSize` queries remain.
    ///
    /// - Parameter passageIds: every passage id of `data`, sorted (the fallback pool; sorted so
    ///   the draw does not depend on dictionary order).
    public mutating func next(_ data: TrainingData, passageIds: [String]) -> GroupBatch {
        precondition(!data.queryIds.isEmpty, "no training queries")
        let size = min(batchSize, data.queryIds.count)
        if order.isEmpty || position + size > order.count {
            if !order.isEmpty { epoch += 1 }
            order = Array(0..<data.queryIds.count)
            order.shuffle(using: &random)
            position = 0
        }
        let chosen = order[position..<(position + size)].map { data.queryIds[$0] }
        position += size
        var groups: [[String]] = []
        for qid in chosen {
            let relevant = data.relevant[qid] ?? []
            var group = [relevant[Int.random(in: 0..<relevant.count, using: &random)]]
            let excluded = Set(relevant)
            let pool = (data.negatives[qid] ?? []).filter { !excluded.contains($0) && data.passages[$0] != nil }
            let wanted = groupSize - 1
            if pool.count >= wanted {
                group += pool.shuffled(using: &random).prefix(wanted)
            } else if !pool.isEmpty {
                group += (0..<wanted).map { _ in pool[Int.random(in: 0..<pool.count, using: &random)] }
            } else {
                while group.count < groupSize, passageIds.count > excluded.count {
                    let pid = passageIds[Int.random(in: 0..<passageIds.count, using: &random)]
                    if !excluded.contains(pid) { group.append(pid) }
                }
            }
            groups.append(group)
        }
        return GroupBatch(queryIds: chosen, queries: chosen.map { data.queries[$0] ?? "" }, groups: groups)
    }
}
