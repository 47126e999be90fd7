import DensekitCorpus
import DensekitTensor
import Foundation

/// The training triples' sources: passages and queries by id, which passages are relevant to
/// which query, and optional mined hard negatives.
///
/// Passages are held in memory (text only; ~25 MB for 60k passages), since batches draw them
/// at random.
public struct TrainingData: Sendable {
    public var passages: [String: String]
    public var queries: [String: String]
    /// Relevant passage ids per query (relevance > 0), sorted for reproducible sampling.
    public var relevant: [String: [String]]
    /// Hard negatives per query, best first.
    public var negatives: [String: [String]]
    /// Training query ids: those with a text and at least one relevant passage in the collection, sorted.
    public var queryIds: [String]

    /// Training data from maps; queries without a text or without a relevant passage in the
    /// collection are dropped.
    public init(passages: [String: String], queries: [String: String], relevant: [String: [String]], negatives: [String: [String]] = [:]) {
        self.passages = passages
        self.queries = queries
        var kept: [String: [String]] = [:]
        for (qid, pids) in relevant {
            let present = pids.filter { passages[$0] != nil }.sorted()
            if !present.isEmpty, queries[qid] != nil { kept[qid] = present }
        }
        self.relevant = kept
        self.negatives = negatives
        queryIds = kept.keys.sorted()
    }

    /// Ids in the qrels and negatives that the collection or the queries do not have.
    public struct UnknownIds: Sendable, Equatable {
        public var judgments = 0, judgmentsWithUnknownQuery = 0, judgmentsWithUnknownPassage = 0
        public var negativeLists = 0, negativeListsWithUnknownQuery = 0, negativeIds = 0, unknownNegativeIds = 0

        /// What is unknown, in words; nil when everything is known.
        public var summary: String? {
            var parts: [String] = []
            if judgmentsWithUnknownQuery > 0 { parts.append("\(judgmentsWithUnknownQuery) of \(judgments) qrels lines name a query not in the queries file") }
            if judgmentsWithUnknownPassage > 0 { parts.append("\(judgmentsWithUnknownPassage) of \(judgments) qrels lines name a passage not in the collection") }
            if negativeListsWithUnknownQuery > 0 { parts.append("\(negativeListsWithUnknownQuery) of \(negativeLists) negatives lines name an unknown query") }
            if unknownNegativeIds > 0 { parts.append("\(unknownNegativeIds) of \(negativeIds) negative passage ids are not in the collection") }
            return parts.isEmpty ? nil : parts.joined(separator: "; ")
        }

        /// The largest unknown share of any of the four counts.
        public var worstShare: Double {
            [(judgmentsWithUnknownQuery, judgments), (judgmentsWithUnknownPassage, judgments),
             (negativeListsWithUnknownQuery, negativeLists), (unknownNegativeIds, negativeIds)]
                .map { $1 == 0 ? 0 : Double($0) / Double($1) }.max() ?? 0
        }
    }

    /// Unknown ids above this share of the qrels or negatives stop `load` (files of another
    /// split or corpus); below it they are counted and dropped.
    public static let unknownShareLimit = 0.05

    /// What `load` found unknown (the caller reports it).
    public var unknown = UnknownIds()

    /// Reads a collection, queries and qrels (any formats the corpus readers know), and
    /// optionally a negatives file, counting the ids they name that are unknown.
    ///
    /// - Throws: `TrainingDataError` when more than `unknownShareLimit` of the qrels or the
    ///   negatives name unknown ids, unless `allowUnknown`.
    public static func load(collection: String, queries: String, qrels: String, negatives: String?, allowUnknown: Bool = false) throws -> TrainingData {
        var passages: [String: String] = [:]
        let passageReader = try PassageReader(path: collection)
        while let (_, passage) = try passageReader.nextRecord() { passages[passage.id] = passage.text }
        var queryTexts: [String: String] = [:]
        let queryReader = try QueryReader(path: queries)
        while let (_, query) = try queryReader.nextRecord() { queryTexts[query.id] = query.text }
        let judgments = try QrelsReader.read(path: qrels)
        let relevant = judgments.mapValues { docs in docs.filter { $0.value > 0 }.map(\.key) }
        var negativeLines: [String: Int] = [:]
        let negativeLists = try negatives.map { try readNegatives($0, lines: &negativeLines) } ?? [:]

        var unknown = UnknownIds()
        for (qid, docs) in judgments {
            unknown.judgments += docs.count
            if queryTexts[qid] == nil { unknown.judgmentsWithUnknownQuery += docs.count }
            unknown.judgmentsWithUnknownPassage += docs.keys.filter { passages[$0] == nil }.count
        }
        for (qid, pids) in negativeLists {
            unknown.negativeLists += 1
            if queryTexts[qid] == nil { unknown.negativeListsWithUnknownQuery += 1 }
            unknown.negativeIds += pids.count
            unknown.unknownNegativeIds += pids.filter { passages[$0] == nil }.count
        }
        // A negatives file is made for one collection and query set: any id it names that they
        // lack is a mistake, reported where it is.
        if let negatives, !allowUnknown {
            for (qid, line) in negativeLines.sorted(by: { $0.value < $1.value }) {
                if queryTexts[qid] == nil { throw CorpusError(path: negatives, line: line, reason: "query '\(qid)' is not in \(queries) (--skip-bad-lines to skip unknown ids)") }
                if let pid = negativeLists[qid]?.first(where: { passages[$0] == nil }) {
                    throw CorpusError(path: negatives, line: line, reason: "passage '\(pid)' is not in \(collection) (--skip-bad-lines to skip unknown ids)")
                }
            }
        }
        if unknown.worstShare > unknownShareLimit && !allowUnknown, let summary = unknown.summary {
            throw TrainingDataError(message: "\(qrels)\(negatives.map { ", \($0)" } ?? ""): \(summary) (more than \(Int(unknownShareLimit * 100))%: files of another split or collection?); pass --skip-bad-lines to train on the known ids")
        }
        var data = TrainingData(passages: passages, queries: queryTexts, relevant: relevant, negatives: negativeLists)
        data.unknown = unknown
        return data
    }

    /// Reads a hard-negatives file: one query per line, `qid<TAB>pid,pid,...`, best first.
    ///
    /// - Throws: `CorpusError` with the line for a line without a tab.
    public static func readNegatives(_ path: String) throws -> [String: [String]] {
        var lines: [String: Int] = [:]
        return try readNegatives(path, lines: &lines)
    }

    /// As `readNegatives(_:)`, also giving the first line of each query.
    static func readNegatives(_ path: String, lines: inout [String: Int]) throws -> [String: [String]] {
        let reader = try LineReader(path: path)
        var negatives: [String: [String]] = [:]
        while let line = try reader.nextLine() {
            guard !line.text.isEmpty else { continue }
            let (qid, list) = try TextFile.splitIdText(line.text, path: path, line: line.number)
            if lines[qid] == nil { lines[qid] = line.number }
            negatives[qid, default: []].append(contentsOf: list.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
        return negatives
    }
}

/// Training files that do not fit together.
public struct TrainingDataError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// One batch: query texts, candidate texts, and for each query the candidates relevant to it.
public struct TrainingBatch: Sendable, Equatable {
    public var queryIds: [String]
    public var queries: [String]
    public var candidateIds: [String]
    public var candidates: [String]
    /// For query `i`: its target candidate first, then every other candidate that is a known
    /// positive of it (another relevant pid, or the same text under another id).
    public var positives: [[Int]]
}

/// Draws batches: epochs over the training queries in a seeded random order; per query a
/// random relevant passage and `negativesPerQuery` random hard negatives from its list.
public struct BatchSampler: Codable, Sendable, Equatable {
    public let batchSize: Int
    public let negativesPerQuery: Int
    public private(set) var random: RandomSource
    public private(set) var epoch = 0
    public private(set) var position = 0
    private var order: [Int] = []
    /// The generator of the step's other draws (hard-negative mixing's synthetics), kept here
    /// so that a checkpoint holds every random state of a run. Optional in the file: checkpoints
    /// written before mixing existed have none and start one from the batch generator's state.
    private var mixingState: RandomSource?

    /// A sampler at the start of its first epoch.
    public init(batchSize: Int, negativesPerQuery: Int, seed: UInt64) {
        self.batchSize = batchSize
        self.negativesPerQuery = negativesPerQuery
        random = RandomSource(seed: seed)
        mixingState = Self.mixingStart(seed)
    }

    /// Its own stream, so that turning mixing on does not change which batches are drawn.
    private static func mixingStart(_ seed: UInt64) -> RandomSource { RandomSource(seed: seed ^ 0x4D6F_4348_694D_6978) }

    /// The generator hard-negative mixing draws from.
    public var mixingRandom: RandomSource {
        get { mixingState ?? Self.mixingStart(random.state) }
        set { mixingState = newValue }
    }

    /// Batches per epoch (the last partial batch of an epoch is dropped, as sentence-transformers does).
    public func stepsPerEpoch(_ data: TrainingData) -> Int { max(1, data.queryIds.count / batchSize) }

    /// The next batch; a new epoch (new order) starts when fewer than `batchSize` queries remain.
    public mutating func next(_ data: TrainingData) -> TrainingBatch {
        precondition(!data.queryIds.isEmpty, "no training queries")
        if order.isEmpty || position + batchSize > order.count {
            if !order.isEmpty { epoch += 1 }
            order = Array(0..<data.queryIds.count)
            order.shuffle(using: &random)
            position = 0
        }
        let chosen = order[position..<min(position + batchSize, order.count)].map { data.queryIds[$0] }
        position += batchSize

        var candidateIds: [String] = []
        var indexOfId: [String: Int] = [:]
        func candidate(_ pid: String) -> Int {
            if let index = indexOfId[pid] { return index }
            indexOfId[pid] = candidateIds.count
            candidateIds.append(pid)
            return candidateIds.count - 1
        }
        var targets: [Int] = []
        for qid in chosen {
            let relevant = data.relevant[qid] ?? []
            targets.append(candidate(relevant[Int.random(in: 0..<relevant.count, using: &random)]))
        }
        for qid in chosen where negativesPerQuery > 0 {
            let relevant = Set(data.relevant[qid] ?? [])
            let pool = (data.negatives[qid] ?? []).filter { !relevant.contains($0) && data.passages[$0] != nil }
            for pid in pool.shuffled(using: &random).prefix(negativesPerQuery) { _ = candidate(pid) }
        }
        let texts = candidateIds.map { data.passages[$0] ?? "" }
        // Known positives: relevant ids, and identical texts (the same passage stored twice).
        var indicesOfText: [String: [Int]] = [:]
        for (index, text) in texts.enumerated() { indicesOfText[text, default: []].append(index) }
        let positives = zip(chosen, targets).map { qid, target -> [Int] in
            let relevant = Set(data.relevant[qid] ?? [])
            var list = [target]
            for (index, pid) in candidateIds.enumerated() where index != target {
                if relevant.contains(pid) || texts[index] == texts[target] { list.append(index) }
            }
            return list
        }
        return TrainingBatch(queryIds: chosen, queries: chosen.map { data.queries[$0] ?? "" },
                             candidateIds: candidateIds, candidates: texts, positives: positives)
    }
}
