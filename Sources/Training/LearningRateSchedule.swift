import Foundation

/// The learning rate at each optimizer step: linear warmup from 0, then constant, linear decay
/// to 0, or cosine decay to 0 at `totalSteps`, with Hugging Face's formulas
/// (`transformers/optimization.py`):
///
/// - warmup, `step < warmupSteps`: `step / max(1, warmupSteps)`;
/// - `.linear` (`get_linear_schedule_with_warmup`):
///   `max(0, (totalSteps - step) / max(1, totalSteps - warmupSteps))`;
/// - `.cosine` (`get_cosine_schedule_with_warmup`, `num_cycles` 0.5):
///   `max(0, 0.5 * (1 + cos(pi * progress)))`, `progress = (step - warmupSteps) / max(1, totalSteps - warmupSteps)`;
/// - `.constant` (`get_constant_schedule_with_warmup`, or `get_constant_schedule` when
///   `warmupSteps` is 0): 1.
///
/// times `peak`. `step` counts the updates already made, as in PyTorch's `LambdaLR` when
/// `scheduler.step()` follows `optimizer.step()`: update number 0 uses `learningRate(at: 0)`,
/// which is 0 whenever there is a warmup (Hugging Face's first update moves nothing either).
/// sentence-transformers' default `WarmupLinear` is `.linear`.
///
/// One deliberate difference: from `totalSteps` on, `.cosine` stays at 0, where Hugging Face's
/// formula would climb back up the next half-period. A trainer never gets there; if it does
/// (a miscounted epoch), 0 is the safe answer.
public struct LearningRateSchedule: Sendable, Codable, Equatable {
    /// What follows the warmup.
    public enum Decay: String, Sendable, Codable, CaseIterable {
        /// Stay at the peak.
        case constant
        /// Straight line from the peak at `warmupSteps` to 0 at `totalSteps`.
        case linear
        /// Half a cosine period from the peak at `warmupSteps` to 0 at `totalSteps`.
        case cosine
    }

    /// The learning rate at the end of the warmup.
    public var peak: Float
    /// Number of warmup updates (0 for none).
    public var warmupSteps: Int
    /// Number of updates in the whole run; the decays reach 0 here (ignored by `.constant`).
    public var totalSteps: Int
    /// What follows the warmup.
    public var decay: Decay

    /// Creates a schedule. Negative step counts are treated as 0.
    public init(peak: Float, warmupSteps: Int = 0, totalSteps: Int, decay: Decay = .linear) {
        self.peak = peak
        self.warmupSteps = max(0, warmupSteps)
        self.totalSteps = max(0, totalSteps)
        self.decay = decay
    }

    /// A schedule that is `peak` at every step.
    public static func constant(_ peak: Float) -> LearningRateSchedule {
        LearningRateSchedule(peak: peak, warmupSteps: 0, totalSteps: 0, decay: .constant)
    }

    /// The factor multiplying `peak` at `step` (Hugging Face's `lr_lambda`), in Double as the
    /// Python original computes it.
    public func multiplier(at step: Int) -> Double {
        let step = max(0, step)
        if step < warmupSteps { return Double(step) / Double(max(1, warmupSteps)) }
        let span = Double(max(1, totalSteps - warmupSteps))
        switch decay {
        case .constant:
            return 1
        case .linear:
            return max(0, Double(totalSteps - step) / span)
        case .cosine:
            if step >= totalSteps { return 0 }
            let progress = Double(step - warmupSteps) / span
            return max(0, 0.5 * (1 + Foundation.cos(Double.pi * 0.5 * 2 * progress)))
        }
    }

    /// The learning rate for update number `step` (0-based).
    public func learningRate(at step: Int) -> Float {
        Float(Double(peak) * multiplier(at: step))
    }
}
