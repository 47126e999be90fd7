/// k-nearest-neighbour search over stored vectors: what training's evaluation and mining need of
/// an index, whether exact (`ExactSearch`, here, BLAS only) or FAISS's (`FaissIndex` conforms in
/// DensekitIndex). Modules below the index (Training) program against this protocol.
public protocol VectorSearch {
    /// The vectors' dimension.
    var dimension: Int { get }
    /// How many vectors are stored.
    var count: Int { get }
    /// For `count` query vectors (`count * dimension` floats), the `k` best stored vectors each:
    /// `k` scores and `k` ids per query, best first; ids are -1 past the stored count. Scores are
    /// inner products (higher is better) or squared L2 distances (lower is better).
    func search(_ queries: UnsafePointer<Float>, count: Int, k: Int) throws -> (scores: [Float], ids: [Int64])
}
