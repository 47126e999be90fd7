/// Settings of the training loop every task shares: optimizer, schedule, clipping, seed,
/// checkpoints and when to stop. Declared once here; each task's options hold one (`loop`) and
/// the CLI's shared option group reads its defaults from here.
public struct LoopOptions: Codable, Sendable, Equatable {
    public var learningRate: Float = 2e-5
    public var warmupSteps = 0
    public var totalSteps = 100
    public var decay = LearningRateSchedule.Decay.linear
    public var weightDecay: Float = 0.01
    /// Global gradient-norm clipping; 0 disables.
    public var maxGradientNorm: Float = 1
    public var seed: UInt64 = 42
    /// Save a checkpoint (and evaluate, when asked) every this many steps; 0 = only at the end.
    public var checkpointEvery = 0
    public var threads = 2
    /// Stop (and save) once this many seconds of training have passed; 0 = no limit. The
    /// schedule still follows `totalSteps`, so set it to about what the budget allows.
    public var timeBudgetSeconds: Double = 0
    /// Stop (and save) after this many steps although the schedule plans `totalSteps`; 0 = no
    /// such stop. Reproduces a run that a time budget stopped, step for step.
    public var stopAfterSteps = 0

    /// The defaults above.
    public init() {}

    /// These options without the ones that say when to stop, which are not part of a run: a
    /// resumed run may get another budget.
    var identifyingRun: LoopOptions {
        var options = self
        options.timeBudgetSeconds = 0
        options.stopAfterSteps = 0
        return options
    }
}

/// Options of a training task: its own settings plus the loop's, reachable directly
/// (`options.learningRate` reads `options.loop.learningRate`).
public protocol TaskOptions: Codable, Sendable, Equatable {
    var loop: LoopOptions { get set }
}
