/// What a contrastive loss returns: its value and its exact gradients with respect to the inputs.
///
/// Gradients are with respect to the embeddings as passed in (before any normalisation the
/// similarity applies), laid out like the inputs, so the encoder can back-propagate them directly.
public struct LossOutput: Sendable, Equatable {
    /// The loss, a mean over queries. NaN when any score was not finite (NaN or infinite
    /// embeddings), so that a trainer's NaN check fires instead of training on a clamped value.
    public var value: Float
    /// `dL/dQ`, row-major `[queryCount, dimension]`.
    public var queryGradient: [Float]
    /// `dL/dP`, row-major `[candidateCount, dimension]`.
    public var candidateGradient: [Float]

    /// Creates an output from its parts.
    public init(value: Float, queryGradient: [Float], candidateGradient: [Float]) {
        self.value = value
        self.queryGradient = queryGradient
        self.candidateGradient = candidateGradient
    }
}
