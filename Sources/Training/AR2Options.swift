/// Settings of an AR2 run (a retriever and a ranker trained against each other in cycles);
/// saved with every checkpoint and checked on resume. The defaults are the CLI's: AR2's MS MARCO
/// setting as issue 13 lists it (not yet checked against the paper's table), except the
/// retriever's similarity scale, which a normalising sentence-transformers model needs.
@dynamicMemberLookup
public struct AR2Options: TaskOptions {
    /// The loop's settings; `loop.totalSteps` is `cycles x (rankerSteps + retrieverSteps)` and
    /// `loop.learningRate` is unused (each model has its own rate below).
    public var loop = LoopOptions()
    /// Cycles of (refresh candidates, ranker steps, retriever steps).
    public var cycles = 1
    /// Ranker steps per cycle.
    public var rankerSteps = 500
    /// Retriever steps per cycle.
    public var retrieverSteps = 1500
    /// Group size: one positive and `candidates - 1` retrieved negatives per query.
    public var candidates = 16
    /// Retrieved list the negatives are drawn from, per query.
    public var candidateDepth = 100
    /// The adversarial term's weight in the retriever's loss (`AR2RetrieverLoss`'s lambda).
    public var adversarialWeight: Float = 0.5
    /// The ranker's softmax temperature in the retriever's loss.
    public var temperature: Float = 1
    /// Peak learning rates, each model's own linear schedule with 10% warm-up over its own steps.
    public var retrieverLearningRate: Float = 5e-6
    public var rankerLearningRate: Float = 5e-7
    /// Cosine similarity scale of the retriever's softmax (AR2's BERT retriever uses raw dot
    /// products; a normalising sentence-transformers model needs a scale, as MNRL's 20).
    public var retrieverScale: Float = 20
    /// Queries per step.
    public var batchSize = 64
    public var queryMaxLength = 32
    public var passageMaxLength = 128
    /// The ranker's pair truncation.
    public var pairMaxLength = 256
    /// Sequences per forward/backward chunk and worker.
    public var chunkSize = 32
    /// Train separate query and passage towers.
    public var separateTowers = false

    public init() {}

    public subscript<Value>(dynamicMember path: WritableKeyPath<LoopOptions, Value>) -> Value {
        get { loop[keyPath: path] }
        set { loop[keyPath: path] = newValue }
    }

    /// Steps per cycle.
    public var cycleLength: Int { rankerSteps + retrieverSteps }

    /// Which model step `index` trains: each cycle trains the ranker first (on the candidates
    /// the retriever just retrieved), then the retriever against the updated ranker.
    public func stage(atStep index: Int) -> AR2Stage {
        index % max(1, cycleLength) < rankerSteps ? .ranker : .retriever
    }
}

/// The model an AR2 step trains; the other is frozen.
public enum AR2Stage: String, Sendable, Equatable {
    case ranker
    case retriever
}
