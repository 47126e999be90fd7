/// Exact inner-product search: every query against every stored vector with BLAS, the top k kept.
///
/// Scores of a block of queries against a block of stored vectors are one GEMM
/// (`S = Q Xᵀ`); each query's best k are kept in a small sorted list. Ties go to the lower id,
/// so the result does not depend on blocking. What FAISS's Flat inner-product index computes,
/// without FAISS: training evaluates with it below the index module.
public final class ExactSearch: VectorSearch {
    public let dimension: Int
    private var vectors: [Float]
    private var ids: [Int64]

    /// An empty search over `dimension`-dimensional vectors.
    public init(dimension: Int) {
        precondition(dimension > 0, "ExactSearch: dimension must be positive")
        self.dimension = dimension
        vectors = []
        ids = []
    }

    public var count: Int { ids.count }

    /// Stores `count` vectors under `ids` (default: their positions).
    public func add(_ values: UnsafePointer<Float>, count: Int, ids newIds: [Int64]? = nil) {
        precondition(newIds == nil || newIds?.count == count, "ExactSearch.add: one id per vector")
        let first = Int64(ids.count)
        vectors.append(contentsOf: UnsafeBufferPointer(start: values, count: count * dimension))
        ids.append(contentsOf: newIds ?? (0..<Int64(count)).map { first + $0 })
    }

    public func search(_ queries: UnsafePointer<Float>, count queryCount: Int, k: Int) -> (scores: [Float], ids: [Int64]) {
        precondition(k > 0, "ExactSearch.search: k must be positive")
        var scores = [Float](repeating: -.infinity, count: queryCount * k)
        var found = [Int64](repeating: -1, count: queryCount * k)
        let n = ids.count, d = dimension
        guard n > 0, queryCount > 0 else { return (scores, found) }
        let queryBlock = 256, vectorBlock = 4096
        var block = [Float](repeating: 0, count: queryBlock * vectorBlock)
        vectors.withUnsafeBufferPointer { x in
            block.withUnsafeMutableBufferPointer { s in
                for q0 in stride(from: 0, to: queryCount, by: queryBlock) {
                    let qn = min(queryBlock, queryCount - q0)
                    for v0 in stride(from: 0, to: n, by: vectorBlock) {
                        let vn = min(vectorBlock, n - v0)
                        BLAS.gemm(.none, .transpose, m: qn, n: vn, k: d, a: queries + q0 * d, lda: d,
                                  b: x.baseAddress! + v0 * d, ldb: d, c: s.baseAddress!, ldc: vn)
                        for q in 0..<qn {
                            let row = s.baseAddress! + q * vn
                            let base = (q0 + q) * k
                            for j in 0..<vn { insert(row[j], position: v0 + j, into: &scores, &found, at: base, k: k) }
                        }
                    }
                }
            }
        }
        // Positions to ids.
        for i in found.indices where found[i] >= 0 { found[i] = ids[Int(found[i])] }
        return (scores, found)
    }

    /// Keeps the list `[base, base + k)` sorted best first (higher score, then lower position).
    @inline(__always)
    private func insert(_ score: Float, position: Int, into scores: inout [Float], _ found: inout [Int64], at base: Int, k: Int) {
        let last = base + k - 1
        guard score > scores[last] || (score == scores[last] && (found[last] < 0 || Int64(position) < found[last])) else { return }
        var i = last
        while i > base, score > scores[i - 1] || (score == scores[i - 1] && Int64(position) < found[i - 1]) {
            scores[i] = scores[i - 1]
            found[i] = found[i - 1]
            i -= 1
        }
        scores[i] = score
        found[i] = Int64(position)
    }
}
