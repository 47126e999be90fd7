import DensekitTensor
import Foundation

/// A direct double-precision transcription of each loss formula, independent of the production
/// code (no masked softmax, no GEMM, no analytic gradient): the oracle for values and the
/// function that finite differences are taken of.
enum ReferenceLoss {
    enum Kind: String, CaseIterable, CustomStringConvertible, Sendable {
        case infoNCE, symmetricInfoNCE, decoupledContrastive, decoupledSoftmax, softTopK
        var description: String { rawValue }
    }

    /// The soft top-k the tests use: k 2 of SmallBatch's 7 candidates, alpha 1.5.
    static let topK = 2, topKAlpha = 1.5

    /// `s_ij = scale * cos(q_i, p_j)` (norm floored at 1e-12 like torch's normalize) or `scale * q_i . p_j`.
    static func scores(_ q: [Double], _ p: [Double], dimension d: Int, cosine: Bool, scale: Double) -> [[Double]] {
        func row(_ x: [Double], _ r: Int) -> [Double] {
            let v = Array(x[(r * d)..<((r + 1) * d)])
            guard cosine else { return v }
            let norm = max(v.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
            return v.map { $0 / norm }
        }
        let b = q.count / d, m = p.count / d
        let qs = (0..<b).map { row(q, $0) }, ps = (0..<m).map { row(p, $0) }
        return qs.map { qi in ps.map { pj in scale * zip(qi, pj).reduce(0) { $0 + $1.0 * $1.1 } } }
    }

    static func logSumExp(_ xs: [Double]) -> Double {
        let top = xs.max() ?? -.infinity
        return top + log(xs.reduce(0) { $0 + exp($1 - top) })
    }

    /// With `synthetic`: per query, fixed vectors `h` whose scores `scale * q_i . h` (q_i
    /// normalised under cosine) are extra negatives of row `i` only (hard-negative mixing).
    static func loss(_ kind: Kind, q: [Double], p: [Double], dimension d: Int, positives: [[Int]],
                     cosine: Bool, scale: Double, synthetic: [[[Double]]] = []) -> Double {
        let s = scores(q, p, dimension: d, cosine: cosine, scale: scale)
        let b = positives.count, m = p.count / d
        let extra: [[Double]] = (0..<b).map { i in
            guard i < synthetic.count else { return [] }
            return synthetic[i].map { h in scores(Array(q[(i * d)..<((i + 1) * d)]), h, dimension: d, cosine: cosine, scale: scale)[0][0] }
        }
        // Under cosine `scores` normalises h too; synthetic vectors are unit already, so that is a no-op.
        var total = 0.0
        switch kind {
        case .infoNCE, .symmetricInfoNCE:
            var forward = 0.0
            for i in 0..<b {
                let t = positives[i][0]
                let kept = (0..<m).filter { $0 == t || !positives[i].contains($0) }
                forward += -s[i][t] + logSumExp(kept.map { s[i][$0] } + extra[i])
            }
            forward /= Double(b)
            guard kind == .symmetricInfoNCE else { return forward }
            var backward = 0.0
            for i in 0..<b {
                let t = positives[i][0]
                let kept = (0..<b).filter { $0 == i || !positives[$0].contains(t) }
                backward += -s[i][t] + logSumExp(kept.map { s[$0][t] })
            }
            return (forward + backward / Double(b)) / 2
        case .decoupledContrastive:
            for i in 0..<b {
                let t = positives[i][0]
                let negatives = (0..<m).filter { !positives[i].contains($0) }
                total += -s[i][t] + logSumExp(negatives.map { s[i][$0] } + extra[i])
            }
        case .softTopK:
            // t by plain bisection to full double precision (200 halvings), then the formula.
            return softTopKWithExtras(s: s, extra: extra, positives: positives)
        case .decoupledSoftmax:
            for i in 0..<b {
                let negatives = (0..<m).filter { !positives[i].contains($0) }
                let negativeSum = negatives.reduce(0) { $0 + exp(s[i][$1]) } + extra[i].reduce(0) { $0 + exp($1) }
                var inner = 0.0
                for j in positives[i] { inner += s[i][j] - log(exp(s[i][j]) + negativeSum) }
                total -= inner / Double(positives[i].count)
            }
        }
        return total / Double(b)
    }
}

extension ReferenceLoss {
    /// Soft top-k over each row's scores followed by its extra (synthetic) columns; the
    /// positives after the first `topK` are left out of their row.
    static func softTopKWithExtras(s: [[Double]], extra: [[Double]], positives: [[Int]]) -> Double {
        func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
        var total = 0.0
        for i in positives.indices {
            let targets = Array(positives[i].prefix(topK)), left = Set(positives[i].dropFirst(topK))
            let row = s[i].indices.filter { !left.contains($0) }.map { s[i][$0] } + extra[i]
            var lo = -200.0, hi = 200.0
            for _ in 0..<200 {
                let mid = (lo + hi) / 2
                if row.reduce(0.0, { $0 + sigmoid(topKAlpha * ($1 + mid)) }) < Double(topK) { lo = mid } else { hi = mid }
            }
            let t = (lo + hi) / 2
            total -= targets.reduce(0.0) { $0 + log(sigmoid(topKAlpha * (s[i][$1] + t))) } / Double(targets.count)
        }
        return total / Double(positives.count)
    }
}

/// densekit's seeded SplitMix64, so every test input is reproducible.
typealias SeededGenerator = RandomSource

extension RandomSource {
    /// Standard normal floats (Box-Muller).
    mutating func normals(_ count: Int) -> [Float] {
        (0..<count).map { _ in
            let u = Double.random(in: Double.ulpOfOne..<1, using: &self), v = Double.random(in: 0..<1, using: &self)
            return Float((-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
        }
    }
}
