import Foundation

/// Hyperparameters of `AdamW` other than the learning rate (which a `LearningRateSchedule`
/// supplies at every step).
///
/// Defaults are `torch.optim.AdamW`'s: betas (0.9, 0.999), eps 1e-8, weight decay 0.01. They are
/// also what sentence-transformers' `fit` used (`torch.optim.AdamW`, weight_decay 0.01) and, for
/// eps, what the Hugging Face Trainer uses (`adam_epsilon` 1e-8; its `weight_decay` defaults to 0).
/// eps 1e-6 was the default of the old `transformers.AdamW` class only, long deprecated; pass
/// `epsilon: 1e-6` to reproduce recipes written for it.
public struct AdamWConfiguration: Sendable, Codable, Equatable {
    /// Decay of the running mean of gradients.
    public var beta1: Float
    /// Decay of the running mean of squared gradients.
    public var beta2: Float
    /// Added to the denominator `sqrt(v_hat)`, so parameters with tiny gradients do not get
    /// huge steps.
    public var epsilon: Float
    /// Decoupled weight decay: each step multiplies the decayed parameters by `1 - lr * weightDecay`.
    public var weightDecay: Float

    /// Creates a configuration; see the type's documentation for the defaults.
    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    func validate() throws(OptimizerError) {
        guard beta1 >= 0, beta1 < 1 else { throw .invalidHyperparameter("beta1 must be in [0, 1), got \(beta1)") }
        guard beta2 >= 0, beta2 < 1 else { throw .invalidHyperparameter("beta2 must be in [0, 1), got \(beta2)") }
        guard epsilon >= 0, epsilon.isFinite else { throw .invalidHyperparameter("epsilon must be finite and >= 0, got \(epsilon)") }
        guard weightDecay >= 0, weightDecay.isFinite else {
            throw .invalidHyperparameter("weight decay must be finite and >= 0, got \(weightDecay)")
        }
    }
}

/// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization") over one flat parameter
/// vector, with `torch.optim.AdamW`'s update, step for step:
///
///     p  <- p * (1 - lr * weightDecay)               (skipped for ranges excluded from decay)
///     m  <- m + (1 - beta1) * (g - m)
///     v  <- beta2 * v + (1 - beta2) * g * g
///     p  <- p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + epsilon)
///
/// where `t` counts steps from 1. The decay is applied to the parameter directly, not added to
/// the gradient, which is what distinguishes AdamW from Adam with L2 regularisation.
///
/// The encoder keeps all its parameters in one flat vector, so the optimizer does too: one
/// first- and one second-moment vector of the same length, and `noWeightDecay` ranges for the
/// parameters Hugging Face and sentence-transformers do not decay (every bias and every
/// LayerNorm weight; the encoder's layout knows where they are).
///
/// Single-threaded and elementwise, so a run is bit-for-bit reproducible.
public struct AdamW: Sendable {
    /// The hyperparameters.
    public let configuration: AdamWConfiguration
    /// Length of the parameter vector.
    public let parameterCount: Int
    /// Ranges of parameter indices that are not decayed, sorted and merged.
    public let noWeightDecay: [Range<Int>]
    /// Number of updates made so far (`t` of the last update; 0 before the first).
    public private(set) var stepCount: Int
    private var firstMoment: [Float]
    private var secondMoment: [Float]

    /// A fresh optimizer (moments at zero) for `parameterCount` parameters.
    ///
    /// - Throws: `OptimizerError` for hyperparameters out of range or a no-decay range outside
    ///   `0..<parameterCount`.
    public init(
        parameterCount: Int, configuration: AdamWConfiguration = AdamWConfiguration(),
        noWeightDecay: [Range<Int>] = []
    ) throws(OptimizerError) {
        guard parameterCount >= 0 else { throw .invalidHyperparameter("parameter count must be >= 0, got \(parameterCount)") }
        try self.init(
            state: AdamWState(
                step: 0,
                firstMoment: [Float](repeating: 0, count: parameterCount),
                secondMoment: [Float](repeating: 0, count: parameterCount)),
            configuration: configuration, noWeightDecay: noWeightDecay)
    }

    /// An optimizer resuming from a checkpointed state; it continues exactly as the one that
    /// saved it would have (given the same configuration and no-decay ranges).
    public init(
        state: AdamWState, configuration: AdamWConfiguration = AdamWConfiguration(),
        noWeightDecay: [Range<Int>] = []
    ) throws(OptimizerError) {
        try configuration.validate()
        guard state.step >= 0, state.firstMoment.count == state.secondMoment.count else {
            throw .stateMismatch("step \(state.step), moments of \(state.firstMoment.count) and \(state.secondMoment.count) floats")
        }
        let count = state.firstMoment.count
        self.configuration = configuration
        self.parameterCount = count
        self.noWeightDecay = try AdamW.merged(noWeightDecay, parameterCount: count)
        self.stepCount = state.step
        self.firstMoment = state.firstMoment
        self.secondMoment = state.secondMoment
    }

    /// A copy of the moments and the step count, for a checkpoint.
    public func state() -> AdamWState {
        AdamWState(step: stepCount, firstMoment: firstMoment, secondMoment: secondMoment)
    }

    /// One update of `parameters` from `gradients` at learning rate `learningRate`.
    ///
    /// Both buffers must hold `parameterCount` floats (a mismatch is a programming error and
    /// stops the process). Clip the gradients first if wanted (`GradientClipping`); a trainer
    /// should skip the step, not call this, when the gradient norm is not finite, since one NaN
    /// gradient would poison the moments for good.
    public mutating func step(
        parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>, learningRate: Float
    ) {
        precondition(parameters.count == parameterCount && gradients.count == parameterCount,
                     "AdamW.step: \(parameters.count) parameters and \(gradients.count) gradients for an optimizer of \(parameterCount)")
        guard let p = parameters.baseAddress, let g = gradients.baseAddress else { stepCount += 1; return }
        stepCount += 1
        // Bias corrections in Double, as PyTorch computes them with Python floats.
        let t = Double(stepCount)
        let correction1 = 1 - Foundation.pow(Double(configuration.beta1), t)
        let correction2 = 1 - Foundation.pow(Double(configuration.beta2), t)
        let update = Update(
            beta1: configuration.beta1, beta2: configuration.beta2, epsilon: configuration.epsilon,
            stepSize: Float(Double(learningRate) / correction1),
            inverseCorrection2Root: Float(1 / correction2.squareRoot()))
        let decay = 1 - learningRate * configuration.weightDecay
        // Segments alternating decayed / not decayed.
        var segments: [(range: Range<Int>, decay: Float)] = []
        var start = 0
        for excluded in noWeightDecay {
            segments.append((start..<excluded.lowerBound, decay))
            segments.append((excluded, 1))
            start = excluded.upperBound
        }
        segments.append((start..<parameterCount, decay))
        // Each element's update is independent, so splitting the vector over the cores changes
        // no bit of the result; it is memory-bound (five streams), and one core alone does not
        // draw the machine's bandwidth. Parts of at least 1M parameters.
        let parts = max(1, min(ProcessInfo.processInfo.activeProcessorCount, parameterCount >> 20))
        let count = parameterCount, allSegments = segments
        firstMoment.withUnsafeMutableBufferPointer { mBuffer in
            secondMoment.withUnsafeMutableBufferPointer { vBuffer in
                guard let m = mBuffer.baseAddress, let v = vBuffer.baseAddress else { return }
                let buffers = UpdateBuffers(p: p, g: g, m: m, v: v)
                DispatchQueue.concurrentPerform(iterations: parts) { part in
                    let mine = (count * part / parts)..<(count * (part + 1) / parts)
                    for segment in allSegments where segment.range.overlaps(mine) {
                        update.apply(buffers.p, buffers.g, buffers.m, buffers.v, segment.range.clamped(to: mine), decay: segment.decay)
                    }
                }
            }
        }
    }

    /// `step(parameters:gradients:learningRate:)` on arrays.
    public mutating func step(parameters: inout [Float], gradients: [Float], learningRate: Float) {
        parameters.withUnsafeMutableBufferPointer { p in
            gradients.withUnsafeBufferPointer { g in step(parameters: p, gradients: g, learningRate: learningRate) }
        }
    }

    /// Sorts and merges overlapping or touching ranges, dropping empty ones.
    private static func merged(_ ranges: [Range<Int>], parameterCount: Int) throws(OptimizerError) -> [Range<Int>] {
        var result: [Range<Int>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) where !range.isEmpty {
            guard range.lowerBound >= 0, range.upperBound <= parameterCount else {
                throw .rangeOutOfBounds(range, parameterCount: parameterCount)
            }
            if let last = result.last, range.lowerBound <= last.upperBound {
                result[result.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                result.append(range)
            }
        }
        return result
    }
}

/// The four vectors of an update, handed to the worker threads (disjoint ranges each).
private struct UpdateBuffers: @unchecked Sendable {
    let p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
}

/// The per-step constants of the elementwise update.
private struct Update: Sendable {
    let beta1: Float, beta2: Float, epsilon: Float
    /// `lr / (1 - beta1^t)`.
    let stepSize: Float
    /// `1 / sqrt(1 - beta2^t)`.
    let inverseCorrection2Root: Float

    /// Updates indices `range` with weight-decay factor `decay` (1 = no decay).
    @inline(__always)
    func apply(
        _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>,
        _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>,
        _ range: Range<Int>, decay: Float
    ) {
        let oneMinusBeta1 = 1 - beta1, oneMinusBeta2 = 1 - beta2
        // Same operation order as torch's single-tensor AdamW: decay, lerp m, update v, then
        // p += -stepSize * m / (sqrt(v) / sqrt(correction2) + eps).
        for i in range {
            let gi = g[i]
            let mi = m[i] + oneMinusBeta1 * (gi - m[i])
            let vi = v[i] * beta2 + oneMinusBeta2 * gi * gi
            m[i] = mi
            v[i] = vi
            let denominator = vi.squareRoot() * inverseCorrection2Root + epsilon
            p[i] = p[i] * decay - stepSize * (mi / denominator)
        }
    }
}
