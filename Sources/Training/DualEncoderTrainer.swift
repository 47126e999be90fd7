import DensekitEncoder
import DensekitLosses
import DensekitTensor
import Foundation

/// Fine-tunes a sentence encoder as a dual encoder with a contrastive loss: sample a batch, one
/// `ContrastiveStep`, clip, AdamW, repeat; checkpoint every `checkpointEvery` steps; stop on a
/// non-finite loss or gradient, keeping the last good checkpoint.
///
/// Queries and passages share one encoder, or (`options.separateTowers`) each tower starts as a
/// copy of the base model and is trained apart, with its own AdamW moments; gradient clipping
/// uses the global norm over both towers.
///
/// Output folder: the final model at the top level (a sentence-transformers folder, or a
/// two-tower folder: `query_model/`, `passage_model/`, `towers.json`; see `DualEncoder`), and
/// `checkpoint-STEP/` folders, each a loadable model plus `trainer-state.json` and
/// `optimizer.safetensors` (AdamW moments), from which `resume` continues exactly.
public final class DualEncoderTrainer {
    /// What one step did, for progress lines.
    public struct StepReport: Sendable {
        public var step: Int, totalSteps: Int
        public var loss: Float, gradientNorm: Float, learningRate: Float
        public var seconds: Double
        /// Where the step's time went.
        public var phases: StepPhases
    }

    /// Wall-clock seconds of a step's phases (they add up to the step's time, less sampling).
    public struct StepPhases: Sendable, Equatable {
        public var tokenize = 0.0
        /// The encoder's forward, loss and backward passes and the workers' gradient sum.
        public var encoder = ContrastiveStep.Timings()
        /// Global-norm clipping (one pass over the gradient).
        public var clipping = 0.0
        /// AdamW over every parameter.
        public var optimizer = 0.0
        public init() {}
    }

    /// Saved with each checkpoint.
    struct State: Codable {
        var step: Int
        var sampler: BatchSampler
        var options: TrainerOptions
        var baseModel: String
        var losses: [Float]
        var optimizerStep: Int
    }

    public let base: DualEncoder
    public let data: TrainingData
    public let options: TrainerOptions
    public let output: URL
    /// The parameters being trained (copies of the base model's): the shared encoder's, or the
    /// query tower's then the passage tower's.
    public let towers: [BertParameters]
    /// The model being trained: the base model's tokenizers and settings around `towers`.
    public let model: DualEncoder
    /// AdamW names of each tower's moments in `optimizer.safetensors`.
    private static let optimizerPrefixes = ["", "passage."]
    private var optimizers: [AdamW]
    private var sampler: BatchSampler
    /// Steps done so far.
    public private(set) var step = 0
    private var losses: [Float] = []
    private var lastCheckpoint: String?

    /// The shared encoder's parameters, or the query tower's.
    public var parameters: BertParameters { towers[0] }

    /// A trainer starting from `base`'s weights (copied), writing to `output`.
    public convenience init(base: SentenceEncoder, data: TrainingData, options: TrainerOptions, output: URL) throws {
        try self.init(base: DualEncoder(tied: base), data: data, options: options, output: output)
    }

    /// A trainer starting from `base`'s weights (copied; a tied model gives both towers its
    /// weights when `options.separateTowers`), writing to `output`.
    /// - Throws: `TrainingError.invalidOption` for an empty training set, bad options, or a
    ///   two-tower base without `separateTowers`.
    public init(base: DualEncoder, data: TrainingData, options: TrainerOptions, output: URL) throws {
        guard !data.queryIds.isEmpty else { throw TrainingError.invalidOption("no training query has a relevant passage in the collection") }
        guard options.batchSize >= 2 else { throw TrainingError.invalidOption("--batch-size must be at least 2 (in-batch negatives)") }
        guard options.totalSteps > 0 else { throw TrainingError.invalidOption("the number of steps must be positive") }
        guard base.isTied || options.separateTowers else {
            throw TrainingError.invalidOption("\(base.directory?.path ?? "the base model") has separate query and passage towers; train it with --separate-towers")
        }
        guard base.query.encoder.parameters.layout.count == base.passage.encoder.parameters.layout.count else {
            throw TrainingError.invalidOption("the query and passage towers have different architectures")
        }
        self.base = base
        self.data = data
        self.options = options
        self.output = output
        func copy(_ encoder: SentenceEncoder) -> (BertParameters, SentenceEncoder) {
            let layout = encoder.encoder.parameters.layout
            let parameters = BertParameters(layout: layout)
            parameters.values.update(from: encoder.encoder.parameters.values, count: layout.count)
            return (parameters, SentenceEncoder(tokenizer: encoder.tokenizer, parameters: parameters, pooling: encoder.pooling,
                                                maxLength: encoder.maxLength, lowercaseInput: encoder.lowercaseInput, directory: encoder.directory))
        }
        if options.separateTowers {
            let (queryParameters, query) = copy(base.query), (passageParameters, passage) = copy(base.passage)
            towers = [queryParameters, passageParameters]
            model = try DualEncoder(query: query, passage: passage, directory: base.directory)
        } else {
            let (parameters, shared) = copy(base.query)
            towers = [parameters]
            model = DualEncoder(tied: shared)
        }
        // Biases and layer-norm parameters are not decayed, as in Hugging Face's trainer.
        let layout = towers[0].layout
        let noDecay = layout.slots.filter { $0.name.hasSuffix(".bias") || $0.name.contains("LayerNorm") }.map { $0.offset..<($0.offset + $0.count) }
        optimizers = try towers.map { _ in
            try AdamW(parameterCount: layout.count, configuration: AdamWConfiguration(weightDecay: options.weightDecay), noWeightDecay: noDecay)
        }
        sampler = BatchSampler(batchSize: options.batchSize, negativesPerQuery: options.negativesPerQuery, seed: options.seed)
    }

    /// Continues from the latest checkpoint in `output`; returns its step, or nil when none exists.
    @discardableResult
    public func resume() throws -> Int? {
        let fileManager = FileManager.default
        let checkpoints = ((try? fileManager.contentsOfDirectory(atPath: output.path)) ?? [])
            .filter { $0.hasPrefix("checkpoint-") && fileManager.fileExists(atPath: output.appendingPathComponent($0).appendingPathComponent("trainer-state.json").path) }
            .compactMap { name in Int(name.dropFirst("checkpoint-".count)).map { ($0, name) } }
        guard let (_, name) = checkpoints.max(by: { $0.0 < $1.0 }) else { return nil }
        let folder = output.appendingPathComponent(name)
        let state = try JSONDecoder().decode(State.self, from: Data(contentsOf: folder.appendingPathComponent("trainer-state.json")))
        // When to stop is not part of the run: a resumed run may get another budget.
        var saved = state.options
        saved.timeBudgetSeconds = options.timeBudgetSeconds
        saved.stopAfterSteps = options.stopAfterSteps
        guard saved == options else {
            throw TrainingError.checkpoint("\(folder.path) was written with other training options; resume with the same ones")
        }
        let moments = try SafeTensorsFile(url: folder.appendingPathComponent("optimizer.safetensors"))
        for (index, tower) in towers.enumerated() {
            let modelFolder = towers.count == 1 ? folder : folder.appendingPathComponent(index == 0 ? DualEncoder.queryFolder : DualEncoder.passageFolder)
            let weights = try SafeTensorsFile(url: modelFolder.appendingPathComponent("model.safetensors"))
            let restored = try BertParameters(file: weights, layout: tower.layout)
            tower.values.update(from: restored.values, count: tower.layout.count)
            let prefix = Self.optimizerPrefixes[index], optimizer = optimizers[index]
            optimizers[index] = try AdamW(state: AdamWState(step: state.optimizerStep, firstMoment: try moments.floats(prefix + "adamw.first_moment"),
                                                            secondMoment: try moments.floats(prefix + "adamw.second_moment")),
                                          configuration: optimizer.configuration, noWeightDecay: optimizer.noWeightDecay)
        }
        sampler = state.sampler
        step = state.step
        losses = state.losses
        lastCheckpoint = folder.path
        return step
    }

    /// Trains up to `options.totalSteps` (or the time budget), then saves the final model into `output`.
    ///
    /// - Parameters:
    ///   - progress: called after every step; throwing from it stops training there.
    ///   - evaluate: called at each checkpoint and at the end with the current model; its
    ///     result (e.g. dev MRR@10) goes to `log`.
    /// - Throws: `TrainingError.diverged` when the loss or gradient norm is not finite.
    public func train(progress: (StepReport) throws -> Void = { _ in }, evaluate: ((DualEncoder) throws -> String)? = nil,
                      log: (String) -> Void = { _ in }) throws {
        let loss = options.makeLoss()
        let contrastive = ContrastiveStep(towers: options.separateTowers ? [model.query.encoder, model.passage.encoder] : [model.query.encoder],
                                          pooling: model.query.pooling, chunkSize: options.chunkSize, threads: options.threads,
                                          recomputesLayers: options.gradientCheckpointing)
        let schedule = LearningRateSchedule(peak: options.learningRate, warmupSteps: options.warmupSteps, totalSteps: options.totalSteps, decay: options.decay)
        let count = towers[0].layout.count
        var gradient = [Float](repeating: 0, count: count * towers.count)
        let lastStep = options.stopAfterSteps > 0 ? min(options.stopAfterSteps, options.totalSteps) : options.totalSteps
        let started = DispatchTime.now().uptimeNanoseconds
        func overBudget() -> Bool {
            options.timeBudgetSeconds > 0 && Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 >= options.timeBudgetSeconds
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
            let batch = sampler.next(data)
            let queries = model.query.tokenize(batch.queries, maxLength: options.queryMaxLength)
            let candidates = model.passage.tokenize(batch.candidates, maxLength: options.passageMaxLength)
            phases.tokenize = lap()
            let value = try gradient.withUnsafeMutableBufferPointer {
                try contrastive.run(queries: queries, candidates: candidates, positives: batch.positives, loss: loss, gradient: $0.baseAddress!)
            }
            phases.encoder = contrastive.lastTimings
            _ = lap()
            guard value.isFinite else { throw TrainingError.diverged(step: step + 1, what: "the loss", lastCheckpoint: lastCheckpoint) }
            let clip = gradient.withUnsafeMutableBufferPointer { buffer in
                options.maxGradientNorm > 0 ? GradientClipping.clip(buffer, maxNorm: options.maxGradientNorm)
                    : GradientClipping.Report(norm: GradientClipping.norm(UnsafeBufferPointer(buffer)), factor: 1)
            }
            phases.clipping = lap()
            guard clip.isFinite else { throw TrainingError.diverged(step: step + 1, what: "the gradient", lastCheckpoint: lastCheckpoint) }
            let rate = schedule.learningRate(at: step)
            gradient.withUnsafeBufferPointer { g in
                for (index, tower) in towers.enumerated() {
                    optimizers[index].step(parameters: UnsafeMutableBufferPointer(start: tower.values, count: count),
                                           gradients: UnsafeBufferPointer(rebasing: g[(index * count)..<((index + 1) * count)]), learningRate: rate)
                }
            }
            phases.optimizer = lap()
            step += 1
            losses.append(value)
            try progress(StepReport(step: step, totalSteps: options.totalSteps, loss: value, gradientNorm: clip.norm, learningRate: rate,
                                    seconds: Double(DispatchTime.now().uptimeNanoseconds - stepStarted) / 1e9, phases: phases))
            if options.checkpointEvery > 0, step % options.checkpointEvery == 0, step < lastStep, !overBudget() {
                try saveCheckpoint()
                if let evaluate { log("step \(step): \(try evaluate(model))") }
            }
        }
        try saveCheckpoint()
        try saveModel(to: output)
        if let evaluate { log("final (step \(step)): \(try evaluate(model))") }
    }

    /// Writes `checkpoint-STEP/`: model, optimizer moments, then the state file last, so a
    /// checkpoint without its state file (a crash while saving) is never resumed from.
    private func saveCheckpoint() throws {
        let folder = output.appendingPathComponent("checkpoint-\(step)")
        try saveModel(to: folder)
        let states = optimizers.map { $0.state() }
        // Each tower's moments, copied out so that one write holds them all (2 x 4 bytes per parameter).
        let moments = zip(Self.optimizerPrefixes, states).flatMap { prefix, state in
            [(prefix + "adamw.first_moment", state.firstMoment), (prefix + "adamw.second_moment", state.secondMoment)]
        }
        try Self.withBuffers(moments.map(\.1)) { buffers in
            try SafeTensorsWriter.write(zip(moments, buffers).map { .init(name: $0.0, shape: [$1.count], values: $1) },
                                        to: folder.appendingPathComponent("optimizer.safetensors"))
        }
        let trainerState = State(step: step, sampler: sampler, options: options, baseModel: base.directory?.path ?? "",
                                 losses: losses, optimizerStep: states[0].step)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(trainerState).write(to: folder.appendingPathComponent("trainer-state.json"), options: .atomic)
        lastCheckpoint = folder.path
    }

    /// The model as it is now: a sentence-transformers folder, or a two-tower folder.
    private func saveModel(to folder: URL) throws {
        if towers.count == 1 {
            try model.query.save(to: folder, parameters: towers[0])
        } else {
            try model.save(to: folder, queryParameters: towers[0], passageParameters: towers[1])
        }
    }

    /// Runs `body` with buffer pointers to each of `arrays`.
    private static func withBuffers<R>(_ arrays: [[Float]], _ body: ([UnsafeBufferPointer<Float>]) throws -> R) rethrows -> R {
        func nest(_ index: Int, _ done: [UnsafeBufferPointer<Float>]) throws -> R {
            guard index < arrays.count else { return try body(done) }
            return try arrays[index].withUnsafeBufferPointer { try nest(index + 1, done + [$0]) }
        }
        return try nest(0, [])
    }
}
