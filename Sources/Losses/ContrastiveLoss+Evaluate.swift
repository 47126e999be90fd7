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
        return EmbeddingScores.evaluate(self, queries: q, candidates: p, dimension: dimension, positives: sets)
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
    static func evaluate<Loss: ContrastiveLoss>(
        _ loss: Loss, queries: UnsafePointer<Float>, candidates: UnsafePointer<Float>,
        dimension d: Int, positives: PositiveSets
    ) -> LossOutput {
        let b = positives.queryCount, m = positives.candidateCount
        let scale = loss.similarity.scale

        // Cosine works on normalised copies; the dot product reads the inputs in place.
        let queryRows = NormalizedRows(loss.similarity.normalizes ? queries : nil, rows: b, width: d)
        let candidateRows = NormalizedRows(loss.similarity.normalizes ? candidates : nil, rows: m, width: d)
        let scoreBuffer = FloatBuffer(capacity: b * m)
        // The raw pointers below borrow these objects' storage: keep them alive to the end.
        return withExtendedLifetime((queryRows, candidateRows, scoreBuffer)) {
            let qn = queryRows.map { UnsafePointer($0.values.pointer) } ?? queries
            let pn = candidateRows.map { UnsafePointer($0.values.pointer) } ?? candidates
            let s = scoreBuffer.pointer
            BLAS.gemm(.none, .transpose, m: b, n: m, k: d, alpha: scale, a: qn, lda: d, b: pn, ldb: d, c: s, ldc: m)
            let finite = allFinite(s, count: b * m)

            let total = loss.lossAndGradient(
                overwriting: ScoreMatrix(values: s, rows: b, columns: m), positives: positives)

            // S = scale * Qn Pn^T and L = total / B, so dL/dQn = (scale / B) G Pn and
            // dL/dPn = (scale / B) G^T Qn, with G = d(total)/dS now held in `s`.
            let alpha = scale / Float(b)
            let queryGradient = [Float](unsafeUninitializedCapacity: b * d) { buffer, initialized in
                guard let out = buffer.baseAddress else { return }
                BLAS.gemm(.none, .none, m: b, n: d, k: m, alpha: alpha, a: s, lda: m, b: pn, ldb: d, c: out, ldc: d)
                queryRows?.backpropagate(out)
                initialized = b * d
            }
            let candidateGradient = [Float](unsafeUninitializedCapacity: m * d) { buffer, initialized in
                guard let out = buffer.baseAddress else { return }
                BLAS.gemm(.transpose, .none, m: m, n: d, k: b, alpha: alpha, a: s, lda: m, b: qn, ldb: d, c: out, ldc: d)
                candidateRows?.backpropagate(out)
                initialized = m * d
            }
            return LossOutput(
                value: finite ? Float(total / Double(b)) : .nan,
                queryGradient: queryGradient, candidateGradient: candidateGradient)
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
