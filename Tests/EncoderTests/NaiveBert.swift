import DensekitEncoder
import Foundation

/// A deliberately plain BERT forward pass in Double, one padded batch with an attention mask,
/// written straight from the formulas: the oracle the optimised, packed encoder is checked against.
enum NaiveBert {
    static func forward(parameters p: BertParameters, sequences: [[Int]], types: [[Int]]) -> [[[Double]]] {
        let c = p.layout.configuration
        let h = c.hiddenSize, d = c.headSize
        let padded = sequences.map(\.count).max() ?? 0
        func w(_ offset: Int, _ index: Int) -> Double { Double(p.values[offset + index]) }
        func linear(_ x: [Double], weight: Int, bias: Int, out: Int) -> [Double] {
            (0..<out).map { o in (0..<x.count).reduce(w(bias, o)) { $0 + x[$1] * w(weight, o * x.count + $1) } }
        }
        func layerNorm(_ x: [Double], gamma: Int, beta: Int) -> [Double] {
            let mean = x.reduce(0, +) / Double(x.count)
            let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count)
            return x.indices.map { (x[$0] - mean) / (variance + Double(c.layerNormEpsilon)).squareRoot() * w(gamma, $0) + w(beta, $0) }
        }
        var results: [[[Double]]] = []
        for (s, ids) in sequences.enumerated() {
            // Pad to the batch's longest sequence with [PAD] = 0, masked out of attention.
            let mask = (0..<padded).map { $0 < ids.count }
            let tokens = ids + [Int](repeating: 0, count: padded - ids.count)
            let tokenTypes = types[s] + [Int](repeating: 0, count: padded - ids.count)
            var x = (0..<padded).map { t in
                layerNorm((0..<h).map { j in
                    w(p.layout.wordEmbeddings, tokens[t] * h + j) + w(p.layout.positionEmbeddings, t * h + j)
                        + w(p.layout.tokenTypeEmbeddings, tokenTypes[t] * h + j)
                }, gamma: p.layout.embeddingNormGamma, beta: p.layout.embeddingNormBeta)
            }
            for l in p.layout.layers {
                let qkv = x.map { linear($0, weight: l.qkvWeight, bias: l.qkvBias, out: 3 * h) }
                var context = [[Double]](repeating: [Double](repeating: 0, count: h), count: padded)
                for head in 0..<c.headCount {
                    for i in 0..<padded {
                        var scores = (0..<padded).map { j -> Double in
                            let dot = (0..<d).reduce(0.0) { $0 + qkv[i][head * d + $1] * qkv[j][h + head * d + $1] }
                            // HF adds the float minimum to masked scores; exp then gives exactly 0.
                            return mask[j] ? dot / Double(d).squareRoot() : -1e300
                        }
                        let m = scores.max()!
                        scores = scores.map { Foundation.exp($0 - m) }
                        let total = scores.reduce(0, +)
                        for k in 0..<d {
                            context[i][head * d + k] = (0..<padded).reduce(0.0) { $0 + scores[$1] / total * qkv[$1][2 * h + head * d + k] }
                        }
                    }
                }
                let attention = (0..<padded).map { t in
                    let projected = linear(context[t], weight: l.attentionOutputWeight, bias: l.attentionOutputBias, out: h)
                    return layerNorm(zip(projected, x[t]).map(+), gamma: l.attentionNormGamma, beta: l.attentionNormBeta)
                }
                x = attention.map { a in
                    let inner = linear(a, weight: l.intermediateWeight, bias: l.intermediateBias, out: c.intermediateSize)
                        .map { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) }
                    let out = linear(inner, weight: l.outputWeight, bias: l.outputBias, out: h)
                    return layerNorm(zip(out, a).map(+), gamma: l.outputNormGamma, beta: l.outputNormBeta)
                }
            }
            results.append(Array(x[0..<ids.count]))
        }
        return results
    }
}
