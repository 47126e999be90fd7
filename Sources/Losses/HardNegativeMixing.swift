import DensekitTensor

/// Hard-negative mixing (MoCHi; Kalantidis et al., "Hard Negative Mixing for Contrastive
/// Learning", NeurIPS 2020): synthetic negatives for each query, made from its hardest real ones.
///
/// For query `i` with embedding `q` (the vector the similarity compares: unit length under
/// cosine), let `n_1 .. n_N` be the `hardest` candidates with the highest scores among *its own*
/// negatives: every candidate not in `positives[i]`, in-batch or mined; never a known positive of
/// `i`, never a candidate chosen for another query. Then, drawing with replacement,
///
///     h_k  = normalize(a n_u + (1 - a) n_v),   a ~ U(0, 1),    u, v ~ U{1..N}   (`negatives` of them)
///     h'_k = normalize(b q + (1 - b) n_v),     b ~ U(0, 0.5),  v ~ U{1..N}      (`query` of them)
///
/// and each synthetic adds one logit `scale * q . h` to row `i` alone: one more negative in that
/// row's denominator, whatever the loss (InfoNCE, DCL, decoupled softmax; the passage-to-query
/// term of symmetric InfoNCE is left as it is). The synthetic vectors are constants, as MoCHi's
/// (its mixed features are detached): the gradient reaches `q` through the extra logits, but
/// nothing flows back through `h` into `n_u`, `n_v` or `q`.
///
/// `hardest == 0` (the default), or no synthetic asked for, turns mixing off and the loss is
/// exactly the plain one. MoCHi draws from a MoCo queue of past keys; here the pool is the
/// batch's candidates, which plays the same part in a batch-negative setting. Under the dot
/// product the mix is of the raw embeddings and the synthetics are still unit vectors, as in the
/// paper (which works on the sphere only).
public struct HardNegativeMixing: Codable, Sendable, Equatable {
    /// `N`: how many of a query's highest-scoring negatives are mixed.
    public var hardest: Int
    /// Synthetics mixing two hard negatives, per query.
    public var negatives: Int
    /// Synthetics mixing the query itself into a hard negative (harder ones), per query.
    public var query: Int

    /// Mixing off by default.
    public init(hardest: Int = 0, negatives: Int = 0, query: Int = 0) {
        self.hardest = hardest
        self.negatives = negatives
        self.query = query
    }

    /// Whether any synthetic is made.
    public var isActive: Bool { hardest > 0 && negatives + query > 0 }

    /// Synthetic logits added to each row.
    public var syntheticsPerQuery: Int { isActive ? negatives + query : 0 }

    /// Draws every query's synthetics from the batch's scaled scores `S [b, m]` and the vectors
    /// the similarity compares (`queries [b, d]`, `candidates [m, d]`). Per query, in order: for
    /// each pair mix `u`, `v`, `a`; then for each query mix `v`, `b`.
    public func draw(scores: ScoreMatrix, queries: UnsafePointer<Float>, candidates: UnsafePointer<Float>, dimension d: Int,
                     positives: PositiveSets, random: inout RandomSource) -> SyntheticNegatives {
        let perQuery = syntheticsPerQuery, b = scores.rows
        var synthetics = SyntheticNegatives(queries: b, perQuery: perQuery, dimension: d)
        guard perQuery > 0 else { return synthetics }
        for i in 0..<b {
            let pool = hardestNegatives(of: i, scores: scores, positives: positives)
            // A query whose every candidate is a positive has nothing to mix.
            guard !pool.isEmpty else { continue }
            var slot = 0
            for _ in 0..<negatives {
                let u = pool[Int.random(in: 0..<pool.count, using: &random)]
                let v = pool[Int.random(in: 0..<pool.count, using: &random)]
                let a = Float.random(in: 0..<1, using: &random)
                synthetics.set(query: i, slot: slot, source: .init(kind: .twoNegatives, first: u, second: v, weight: a),
                               mixing: candidates + u * d, candidates + v * d, weight: a)
                slot += 1
            }
            for _ in 0..<query {
                let v = pool[Int.random(in: 0..<pool.count, using: &random)]
                let beta = Float.random(in: 0..<0.5, using: &random)
                synthetics.set(query: i, slot: slot, source: .init(kind: .queryAndNegative, first: i, second: v, weight: beta),
                               mixing: queries + i * d, candidates + v * d, weight: beta)
                slot += 1
            }
        }
        return synthetics
    }

    /// Query `i`'s `hardest` negatives, highest score first (ties: lower column first).
    public func hardestNegatives(of i: Int, scores: ScoreMatrix, positives: PositiveSets) -> [Int] {
        let own = Set(positives[i])
        let row = scores.row(i)
        let negatives = (0..<scores.columns).filter { !own.contains($0) }
        return Array(negatives.sorted { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }.prefix(hardest))
    }
}

/// The synthetic negatives of one batch: `perQuery` unit vectors per query, each with where it
/// came from. A query with no real negative gets none (its slots stay empty).
public struct SyntheticNegatives: Sendable, Equatable {
    /// How one synthetic was made.
    public struct Source: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            /// `normalize(weight n_first + (1 - weight) n_second)`; both are candidate rows.
            case twoNegatives
            /// `normalize(weight q_first + (1 - weight) n_second)`: `first` is the query's own row.
            case queryAndNegative
        }
        public var kind: Kind
        public var first: Int
        public var second: Int
        public var weight: Float
    }

    public let queries: Int
    public let perQuery: Int
    public let dimension: Int
    /// `[queries * perQuery * dimension]`: synthetic `k` of query `i` at `(i * perQuery + k) * dimension`.
    public private(set) var vectors: [Float]
    /// `[queries * perQuery]`, nil for an empty slot.
    public private(set) var sources: [Source?]

    /// No synthetic at all (every slot empty).
    public init(queries: Int, perQuery: Int, dimension: Int) {
        self.queries = queries
        self.perQuery = perQuery
        self.dimension = dimension
        vectors = [Float](repeating: 0, count: queries * perQuery * dimension)
        sources = [Source?](repeating: nil, count: queries * perQuery)
    }

    /// Stores `normalize(weight x + (1 - weight) y)` as synthetic `slot` of `query`.
    mutating func set(query: Int, slot: Int, source: Source, mixing x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, weight: Float) {
        let d = dimension, index = query * perQuery + slot
        sources[index] = source
        vectors.withUnsafeMutableBufferPointer { buffer in
            let h = buffer.baseAddress! + index * d
            for j in 0..<d { h[j] = weight * x[j] + (1 - weight) * y[j] }
            let norm = RowKernels.dot(h, h, d).squareRoot()
            RowKernels.scale(h, by: 1 / Swift.max(norm, 1e-12), d)
        }
    }

    /// Whether slot `slot` of `query` holds a synthetic.
    public func isFilled(query: Int, slot: Int) -> Bool { sources[query * perQuery + slot] != nil }
}
