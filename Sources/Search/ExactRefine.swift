import DensekitIndex
import DensekitStore
import DensekitTensor

/// Exact re-scoring of a compressed index's candidates with the vectors in the store (FAISS's
/// IndexRefineFlat, without a second copy of the vectors in memory): the index's best
/// `factor` x k candidates of each query are scored again,
///   inner product: s = q . v,   L2: s = |q - v|^2,
/// with v the stored (uncompressed) vector, and the k best kept, best first. A PQ index's
/// approximate scores cap its recall (codes of near neighbours collide); this lifts the cap at
/// the cost of reading factor x k vectors per query from LMDB (memory-mapped, so the pages a
/// search touches stay in the page cache and count in no process's heap).
public struct ExactRefine {
    public let store: EmbeddingStore
    public let index: FaissIndex

    public init(store: EmbeddingStore, index: FaissIndex) {
        self.store = store
        self.index = index
    }

    /// Largest `factor` accepted (FAISS's own k_factor has no bound; this keeps a typo from
    /// reading the whole store).
    public static let maximumFactor = 1_000

    /// The `k` best of the index's `factor` x k candidates for each of `count` queries, rescored
    /// exactly: scores and internal ids as `FaissIndex.search` returns them (-1 past the end).
    public func refine(_ queries: UnsafePointer<Float>, count: Int, k: Int, factor: Int,
                       knobs: SearchKnobs = SearchKnobs()) throws -> (scores: [Float], ids: [Int64]) {
        guard (1...Self.maximumFactor).contains(factor) else {
            throw IndexError.invalid("--refine must be between 1 and \(Self.maximumFactor), not \(factor)")
        }
        let depth = min(k * factor, FaissIndex.maximumK)
        let candidates = try index.search(queries, count: count, k: depth, knobs: knobs).ids
        let dimension = index.dimension
        let higherIsBetter = index.metric != .l2
        var scores = [Float](repeating: higherIsBetter ? -.infinity : .infinity, count: count * k)
        var ids = [Int64](repeating: -1, count: count * k)
        var stored = [Float](repeating: 0, count: depth * dimension)
        for q in 0..<count {
            let found = candidates[(q * depth)..<((q + 1) * depth)].filter { $0 >= 0 }.map(Int.init)
            try stored.withUnsafeMutableBufferPointer { try store.readVectors(internalIds: found, dimension: dimension, into: $0.baseAddress!) }
            let query = queries + q * dimension
            var scored: [(score: Float, id: Int)] = stored.withUnsafeBufferPointer { buffer in
                found.enumerated().map { row, id in
                    let v = buffer.baseAddress! + row * dimension
                    if higherIsBetter { return (RowKernels.dot(query, v, dimension), id) }
                    var s: Float = 0
                    for j in 0..<dimension { let t = query[j] - v[j]; s += t * t }
                    return (s, id)
                }
            }
            // Best first; ties keep the index's order (a stable sort on the candidates' order).
            scored = scored.enumerated().sorted { a, b in
                a.element.score == b.element.score ? a.offset < b.offset
                    : (higherIsBetter ? a.element.score > b.element.score : a.element.score < b.element.score)
            }.map(\.element)
            for (r, hit) in scored.prefix(k).enumerated() {
                scores[q * k + r] = hit.score
                ids[q * k + r] = Int64(hit.id)
            }
        }
        return (scores, ids)
    }
}
