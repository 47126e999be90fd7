import ArgumentParser
import DensekitEvaluation
import DensekitEncoder
import DensekitTraining
import Foundation

/// How a training run is started, stopped and watched, shared by every `train` subcommand
/// (`train ar2` takes these alone: its schedule is its own); defaults from `LoopOptions`.
struct RunOptionGroup: ParsableArguments {
    @Option(name: .long, help: "Random seed (batches, sampling, new heads).")
    var seed = LoopOptions().seed
    @Option(name: .long, help: "Output folder.")
    var out: String
    @Flag(name: .long, help: "Continue from the latest checkpoint in --out.")
    var resume = false
    @Flag(name: .long, help: "Replace a model already in --out (never the base model itself).")
    var overwrite = false
    @Option(name: .long, help: "Stop after this many minutes of training (then save and evaluate).")
    var timeBudget: Double?
    @Option(name: .long, help: "Stop after this many steps, although the schedule plans more (then save and evaluate).")
    var stopAfter: Int?
    @Flag(name: .long, help: "No progress on stderr.")
    var quiet = false

    func validate() throws {
        if let stopAfter, stopAfter < 1 { throw ValidationError("--stop-after must be positive") }
        if let timeBudget, !(timeBudget.isFinite && timeBudget > 0) { throw ValidationError("--time-budget must be a positive number of minutes, not \(timeBudget)") }
    }

    /// Checks --out before anything is read or trained (see `ModelFolder.checkTrainingOutput`).
    func checkOut(base: URL) throws {
        try ModelFolder(URL(fileURLWithPath: out)).checkTrainingOutput(base: base, overwrite: overwrite, resume: resume)
    }

    /// Writes the seed, the time budget and the step limit into `loop`.
    func apply(to loop: inout LoopOptions) {
        loop.seed = seed
        loop.timeBudgetSeconds = (timeBudget ?? 0) * 60
        loop.stopAfterSteps = stopAfter ?? 0
    }

    /// Resumes when asked, trains with progress lines on stderr, prints where the model went.
    func run<Task: TrainingTask>(_ trainer: Trainer<Task>, evaluate: ((Task.Model) throws -> Evaluation)?, evaluateFirst: Bool = false,
                                 observe: ((Trainer<Task>.StepReport) -> Void)? = nil,
                                 line: ((Trainer<Task>.StepReport) -> String)? = nil) throws {
        try LoopOptionGroup.run(trainer, resume: resume, quiet: quiet, out: out, evaluate: evaluate, evaluateFirst: evaluateFirst,
                                observe: observe, line: line)
    }
}

/// The training loop's options, shared by every `train` subcommand but `train ar2`; defaults
/// come from `LoopOptions` (declared once there).
struct LoopOptionGroup: ParsableArguments {
    @Option(name: .long, help: "Peak learning rate.")
    var lr = LoopOptions().learningRate
    @Option(name: .long, help: "Training steps.")
    var steps: Int?
    @Option(name: .long, help: "Epochs over the training queries (instead of --steps).")
    var epochs: Int?
    @Option(name: .long, help: "Warm-up steps (linear from 0).")
    var warmup = LoopOptions().warmupSteps
    @Option(name: .long, help: "Decay after warm-up: linear, cosine or constant.")
    var decay = LoopOptions().decay
    @Option(name: .long, help: "AdamW weight decay (not on biases and layer norms).")
    var weightDecay = LoopOptions().weightDecay
    @Option(name: .long, help: "Clip the global gradient norm to this (0: no clipping).")
    var maxGradNorm = LoopOptions().maxGradientNorm
    @Option(name: .long, help: "Save a checkpoint (and evaluate) every this many steps.")
    var checkpointEvery = LoopOptions().checkpointEvery
    @OptionGroup var control: RunOptionGroup

    var seed: UInt64 { control.seed }
    var out: String { control.out }
    var quiet: Bool { control.quiet }

    func validate() throws {
        guard (steps == nil) != (epochs == nil) else { throw ValidationError("give --steps or --epochs (one of them)") }
        if let steps, steps < 1 { throw ValidationError("--steps must be positive") }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be positive") }
        guard lr.isFinite, lr > 0 else { throw ValidationError("--lr must be a positive number, not \(lr)") }
        guard maxGradNorm.isFinite, maxGradNorm >= 0 else { throw ValidationError("--max-grad-norm must be 0 (no clipping) or a positive number, not \(maxGradNorm)") }
        guard weightDecay.isFinite, weightDecay >= 0 else { throw ValidationError("--weight-decay must be 0 or a positive number, not \(weightDecay)") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or more") }
        guard checkpointEvery >= 0 else { throw ValidationError("--checkpoint-every must be 0 or more") }
    }

    /// Checks --out before anything is read or trained (see `ModelFolder.checkTrainingOutput`).
    func checkOut(base: URL) throws { try control.checkOut(base: base) }

    /// The loop's options; `--epochs` counts `stepsPerEpoch` steps each.
    func loop(stepsPerEpoch: Int, threads: Int?) -> LoopOptions {
        var loop = LoopOptions()
        loop.learningRate = lr
        loop.warmupSteps = warmup
        loop.decay = decay
        loop.weightDecay = weightDecay
        loop.maxGradientNorm = maxGradNorm
        loop.checkpointEvery = checkpointEvery
        loop.threads = threads ?? EncodeOptions.defaultThreads
        loop.totalSteps = steps ?? (epochs ?? 1) * stepsPerEpoch
        control.apply(to: &loop)
        return loop
    }

    /// Resumes when asked, trains with progress lines on stderr, prints where the model went.
    func run<Task: TrainingTask>(_ trainer: Trainer<Task>, evaluate: ((Task.Model) throws -> Evaluation)?, evaluateFirst: Bool = false) throws {
        try control.run(trainer, evaluate: evaluate, evaluateFirst: evaluateFirst)
    }

    /// The run itself (`RunOptionGroup.run`).
    ///
    /// - Parameters:
    ///   - observe: sees every step's report (a line's rates must count the steps it does not print).
    ///   - line: the progress line after a step (default: step, loss, |grad|, lr, rates and ETA
    ///     of the whole run); it is printed at most every 0.5 s on a terminal and every 10 s otherwise.
    static func run<Task: TrainingTask>(_ trainer: Trainer<Task>, resume: Bool, quiet: Bool, out: String,
                                        evaluate: ((Task.Model) throws -> Evaluation)?, evaluateFirst: Bool = false,
                                        observe: ((Trainer<Task>.StepReport) -> Void)? = nil,
                                        line: ((Trainer<Task>.StepReport) -> String)? = nil) throws {
        if resume {
            if let step = try trainer.resume() { warn("train: resuming from step \(step)") } else { warn("train: no checkpoint in \(out); starting fresh") }
        }
        let started = Date(), firstStep = trainer.step
        let interactive = isatty(STDERR_FILENO) != 0
        var lastPrinted = Date.distantPast
        let killAfter = ProcessInfo.processInfo.environment[Self.killAfterStepVariable].flatMap { Int($0) }
        try trainer.train(progress: { report in
            if report.step == killAfter { kill(getpid(), SIGKILL) }
            observe?(report)
            guard !quiet else { return }
            let now = Date()
            guard now.timeIntervalSince(lastPrinted) >= (interactive ? 0.5 : 10) || report.step == report.totalSteps else { return }
            lastPrinted = now
            let text = line?(report) ?? {
                let rate = Double(report.step - firstStep) / max(now.timeIntervalSince(started), 1e-9)
                return String(format: "train: step %d/%d  loss %.4f  |grad| %.3f  lr %.2e  %.3f steps/s  %.1f queries/s  ETA %@",
                              report.step, report.totalSteps, report.loss, report.gradientNorm, report.learningRate, rate,
                              rate * Double(report.examplesPerStep), Progress.clock(Double(report.totalSteps - report.step) / max(rate, 1e-9)))
            }()
            FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + text + (interactive ? "" : "\n")).utf8))
        }, evaluate: evaluate, evaluateFirst: evaluateFirst, log: { warn(($0.isEmpty ? "" : "\n") + "train: " + $0) })
        print("\(out): trained model after \(trainer.step) of \(trainer.options.loop.totalSteps) steps (\(String(format: "%.0f", Date().timeIntervalSince(started))) s)")
    }

    /// Crash-safety tests set this to N: the training command kills itself with SIGKILL right
    /// after step N, at a known point of a known stage, as `kill -9` would.
    static let killAfterStepVariable = "DENSEKIT_TEST_KILL_AFTER_STEP"
}
