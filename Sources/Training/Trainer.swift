import DensekitEncoder
import DensekitEvaluation
import DensekitTensor
import Foundation

/// The one training loop: for each step, the task's loss and gradient, global-norm clipping,
/// AdamW with the learning-rate schedule; a checkpoint every `checkpointEvery` steps and where
/// the task asks (and evaluation, when asked); a stop on a non-finite loss or gradient that
/// keeps the last good checkpoint; a time budget; exact resume.
///
/// Output folder: the final model at the top level, and `checkpoint-STEP/` folders
/// (`ModelFolder.checkpoint(step:in:)`), each a loadable model plus `optimizer.safetensors`
/// (AdamW moments) and `trainer-state.json` (step, sampler state with its RNG, options, loss
/// history), written last, from which `resume` continues exactly: a resumed run's weights equal
/// the uninterrupted run's bit for bit. `train.jsonl` (`TrainingLog`) records every step and
/// evaluation; a resumed run continues it from its checkpoint's step.
public final class Trainer<Task: TrainingTask> {
    /// What one step did, for progress lines.
    public struct StepReport: Sendable {
        public var step: Int, totalSteps: Int
        public var loss: Float, gradientNorm: Float, learningRate: Float
        public var seconds: Double
        /// Training examples (queries) per step.
        public var examplesPerStep: Int
        /// Where the step's time went.
        public var phases: StepPhases
    }

    /// Saved with each checkpoint.
    struct State: Codable {
        var step: Int
        var sampler: Task.SamplerState
        var options: Task.Options
        var baseModel: String
        var losses: [Float]
        /// The first vector's AdamW step count (what checkpoints before per-vector counts held).
        var optimizerStep: Int
        /// Each vector's AdamW step count (they differ when a task freezes vectors).
        var optimizerSteps: [Int]?
    }

    public let task: Task
    public let output: URL
    public var options: Task.Options { task.options }
    private var loop: LoopOptions { task.options.loop }
    private var optimizers: [AdamW]
    /// Steps done so far.
    public private(set) var step = 0
    private var losses: [Float] = []
    private var lastCheckpoint: String?
    /// `output/train.jsonl`, open while `train` runs (and after it, for a task's last records).
    public private(set) var trainingLog: TrainingLog?

    /// A loop training `task`, writing to `output`.
    /// - Throws: `TrainingError.invalidOption` for a plan with no steps.
    public init(task: Task, output: URL) throws {
        guard task.options.loop.totalSteps > 0 else { throw TrainingError.invalidOption("the number of steps must be positive") }
        self.task = task
        self.output = output
        let weightDecay = task.options.loop.weightDecay
        optimizers = try task.parameterVectors.map { vector in
            try AdamW(parameterCount: vector.layout.count, configuration: AdamWConfiguration(weightDecay: weightDecay),
                      noWeightDecay: vector.layout.noWeightDecay)
        }
    }

    /// The model being trained.
    public var model: Task.Model { task.model }

    /// Continues from the latest checkpoint in `output`; returns its step, or nil when none exists.
    @discardableResult
    public func resume() throws -> Int? {
        guard let (_, folder) = ModelFolder.latestCheckpoint(in: output) else { return nil }
        let state = try JSONDecoder().decode(State.self, from: Data(contentsOf: folder.file(ModelFolder.trainerStateFile)))
        var saved = state.options, current = options
        saved.loop = saved.loop.identifyingRun
        current.loop = current.loop.identifyingRun
        guard saved == current else {
            throw TrainingError.checkpoint("\(folder.path) was written with other training options; resume with the same ones")
        }
        try task.restoreModel(from: folder)
        let moments = try SafeTensorsFile(url: folder.file(ModelFolder.optimizerFile))
        for (index, prefix) in task.optimizerPrefixes.enumerated() {
            let optimizer = optimizers[index]
            let updates = state.optimizerSteps.flatMap { index < $0.count ? $0[index] : nil } ?? state.optimizerStep
            optimizers[index] = try AdamW(state: AdamWState(step: updates, firstMoment: try moments.floats(prefix + "adamw.first_moment"),
                                                            secondMoment: try moments.floats(prefix + "adamw.second_moment")),
                                          configuration: optimizer.configuration, noWeightDecay: optimizer.noWeightDecay)
        }
        task.samplerState = state.sampler
        step = state.step
        losses = state.losses
        lastCheckpoint = folder.path
        return step
    }

    /// Trains up to `totalSteps` (or the time budget), then saves the final model into `output`.
    ///
    /// - Parameters:
    ///   - progress: called after every step; throwing from it stops training there.
    ///   - evaluate: called at each checkpoint and at the end with the current model; its
    ///     means (e.g. dev MRR@10) go to `log` and to `train.jsonl` (`trainingLog`).
    ///   - evaluateFirst: also evaluate the model before the first step (not on resume).
    /// - Throws: `TrainingError.diverged` when the loss or gradient norm is not finite.
    public func train(progress: (StepReport) throws -> Void = { _ in }, evaluate: ((Task.Model) throws -> Evaluation)? = nil,
                      evaluateFirst: Bool = false, log: (String) -> Void = { _ in }) throws {
        do { try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true) } catch {
            throw TrainingError.checkpoint("\(output.path): cannot create the output folder (\(error.localizedDescription))")
        }
        let trainingLog = try TrainingLog(folder: output, continuingAt: step)
        self.trainingLog = trainingLog
        func evaluateNow(_ label: String) throws {
            guard let evaluate else { return }
            let evaluation = try evaluate(task.model)
            try trainingLog.append(TrainingLog.Record(step: step, evaluation: evaluation.meansByName))
            log("\(label): \(evaluation.meansLine)")
        }
        if step == 0 && evaluateFirst { try evaluateNow("before training") }
        let loop = self.loop
        let vectors = task.parameterVectors
        let schedules = task.schedules(loop: loop)
            ?? Array(repeating: PhasedSchedule([LearningRateSchedule(peak: loop.learningRate, warmupSteps: loop.warmupSteps,
                                                                     totalSteps: loop.totalSteps, decay: loop.decay)]),
                     count: vectors.count)
        let counts = vectors.map(\.layout.count), offsets = counts.indices.map { counts[..<$0].reduce(0, +) }
        var gradient = [Float](repeating: 0, count: counts.reduce(0, +))
        let lastStep = loop.stopAfterSteps > 0 ? min(loop.stopAfterSteps, loop.totalSteps) : loop.totalSteps
        let started = DispatchTime.now().uptimeNanoseconds
        func overBudget() -> Bool {
            loop.timeBudgetSeconds > 0 && Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 >= loop.timeBudgetSeconds
        }
        while step < lastStep && !overBudget() {
            let stepStarted = DispatchTime.now().uptimeNanoseconds
            var phases = StepPhases()
            var clock = stepStarted
            func lap() -> Double {
                let now = DispatchTime.now().uptimeNanoseconds
                defer { clock = now }
                return Double(now - clock) / 1e9
            }
            let trainedModel = task.trainedModelName(atStep: step)
            let (value, timings) = try gradient.withUnsafeMutableBufferPointer { buffer in
                try task.step(step, gradient: buffer.baseAddress!)
            }
            phases.tokenize = timings.tokenize
            phases.encoder = timings
            _ = lap()
            guard value.isFinite else { throw TrainingError.diverged(step: step + 1, what: "the loss", lastCheckpoint: lastCheckpoint) }
            let clip = gradient.withUnsafeMutableBufferPointer { buffer in
                loop.maxGradientNorm > 0 ? GradientClipping.clip(buffer, maxNorm: loop.maxGradientNorm)
                    : GradientClipping.Report(norm: GradientClipping.norm(UnsafeBufferPointer(buffer)), factor: 1)
            }
            phases.clipping = lap()
            guard clip.isFinite else { throw TrainingError.diverged(step: step + 1, what: "the gradient", lastCheckpoint: lastCheckpoint) }
            let trained = task.trainedVectors(atStep: step) ?? Array(repeating: true, count: vectors.count)
            // The rate reported is the first trained vector's.
            var reported: Float?
            gradient.withUnsafeBufferPointer { g in
                for (index, vector) in vectors.enumerated() where trained[index] {
                    let vectorRate = schedules[index].learningRate(at: optimizers[index].stepCount)
                    reported = reported ?? vectorRate
                    optimizers[index].step(parameters: UnsafeMutableBufferPointer(start: vector.values, count: counts[index]),
                                           gradients: UnsafeBufferPointer(rebasing: g[offsets[index]..<(offsets[index] + counts[index])]),
                                           learningRate: vectorRate)
                }
            }
            let rate = reported ?? 0
            phases.optimizer = lap()
            step += 1
            losses.append(value)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - stepStarted) / 1e9
            try trainingLog.append(TrainingLog.Record(step: step, loss: value, lr: rate, gradNorm: clip.norm, seconds: seconds,
                                                      itemsPerSecond: Double(task.examplesPerStep) / max(seconds, 1e-9), model: trainedModel))
            try progress(StepReport(step: step, totalSteps: loop.totalSteps, loss: value, gradientNorm: clip.norm, learningRate: rate,
                                    seconds: seconds, examplesPerStep: task.examplesPerStep, phases: phases))
            if (loop.checkpointEvery > 0 && step % loop.checkpointEvery == 0) || task.checkpoints(afterSteps: step), step < lastStep, !overBudget() {
                try saveCheckpoint()
                try evaluateNow("step \(step)")
            }
        }
        try saveCheckpoint()
        try task.saveModel(to: ModelFolder(output))
        try evaluateNow("final (step \(step))")
    }

    /// Writes `checkpoint-STEP/`: model, optimizer moments, then the state file last, so a
    /// checkpoint without its state file (a crash while saving) is never resumed from.
    private func saveCheckpoint() throws {
        let folder = ModelFolder.checkpoint(step: step, in: output)
        try task.saveModel(to: folder)
        let states = optimizers.map { $0.state() }
        // Each vector's moments, copied out so that one write holds them all (2 x 4 bytes per parameter).
        let moments = zip(task.optimizerPrefixes, states).flatMap { prefix, state in
            [(prefix + "adamw.first_moment", state.firstMoment), (prefix + "adamw.second_moment", state.secondMoment)]
        }
        try withBufferPointers(moments.map(\.1)) { buffers in
            try SafeTensorsWriter.write(zip(moments, buffers).map { .init(name: $0.0, shape: [$1.count], values: $1) },
                                        to: folder.file(ModelFolder.optimizerFile))
        }
        let trainerState = State(step: step, sampler: task.samplerState, options: options, baseModel: task.baseModelPath,
                                 losses: losses, optimizerStep: states[0].step, optimizerSteps: states.map(\.step))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(trainerState).write(to: folder.file(ModelFolder.trainerStateFile), options: .atomic)
        lastCheckpoint = folder.path
    }
}

/// Wall-clock seconds of a step's phases (they add up to the step's time, less sampling).
public struct StepPhases: Sendable, Equatable {
    public var tokenize = 0.0
    /// The task's forward, loss and backward passes and the workers' gradient sum.
    public var encoder = StepTimings()
    /// Global-norm clipping (one pass over the gradient).
    public var clipping = 0.0
    /// AdamW over every parameter.
    public var optimizer = 0.0
    public init() {}
}
