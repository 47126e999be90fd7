/// Everything `AdamW` accumulates, for checkpoints: the step count and both moment vectors.
///
/// Codable for small models and tests; for a real encoder (tens of millions of floats) write the
/// two moment vectors as raw float32 tensors (e.g. with the encoder's safetensors writer, as
/// `optimizer.m` and `optimizer.v`) and the step next to them, then rebuild with `init(step:...)`.
public struct AdamWState: Sendable, Codable, Equatable {
    /// Updates made so far.
    public var step: Int
    /// Running mean of gradients, one per parameter.
    public var firstMoment: [Float]
    /// Running mean of squared gradients, one per parameter.
    public var secondMoment: [Float]

    /// Creates a state from its parts; `AdamW.init(state:)` checks that they fit together.
    public init(step: Int, firstMoment: [Float], secondMoment: [Float]) {
        self.step = step
        self.firstMoment = firstMoment
        self.secondMoment = secondMoment
    }
}

/// Why an optimizer could not be built.
public enum OptimizerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A hyperparameter is out of its valid range.
    case invalidHyperparameter(String)
    /// A no-weight-decay range reaches outside the parameter vector.
    case rangeOutOfBounds(Range<Int>, parameterCount: Int)
    /// A saved state is inconsistent (negative step, moments of different lengths).
    case stateMismatch(String)

    /// A one-line explanation of what is wrong.
    public var description: String {
        switch self {
        case .invalidHyperparameter(let message): message
        case .rangeOutOfBounds(let range, let count): "no-decay range \(range) is outside 0..<\(count)"
        case .stateMismatch(let message): "inconsistent optimizer state: \(message)"
        }
    }
}
