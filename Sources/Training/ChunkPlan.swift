/// How one step's sequences are cut into chunks (each run through one tower) and spread over
/// workers so that every worker gets the same work.
///
/// A batch's queries are a few tokens long and its passages a hundred or more, so equal
/// sequence counts are far from equal work. A sequence of `n` tokens costs about
/// `n * (1 + n / 6h)`: `24 h^2` FLOPs a token in the linear layers and `4 n h` in attention.
/// Sequences are dealt longest first to the cheapest chunk that still has room (LPT); chunk `c`
/// runs on worker `c % workers`. Each tower's sequences get a multiple of `workers` chunks, so
/// every worker gets the same share of every tower.
///
/// - Plain mode (`keepsActivations`) when the batch has at most `chunkSize` sequences per
///   worker: one chunk per worker and tower, activations kept from the first forward pass.
/// - GradCache otherwise: chunks of at most `chunkSize` sequences, recomputed in the backward pass.
///
/// The plan depends only on the lengths, so a step is reproducible bit for bit.
public struct ChunkPlan: Equatable, Sendable {
    /// The sequences of one chunk (indices into the step's queries-then-candidates) and its tower.
    public struct Chunk: Equatable, Sendable {
        public var members: [Int]
        public var tower: Int
    }

    public let chunks: [Chunk]
    /// Plain mode: activations are kept from the first forward pass (no GradCache).
    public let keepsActivations: Bool

    /// The plan for sequences of `lengths` tokens, queries first.
    public init(lengths: [Int], queryCount: Int, separateTowers: Bool, chunkSize: Int, workers: Int, hiddenSize: Int) {
        let workers = max(1, workers), chunkSize = max(1, chunkSize)
        keepsActivations = lengths.count <= chunkSize * workers
        let groups: [(Range<Int>, Int)] = separateTowers
            ? [(0..<queryCount, 0), (queryCount..<lengths.count, 1)]
            : [(0..<lengths.count, 0)]
        var chunks: [Chunk] = []
        for (range, tower) in groups where !range.isEmpty {
            let needed = keepsActivations ? 1 : (range.count + chunkSize - 1) / chunkSize
            let chunkCount = (needed + workers - 1) / workers * workers
            let capacity = keepsActivations ? range.count : chunkSize
            chunks += Self.deal(Array(range), lengths: lengths, into: chunkCount, capacity: capacity, hiddenSize: hiddenSize)
                .map { Chunk(members: $0, tower: tower) }
        }
        self.chunks = chunks
    }

    /// The estimated cost of a sequence of `tokens` tokens (see the type's comment).
    public static func cost(tokens: Int, hiddenSize: Int) -> Double {
        Double(tokens) * (1 + Double(tokens) / Double(6 * max(1, hiddenSize)))
    }

    /// Longest-processing-time-first: each sequence, costliest first, goes to the cheapest
    /// chunk with fewer than `capacity` members (ties to the lower index; members keep batch order).
    static func deal(_ sequences: [Int], lengths: [Int], into chunkCount: Int, capacity: Int, hiddenSize: Int) -> [[Int]] {
        let order = sequences.sorted { lengths[$0] != lengths[$1] ? lengths[$0] > lengths[$1] : $0 < $1 }
        var members = [[Int]](repeating: [], count: chunkCount)
        var load = [Double](repeating: 0, count: chunkCount)
        for sequence in order {
            var best = -1
            for c in 0..<chunkCount where members[c].count < capacity && (best < 0 || load[c] < load[best]) { best = c }
            members[best].append(sequence)
            load[best] += cost(tokens: lengths[sequence], hiddenSize: hiddenSize)
        }
        return members.map { $0.sorted() }
    }
}
