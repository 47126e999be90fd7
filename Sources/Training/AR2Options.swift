/// Settings of an AR2 run (a retriever and a ranker trained against each other in cycles);
/// saved with every checkpoint and checked on resume. The defaults are the CLI's, from AR2's
/// MS MARCO co-training as SimXNS runs it (`SimANS/train_MS_Pas_AR2.sh`: retriever lr 5e-6,
/// ranker lr 5e-7, 15 negatives per query, 500 ranker steps per iteration) and its ranker
/// warm-up (`AR2/scripts/trivia/warm_rank.sh`: lr 1e-5, 15 negatives, pairs of 256 tokens),
/// except the retriever steps per cycle (1,500 where SimXNS runs 5,000, so a cycle re-encodes
/// more often on a small collection), the batch (64 queries, SimXNS 16 x 8 GPUs x 2) and the
/// retriever's similarity scale, which a normalising sentence-transformers model needs.
@dynamicMemberLookup
public struct AR2Options: TaskOptions {
    /// The loop's settings; `loop.totalSteps` is `totalSteps` and `loop.learningRate` is unused
    /// (each model has its own rate below).
    public var loop = LoopOptions()
    /// Cycles of (refresh candidates, ranker steps, retriever steps).
    public var cycles = 1
    /// Ranker steps before the first cycle, on the first cycle's candidates (a new ranker head
    /// learns to rank before it teaches the retriever), at `rankerWarmupLearningRate`.
    public var rankerWarmupSteps = 0
    /// Peak learning rate of the ranker's warm-up (its own linear schedule, 10% warm-up).
    public var rankerWarmupLearningRate: Float = 1e-5
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

    /// The whole run: the ranker's warm-up, then the cycles.
    public var totalSteps: Int { rankerWarmupSteps + cycles * cycleLength }

    /// The step at which cycle `cycle` (0-based) retrieves its candidates: 0 for the first
    /// (the warm-up trains on them too), then one cycle after another; `cycleStart(cycles)` is
    /// the end of the run.
    public func cycleStart(_ cycle: Int) -> Int {
        cycle == 0 ? 0 : rankerWarmupSteps + cycle * cycleLength
    }

    /// Where step `index` falls: its cycle, the stage it trains and its place in that stage.
    /// Each cycle trains the ranker first (on the candidates the retriever just retrieved),
    /// then the retriever against the updated ranker.
    public func position(atStep index: Int) -> AR2Position {
        if index < rankerWarmupSteps { return AR2Position(cycle: 0, stage: .rankerWarmup, step: index, stageSteps: rankerWarmupSteps) }
        let inCycles = index - rankerWarmupSteps, length = max(1, cycleLength)
        let cycle = inCycles / length, inCycle = inCycles % length
        return inCycle < rankerSteps ? AR2Position(cycle: cycle, stage: .ranker, step: inCycle, stageSteps: rankerSteps)
            : AR2Position(cycle: cycle, stage: .retriever, step: inCycle - rankerSteps, stageSteps: retrieverSteps)
    }

    /// Which model step `index` trains.
    public func stage(atStep index: Int) -> AR2Stage { position(atStep: index).stage }

    /// How many of the first `steps` steps train the ranker (warm-up included); the rest
    /// train the retriever. Closed form, for ETAs that weigh each kind of step by its cost.
    public func rankerSteps(before steps: Int) -> Int {
        let steps = min(max(0, steps), totalSteps), inCycles = max(0, steps - rankerWarmupSteps), length = max(1, cycleLength)
        return min(steps, rankerWarmupSteps) + inCycles / length * rankerSteps + min(inCycles % length, rankerSteps)
    }

    /// Whether the run has a checkpoint after `steps` steps: at the end of the warm-up and of
    /// each cycle, where a resumed run needs nothing but the next cycle's retrieval.
    public func endsWarmupOrCycle(afterSteps steps: Int) -> Bool {
        (steps == rankerWarmupSteps && steps > 0) || (steps > rankerWarmupSteps && (steps - rankerWarmupSteps) % max(1, cycleLength) == 0)
    }
}

/// The model an AR2 step trains; the other is frozen.
public enum AR2Stage: String, Sendable, Equatable {
    /// The ranker alone, before the first cycle.
    case rankerWarmup = "ranker warm-up"
    case ranker
    case retriever

    /// Whether the ranker trains (and the retriever is frozen).
    public var trainsRanker: Bool { self != .retriever }
}

/// A step's place in an AR2 run.
public struct AR2Position: Sendable, Equatable {
    /// The cycle (0-based) whose candidates the step trains on.
    public var cycle: Int
    public var stage: AR2Stage
    /// The step's index inside its stage (0-based), and the stage's length.
    public var step: Int
    public var stageSteps: Int
}
