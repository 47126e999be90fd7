/// How a contrastive loss scores a query against a candidate: `s_ij = scale * sim(q_i, p_j)`.
///
/// `scale` is the inverse temperature. sentence-transformers' MultipleNegativesRankingLoss uses
/// cosine with scale 20 (temperature 0.05), DEXML cosine over tau 0.05, Tevatron the dot product
/// divided by its temperature: `.dot(scale: 1 / temperature)`.
public enum Similarity: Sendable, Hashable {
    /// `scale * cos(q, p)`. The loss normalises the embeddings itself (as
    /// `torch.nn.functional.normalize`, norm floored at 1e-12) and back-propagates through that
    /// normalisation, so the encoder's raw pooled outputs can be passed in directly.
    case cosine(scale: Float = 20)
    /// `scale * (q . p)` on the embeddings as given.
    case dot(scale: Float = 1)

    /// The inverse temperature multiplying every score.
    public var scale: Float {
        switch self {
        case .cosine(let scale), .dot(let scale): scale
        }
    }

    /// Whether embeddings are L2-normalised before the product.
    public var normalizes: Bool {
        if case .cosine = self { return true }
        return false
    }
}
