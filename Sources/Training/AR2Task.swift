import DensekitEncoder
import DensekitLosses
import DensekitTensor
import Foundation

/// The two models AR2 trains.
public struct AR2Models {
    public let retriever: DualEncoder
    public let ranker: CrossEncoder
}

/// AR2 (Zhang et al., ICLR 2022), the adversarial retriever-ranker loop, as one `TrainingTask`:
/// the loop's steps are an optional ranker warm-up, then cycles of `rankerSteps` then
/// `retrieverSteps` (`AR2Options.position(atStep:)`). Before each cycle the collection is encoded with the current retriever and every training query's top
/// `candidateDepth` retrieved (`candidateSource`, the Search module's `NegativeRefresh`, wired
/// by the caller); each step draws queries with one positive and `candidates - 1` of those
/// (`GroupSampler`). A ranker step: listwise cross-entropy over the group, positive first, the
/// retriever frozen. A retriever step, the ranker frozen: the ranker's logits over the group are
/// the targets of `AR2RetrieverLoss` on the retriever's scores of the same group
/// (`GroupedScoreLoss`). Freezing is the loop's (`trainedVectors(atStep:)`): a frozen model's
/// AdamW state does not move, and each model follows its own learning-rate schedule.
///
/// One task and one loop make a killed run resume exactly: the checkpoint holds both models,
/// both optimizers and the sampler, and the candidates of the cycle in progress are read back
/// from the refresh that made them.
public final class AR2Task: TrainingTask {
    public let retrieverBase: DualEncoder
    public let rankerBase: CrossEncoder
    /// The training set; its negatives are the current cycle's retrieved candidates.
    public private(set) var data: TrainingData
    public let options: AR2Options
    /// The retriever's weights (tied or two towers).
    public let retriever: TrainableDualEncoder
    /// The ranker's weights and the model around them.
    public let rankerParameters: BertParameters
    public let ranker: CrossEncoder
    /// Where each cycle's candidates come from (required before the first step).
    public var candidateSource: (any NegativeSource)?
    /// The cycle whose candidates `data` holds.
    public private(set) var candidatesOfCycle: Int?
    private var sampler: GroupSampler
    private let passageIds: [String]
    private var rankerStep: CrossEncoderStep?
    private var retrieverStep: ContrastiveStep?

    /// - Throws: `TrainingError.invalidOption` for an empty training set or bad options.
    public init(retriever: DualEncoder, ranker: CrossEncoder, data: TrainingData, options: AR2Options) throws {
        guard !data.queryIds.isEmpty else { throw TrainingError.invalidOption("no training query has a relevant passage in the collection") }
        guard options.cycles >= 1, options.rankerSteps >= 0, options.retrieverSteps >= 0, options.cycleLength >= 1 else {
            throw TrainingError.invalidOption("--cycles must be positive and a cycle must have a step")
        }
        guard options.rankerWarmupSteps >= 0, options.rankerWarmupLearningRate > 0 else {
            throw TrainingError.invalidOption("the ranker's warm-up needs 0 or more steps and a positive learning rate")
        }
        guard options.loop.totalSteps == options.totalSteps else {
            throw TrainingError.invalidOption("an AR2 run has warm-up + cycles x (ranker steps + retriever steps) = \(options.totalSteps) steps, not \(options.loop.totalSteps)")
        }
        guard options.candidates >= 2 else { throw TrainingError.invalidOption("--candidates must be at least 2 (a positive and a negative)") }
        guard options.candidateDepth >= options.candidates - 1 else {
            throw TrainingError.invalidOption("--candidate-depth \(options.candidateDepth) is below the \(options.candidates - 1) negatives a group needs")
        }
        guard options.batchSize >= 1 else { throw TrainingError.invalidOption("--batch-size must be positive") }
        guard (0...1).contains(options.adversarialWeight), options.temperature > 0, options.retrieverScale > 0 else {
            throw TrainingError.invalidOption("--adv-lambda must be in [0, 1], --temperature and the retriever scale positive")
        }
        retrieverBase = retriever
        rankerBase = ranker
        self.data = data
        self.options = options
        self.retriever = try TrainableDualEncoder(base: retriever, separateTowers: options.separateTowers)
        rankerParameters = ranker.parameters.copy()
        self.ranker = ranker.with(parameters: rankerParameters, maxLength: options.pairMaxLength)
        sampler = GroupSampler(batchSize: options.batchSize, groupSize: options.candidates, seed: options.seed)
        passageIds = data.passages.keys.sorted()
    }

    public var model: AR2Models { AR2Models(retriever: retriever.model, ranker: ranker) }
    public var parameterVectors: [BertParameters] { retriever.towers + [rankerParameters] }
    public var optimizerPrefixes: [String] { retriever.optimizerPrefixes + ["ranker."] }
    public var samplerState: GroupSampler {
        get { sampler }
        set { sampler = newValue }
    }
    public var examplesPerStep: Int { options.batchSize }
    public var baseModelPath: String { retrieverBase.directory?.path ?? "" }

    public func trainedVectors(atStep index: Int) -> [Bool]? {
        let rankerTrains = options.stage(atStep: index).trainsRanker
        return retriever.towers.map { _ in !rankerTrains } + [rankerTrains]
    }

    public func trainedModelName(atStep index: Int) -> String? {
        options.stage(atStep: index).trainsRanker ? "ranker" : "retriever"
    }

    /// Each model's linear schedule with 10% warm-up over its own steps of the cycles; the
    /// ranker's warm-up, when there is one, first has its own.
    public func schedules(loop: LoopOptions) -> [PhasedSchedule]? {
        func schedule(peak: Float, steps: Int) -> LearningRateSchedule {
            LearningRateSchedule(peak: peak, warmupSteps: steps / 10, totalSteps: steps, decay: loop.decay)
        }
        let retrieverSchedule = PhasedSchedule([schedule(peak: options.retrieverLearningRate, steps: options.cycles * options.retrieverSteps)])
        let cycles = schedule(peak: options.rankerLearningRate, steps: options.cycles * options.rankerSteps)
        let rankerSchedule = PhasedSchedule(options.rankerWarmupSteps > 0
            ? [schedule(peak: options.rankerWarmupLearningRate, steps: options.rankerWarmupSteps), cycles] : [cycles])
        return retriever.towers.map { _ in retrieverSchedule } + [rankerSchedule]
    }

    /// A checkpoint where the warm-up and each cycle end.
    public func checkpoints(afterSteps steps: Int) -> Bool { options.endsWarmupOrCycle(afterSteps: steps) }

    public func step(_ index: Int, gradient: UnsafeMutablePointer<Float>) throws -> (loss: Float, timings: StepTimings) {
        try loadCandidates(before: index)
        let started = DispatchTime.now().uptimeNanoseconds
        let batch = sampler.next(data, passageIds: passageIds)
        let retrieverCount = retriever.towers.reduce(0) { $0 + $1.layout.count }
        gradient.update(repeating: 0, count: retrieverCount + rankerParameters.layout.count)
        let pairs = zip(batch.queries, batch.groups).map { query, group in group.map { (query: query, passage: data.passages[$0] ?? "") } }
        switch options.stage(atStep: index) {
        case .rankerWarmup, .ranker:
            let groups = pairs.map { ranker.tokenize(pairs: $0) }
            let tokenized = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let step = rankerStep ?? CrossEncoderStep(model: ranker, chunkSize: options.chunkSize, threads: options.threads)
            rankerStep = step
            var (value, timings) = step.run(groups: groups, loss: Self.listwise, gradient: gradient + retrieverCount)
            timings.tokenize = tokenized
            return (value, timings)
        case .retriever:
            // The frozen ranker's logits over each group: the retriever's targets.
            let g = options.candidates
            let logits = ranker.logits(tokenized: ranker.tokenize(pairs: pairs.flatMap { $0 }),
                                       options: EncodeOptions(batchSize: options.chunkSize, threads: options.threads))
            let targets = try RankerLogits(values: logits, rows: batch.queries.count, columns: g)
            let model = retriever.model
            let queries = model.query.tokenize(batch.queries, maxLength: options.queryMaxLength)
            let candidates = model.passage.tokenize(pairs.flatMap { $0.map(\.passage) }, maxLength: options.passageMaxLength)
            let tokenized = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let step = retrieverStep ?? retriever.contrastiveStep(chunkSize: options.chunkSize, threads: options.threads)
            retrieverStep = step
            let loss = GroupedScoreLoss(similarity: .cosine(scale: options.retrieverScale), groupSize: g,
                                        inner: AR2RetrieverLoss(lambda: options.adversarialWeight, temperature: options.temperature), targets: targets)
            let value = try step.run(queries: queries, candidates: candidates, positives: (0..<batch.queries.count).map { [$0 * g] },
                                     loss: loss, gradient: gradient)
            var timings = step.lastTimings
            timings.tokenize = tokenized
            return (value, timings)
        }
    }

    /// Listwise cross-entropy over `[groups, candidates]` logits, the positive in column 0.
    private static let listwise: @Sendable (ScoreMatrix) -> Double = { scores in
        guard let targets = try? PositiveSets(Array(repeating: [0], count: scores.rows), candidateCount: scores.columns) else {
            preconditionFailure("groups of at least one pair")
        }
        return ListwiseCrossEntropyLoss().lossAndGradient(overwriting: scores, targets: targets)
    }

    /// Before the first step of cycle c, its candidates are retrieved with the retriever as it
    /// is then; a run resumed inside a cycle reads that cycle's candidates back.
    private func loadCandidates(before index: Int) throws {
        let cycle = options.position(atStep: index).cycle, start = options.cycleStart(cycle)
        guard candidatesOfCycle != cycle else { return }
        guard let source = candidateSource else { throw TrainingError.invalidOption("an AR2 run needs a candidate source (NegativeRefresh)") }
        let path = index == start ? try source.refresh(step: start, saveModel: { try self.retriever.save(to: ModelFolder($0)) })
            : try source.negatives(completedAt: start)
        data.negatives = try TrainingData.readNegatives(path)
        candidatesOfCycle = cycle
    }

    /// The models as they are now: `retriever/` (a sentence-transformers or two-tower folder)
    /// and `ranker/` (a cross-encoder folder).
    public func saveModel(to folder: ModelFolder) throws {
        let retrieverFolder = folder.url.appendingPathComponent("retriever"), rankerFolder = folder.url.appendingPathComponent("ranker")
        for url in [retrieverFolder, rankerFolder] { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        try retriever.save(to: ModelFolder(retrieverFolder))
        try ModelFolder(rankerFolder).write(ranker, parameters: rankerParameters)
    }

    public func restoreModel(from folder: ModelFolder) throws {
        try retriever.restore(from: ModelFolder(folder.url.appendingPathComponent("retriever")))
        let weights = try SafeTensorsFile(url: ModelFolder(folder.url.appendingPathComponent("ranker")).file(ModelFolder.weightsFile))
        let restored = try BertParameters(file: weights, layout: rankerParameters.layout)
        rankerParameters.values.update(from: restored.values, count: rankerParameters.layout.count)
    }
}
