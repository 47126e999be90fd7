import DensekitTensor

extension ContrastiveLoss {
    /// Evaluates the loss on embedding matrices and returns its value (mean over queries) with
    /// `dL/dQ` and `dL/dP`.
    ///
    /// - Parameters:
    ///   - queries: `Q`, row-major `[B, dimension]`; `B` is `positives.count`.
    ///   - candidates: `P`, row-major `[M, dimension]`: positives, in-batch negatives and any hard
    ///     negatives, in any order.
    ///   - dimension: the embedding width `d`.
    ///   - positives: for each query, the candidate rows relevant to it; the first is its target.
    /// - Throws: `LossInputError` for shapes that do not match, empty or out-of-range positive
    ///   lists, and inputs the loss rejects in `validate(_:)`.
    public func callAsFunction(
        queries: UnsafeBufferPointer<Float>, candidates: UnsafeBufferPointer<Float>,
        dimension: Int, positives: [[Int]]
    ) throws(LossInputError) -> LossOutput {
        try evaluate(queries: queries, candidates: candidates, dimension: dimension, positives: positives, synthesize: nil).output
    }

    /// The loss with hard-negative mixing (`HardNegativeMixing`): each query's synthetic
    /// negatives are drawn from `random` once its scores are known, and returned with the output.
    /// With mixing off this is `callAsFunction(queries:candidates:dimension:positives:)`
    /// exactly, and `random` is not drawn from.
    public func callAsFunction(
        queries: UnsafeBufferPointer<Float>, candidates: UnsafeBufferPointer<Float>,
        dimension: Int, positives: [[Int]], mixing: HardNegativeMixing, random: inout RandomSource
    ) throws(LossInputError) -> (output: LossOutput, synthetics: SyntheticNegatives?) {
        guard mixing.isActive else {
            return (try self(queries: queries, candidates: candidates, dimension: dimension, positives: positives), nil)
        }
        var generator = random
        defer { random = generator }
        return try evaluate(queries: queries, candidates: candidates, dimension: dimension, positives: positives) { scores, q, p, sets in
            mixing.draw(scores: scores, queries: q, candidates: p, dimension: dimension, positives: sets, random: &generator)
        }
    }

    /// The loss with the given synthetic negatives held fixed (for checking the gradient with
    /// mixing on: the synthetics are constants of the step).
    public func callAsFunction(
        queries: [Float], candidates: [Float], dimension: Int, positives: [[Int]], synthetics: SyntheticNegatives
    ) throws(LossInputError) -> LossOutput {
        guard synthetics.queries == positives.count, synthetics.dimension == dimension else {
            throw .queryShapeMismatch(expected: positives.count * dimension, actual: synthetics.queries * synthetics.dimension)
        }
        let result: Result<LossOutput, LossInputError> = queries.withUnsafeBufferPointer { q in
            candidates.withUnsafeBufferPointer { p in
                Result { () throws(LossInputError) in
                    try evaluate(queries: q, candidates: p, dimension: dimension, positives: positives) { _, _, _, _ in synthetics }.output
                }
            }
        }
        return try result.get()
    }

    /// Checks the inputs, then `EmbeddingScores.evaluate`.
    private func evaluate(
        queries: UnsafeBufferPointer<Float>, candidates: UnsafeBufferPointer<Float>, dimension: Int, positives: [[Int]],
        synthesize: EmbeddingScores.Synthesize?
    ) throws(LossInputError) -> (output: LossOutput, synthetics: SyntheticNegatives?) {
        guard dimension > 0 else { throw .invalidDimension(dimension) }
        guard !positives.isEmpty else { throw .emptyBatch }
        let queryCount = positives.count
        guard queries.count == queryCount * dimension else {
            throw .queryShapeMismatch(expected: queryCount * dimension, actual: queries.count)
        }
        guard !candidates.isEmpty, candidates.count % dimension == 0 else {
            throw .candidateShapeMismatch(count: candidates.count, dimension: dimension)
        }
        guard similarity.scale.isFinite else { throw .invalidScale(similarity.scale) }
        let sets = try PositiveSets(positives, candidateCount: candidates.count / dimension)
        try validate(sets)
        guard let q = queries.baseAddress, let p = candidates.baseAddress else {
            // Unreachable: both buffers were checked to be non-empty.
            throw .emptyBatch
        }
        return EmbeddingScores.evaluate(self, queries: q, candidates: p, dimension: dimension, positives: sets, synthesize: synthesize)
    }

    /// `callAsFunction(queries:candidates:dimension:positives:)` on arrays.
    public func callAsFunction(
        queries: [Float], candidates: [Float], dimension: Int, positives: [[Int]]
    ) throws(LossInputError) -> LossOutput {
        // Typed errors do not pass through withUnsafeBufferPointer's closure, hence the Result.
        let result: Result<LossOutput, LossInputError> = queries.withUnsafeBufferPointer { q in
            candidates.withUnsafeBufferPointer { p in
                Result { () throws(LossInputError) in
                    try self(queries: q, candidates: p, dimension: dimension, positives: positives)
                }
            }
        }
        return try result.get()
    }
}

/// The part of a loss evaluation shared by every loss: scores from embeddings, gradients back.
enum EmbeddingScores {
    /// Makes a batch's synthetic negatives from its scaled scores, the compared query and
    /// candidate vectors, and the positives.
    typealias Synthesize = (ScoreMatrix, UnsafePointer<Float>, UnsafePointer<Float>, PositiveSets) -> SyntheticNegatives

    static func evaluate<Loss: ContrastiveLoss>(
        _ loss: Loss, queries: UnsafePointer<Float>, candidates: UnsafePointer<Float>,
        dimension d: Int, positives: PositiveSets, synthesize: Synthesize? = nil
    ) -> (output: LossOutput, synthetics: SyntheticNegatives?) {
        let b = positives.queryCount, m = positives.candidateCount
        let scale = loss.similarity.scale

        // Cosine works on normalised copies; the dot product reads the inputs in place.
        let queryRows = NormalizedRows(loss.similarity.normalizes ? queries : nil, rows: b, width: d)
        let candidateRows = NormalizedRows(loss.similarity.normalizes ? candidates : nil, rows: m, width: d)
        let qn = queryRows.map { UnsafePointer($0.values.pointer) } ?? queries
        let pn = candidateRows.map { UnsafePointer($0.values.pointer) } ?? candidates
        // S = scale * Qn Pn^T, with room for K synthetic columns per row when mixing: row i of
        // the [b, m + K] matrix is query i's m real scores, then its own K synthetic scores.
        let plain = FloatBuffer(capacity: b * m)
        BLAS.gemm(.none, .transpose, m: b, n: m, k: d, alpha: scale, a: qn, lda: d, b: pn, ldb: d, c: plain.pointer, ldc: m)
        let synthetics = synthesize?(ScoreMatrix(values: plain.pointer, rows: b, columns: m), qn, pn, positives)
        let k = synthetics?.perQuery ?? 0, columns = m + k
        let extended = k > 0 ? FloatBuffer(capacity: b * columns) : plain
        // The raw pointers below borrow these objects' storage: keep them alive to the end.
        return withExtendedLifetime((queryRows, candidateRows, plain, extended)) {
            let s = extended.pointer
            if let synthetics, k > 0 {
                synthetics.vectors.withUnsafeBufferPointer { h in
                    for i in 0..<b {
                        (s + i * columns).update(from: plain.pointer + i * m, count: m)
                        for slot in 0..<k {
                            // An empty slot (a query with no real negative) weighs e^-inf = 0.
                            s[i * columns + m + slot] = synthetics.isFilled(query: i, slot: slot)
                                ? scale * RowKernels.dot(qn + i * d, h.baseAddress! + (i * k + slot) * d, d) : -.infinity
                        }
                    }
                }
            }
            let finite = allFinite(plain.pointer, count: b * m)
            // The synthetic columns are more negatives of their own row: the positive lists are
            // unchanged, only the candidate count grows.
            let sets = k > 0 ? positives.withCandidateCount(columns) : positives
            let total = loss.lossAndGradient(overwriting: ScoreMatrix(values: s, rows: b, columns: columns), positives: sets)

            // S = scale * Qn Pn^T and L = total / B, so dL/dQn = (scale / B) G Pn and
            // dL/dPn = (scale / B) G^T Qn, with G = d(total)/dS now held in `s` (its first m
            // columns; leading dimension m + K). A synthetic column adds (scale / B) G_ik h_ik to
            // dL/dqn_i and nothing else: h is a constant.
            let alpha = scale / Float(b)
            let queryGradient = [Float](unsafeUninitializedCapacity: b * d) { buffer, initialized in
                guard let out = buffer.baseAddress else { return }
                BLAS.gemm(.none, .none, m: b, n: d, k: m, alpha: alpha, a: s, lda: columns, b: pn, ldb: d, c: out, ldc: d)
                if let synthetics, k > 0 {
                    synthetics.vectors.withUnsafeBufferPointer { h in
                        for i in 0..<b {
                            for slot in 0..<k where synthetics.isFilled(query: i, slot: slot) {
                                let weight = alpha * s[i * columns + m + slot], row = out + i * d, vector = h.baseAddress! + (i * k + slot) * d
                                for j in 0..<d { row[j] += weight * vector[j] }
                            }
                        }
                    }
                }
                queryRows?.backpropagate(out)
                initialized = b * d
            }
            let candidateGradient = [Float](unsafeUninitializedCapacity: m * d) { buffer, initialized in
                guard let out = buffer.baseAddress else { return }
                BLAS.gemm(.transpose, .none, m: m, n: d, k: b, alpha: alpha, a: s, lda: columns, b: qn, ldb: d, c: out, ldc: d)
                candidateRows?.backpropagate(out)
                initialized = m * d
            }
            let output = LossOutput(
                value: finite ? Float(total / Double(b)) : .nan,
                queryGradient: queryGradient, candidateGradient: candidateGradient)
            return (output, synthetics)
        }
    }

    /// Whether all `count` floats are finite. `x * 0` is 0 for finite `x` and NaN otherwise, and
    /// the compiler may not fold it away, so this is one vectorised pass with no branch.
    static func allFinite(_ x: UnsafePointer<Float>, count: Int) -> Bool {
        var acc = SIMD16<Float>(repeating: 0)
        var j = 0
        while j + 16 <= count {
            acc += UnsafeRawPointer(x + j).loadUnaligned(as: SIMD16<Float>.self) * 0
            j += 16
        }
        var tail: Float = 0
        while j < count { tail += x[j] * 0; j += 1 }
        return acc.sum() + tail == 0
    }
}
