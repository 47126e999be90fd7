import DensekitLosses

/// The contrastive loss of a dual-encoder run (its raw value is the CLI's and the checkpoint's name).
public enum ContrastiveLossKind: String, Codable, Sendable, CaseIterable {
    /// sentence-transformers' MultipleNegativesRankingLoss.
    case infonce
    /// Decoupled contrastive: the positive left out of the denominator.
    case dcl
    /// DEXML: each positive competes only with negatives.
    case decoupledSoftmax = "decoupled-softmax"
}

/// Settings of a dual-encoder training run; saved with every checkpoint, and checked on resume.
/// These defaults are the CLI's (`train dual` reads them), declared once; the loop's own
/// settings (learning rate, steps, clipping, ...) are in `loop` and read through it.
@dynamicMemberLookup
public struct TrainerOptions: TaskOptions {
    public var loop = LoopOptions()
    public var loss = ContrastiveLossKind.infonce
    /// Cosine similarity scale (1 / temperature); 20 as in sentence-transformers.
    public var scale: Float = 20
    /// InfoNCE only: add the passage -> query direction.
    public var symmetric = false
    public var batchSize = 32
    /// Sequences per forward/backward chunk (GradCache when the batch needs more than one
    /// chunk per worker); bounds activation memory. 64 keeps batch 32 with a hard negative
    /// (96 sequences) in plain mode on two workers, with no second forward pass (about 1 GB
    /// of activations at 128 tokens); larger batches fall back to GradCache.
    public var chunkSize = 64
    /// Hard negatives per query drawn from the negatives file.
    public var negativesPerQuery = 1
    public var queryMaxLength = 32
    public var passageMaxLength = 128
    /// Train a query tower and a passage tower apart (both start from the base model).
    public var separateTowers = false
    /// Recompute each layer's intermediates in the backward pass instead of keeping them
    /// (activation checkpointing): less memory per chunk, about a third more compute.
    public var gradientCheckpointing = false
    /// Hard-negative mixing (MoCHi) in the loss; nil: off. Optional so that checkpoints
    /// written before it existed still resume.
    public var mixing: MixingSchedule?
    /// Re-mine the hard negatives with the current weights every this many steps (ANCE), from
    /// the task's `negativeSource`; nil: never.
    public var refreshEvery: Int?

    /// The loop's settings, as if declared here.
    public subscript<Value>(dynamicMember path: WritableKeyPath<LoopOptions, Value>) -> Value {
        get { loop[keyPath: path] }
        set { loop[keyPath: path] = newValue }
    }

    /// The defaults above.
    public init() {}

    /// The loss these options name.
    public func makeLoss() -> any ContrastiveLoss {
        let similarity = Similarity.cosine(scale: scale)
        switch loss {
        case .infonce: return InfoNCELoss(similarity: similarity, symmetric: symmetric)
        case .dcl: return DecoupledContrastiveLoss(similarity: similarity)
        case .decoupledSoftmax: return DecoupledSoftmaxLoss(similarity: similarity)
        }
    }
}

/// Hard-negative mixing in a dual-encoder run: what to mix, and from which step.
public struct MixingSchedule: Codable, Sendable, Equatable {
    public var mixing: HardNegativeMixing
    /// The first step (0-based) that mixes. MoCHi starts after a warm-up: the hardest
    /// negatives of an untrained model say little.
    public var startStep: Int

    public init(mixing: HardNegativeMixing, startStep: Int = 0) {
        self.mixing = mixing
        self.startStep = startStep
    }
}

/// Why training stopped or could not start.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case invalidOption(String)
    /// The loss or the gradient stopped being finite.
    case diverged(step: Int, what: String, lastCheckpoint: String?)
    case checkpoint(String)

    public var description: String {
        switch self {
        case let .invalidOption(message): message
        case let .diverged(step, what, last):
            "stopped at step \(step): \(what) is not finite (NaN or Inf); " + (last.map { "the last good checkpoint is \($0)" } ?? "no checkpoint was saved yet")
        case let .checkpoint(message): "checkpoint: \(message)"
        }
    }
}
