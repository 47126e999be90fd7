/// The loss a cross-encoder is trained with (its raw value is the CLI's and the checkpoint's name).
public enum CrossEncoderLossKind: String, Codable, Sendable, CaseIterable {
    /// Softmax cross-entropy over each group, positive first (Tevatron's reranker, AR2's ranker).
    case listwise
    /// Binary cross-entropy on every pair's logit: the positive labelled 1, negatives 0
    /// (sentence-transformers' BinaryCrossEntropyLoss), with `posWeight`.
    case bce
}

/// Settings of a cross-encoder training run; saved with every checkpoint, and checked on resume.
/// These defaults are the CLI's (`train cross` reads them), declared once.
@dynamicMemberLookup
public struct CrossEncoderOptions: TaskOptions {
    public var loop = LoopOptions()
    public var loss = CrossEncoderLossKind.listwise
    /// Queries per step.
    public var batchSize = 16
    /// Passages per query: one positive and `groupSize - 1` negatives (Tevatron's train_group_size).
    public var groupSize = 8
    /// Pairs are truncated (longest first) to this many tokens.
    public var maxLength = 256
    /// BCE only: weight of the positive class (torch's pos_weight).
    public var posWeight: Float = 1
    /// Pairs per forward/backward chunk and worker (whole groups): bounds activation memory.
    /// The loss of a group needs only its own logits, so each chunk runs forward, loss and
    /// backward at once, with no second forward pass.
    public var chunkSize = 32

    /// The defaults above.
    public init() {}

    /// The loop's settings, as if declared here.
    public subscript<Value>(dynamicMember path: WritableKeyPath<LoopOptions, Value>) -> Value {
        get { loop[keyPath: path] }
        set { loop[keyPath: path] = newValue }
    }
}
