/// Validated positive lists: for each query, the candidate rows that are relevant to it.
///
/// `lists[i][0]` is *the* positive of query `i` for single-positive losses (InfoNCE, DCL); the
/// others are known positives (the same passage placed twice in a batch, other relevant pids
/// from the qrels), which every loss here keeps out of query `i`'s negatives. Every candidate not
/// listed for query `i` is one of its negatives: in-batch negatives and explicit hard negatives
/// are simply more candidate rows.
public struct PositiveSets: Sendable, Equatable {
    /// The lists as given, one per query.
    public let lists: [[Int]]
    /// Number of candidate rows the indices refer to.
    public let candidateCount: Int
    /// Length of the longest list (scratch size for losses that iterate over positives).
    public let maximumCount: Int

    /// Checks that every query has at least one positive, that every index is a candidate row,
    /// and that no list repeats an index.
    public init(_ lists: [[Int]], candidateCount: Int) throws(LossInputError) {
        if lists.isEmpty { throw .emptyBatch }
        // lastSeen[j] == i + 1 when query i has listed candidate j: one O(M) array instead of a
        // set per query.
        var lastSeen = [Int](repeating: 0, count: candidateCount)
        var longest = 0
        for (query, list) in lists.enumerated() {
            if list.isEmpty { throw .emptyPositives(query: query) }
            for index in list {
                guard index >= 0, index < candidateCount else {
                    throw .positiveOutOfRange(query: query, index: index, candidateCount: candidateCount)
                }
                if lastSeen[index] == query + 1 { throw .duplicatePositive(query: query, index: index) }
                lastSeen[index] = query + 1
            }
            longest = max(longest, list.count)
        }
        self.lists = lists
        self.candidateCount = candidateCount
        self.maximumCount = longest
    }

    /// The same lists over `count` candidates (at least `candidateCount`): the rows after
    /// `candidateCount` are negatives of every query (hard-negative mixing's synthetic columns).
    func withCandidateCount(_ count: Int) -> PositiveSets {
        precondition(count >= candidateCount, "candidates can only be added")
        return PositiveSets(lists: lists, candidateCount: count, maximumCount: maximumCount)
    }

    private init(lists: [[Int]], candidateCount: Int, maximumCount: Int) {
        self.lists = lists
        self.candidateCount = candidateCount
        self.maximumCount = maximumCount
    }

    /// Number of queries.
    public var queryCount: Int { lists.count }

    /// The positives of query `query`.
    public subscript(query: Int) -> [Int] { lists[query] }

    /// The target positive of query `query` (the first listed).
    public func target(of query: Int) -> Int { lists[query][0] }

    /// How many candidates are negatives of query `query`.
    public func negativeCount(of query: Int) -> Int { candidateCount - lists[query].count }

    /// For each candidate, the queries that list it as a positive, in compressed-row form:
    /// the queries listing candidate `j` are `queries[offsets[j]..<offsets[j + 1]]`, ascending.
    func listingQueries() -> (offsets: [Int], queries: [Int]) {
        var offsets = [Int](repeating: 0, count: candidateCount + 1)
        for list in lists { for j in list { offsets[j + 1] += 1 } }
        for j in 0..<candidateCount { offsets[j + 1] += offsets[j] }
        var next = offsets
        var queries = [Int](repeating: 0, count: offsets[candidateCount])
        for (query, list) in lists.enumerated() {
            for j in list {
                queries[next[j]] = query
                next[j] += 1
            }
        }
        return (offsets, queries)
    }
}
