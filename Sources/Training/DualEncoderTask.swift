import DensekitEncoder
import DensekitLosses
import DensekitTensor
import Foundation

/// Fine-tuning a sentence encoder as a dual encoder with a contrastive loss: sample a batch
/// (queries, one positive each, hard negatives), one `ContrastiveStep`. `Trainer` runs the loop.
///
/// Queries and passages share one encoder, or (`options.separateTowers`) each tower starts as a
/// copy of the base model and is trained apart, with its own AdamW moments; gradient clipping
/// uses the global norm over both towers. The saved model is a sentence-transformers folder, or
/// a two-tower folder (`query_model/`, `passage_model/`, `towers.json`; see `DualEncoder`).
public final class DualEncoderTask: TrainingTask {
    public let base: DualEncoder
    /// The training set; its negatives are replaced at each refresh.
    public private(set) var data: TrainingData
    public let options: TrainerOptions
    /// The weights being trained (copies of the base model's), tied or as two towers.
    public let trainable: TrainableDualEncoder
    /// The shared encoder's parameters, or the query tower's then the passage tower's.
    public var towers: [BertParameters] { trainable.towers }
    /// The model being trained: the base model's tokenizers and settings around `towers`.
    public var model: DualEncoder { trainable.model }
    private var sampler: BatchSampler
    private var contrastive: ContrastiveStep?
    private let loss: any ContrastiveLoss
    /// Where refreshed negatives come from, with `options.refreshEvery`.
    public var negativeSource: (any NegativeSource)?
    /// The step of the refresh whose negatives `data` holds (0: the ones it was given).
    public private(set) var negativesRefreshedAt = 0

    /// A task starting from `base`'s weights (copied; a tied model gives both towers its
    /// weights when `options.separateTowers`).
    /// - Throws: `TrainingError.invalidOption` for an empty training set, bad options, or a
    ///   two-tower base without `separateTowers`.
    public init(base: DualEncoder, data: TrainingData, options: TrainerOptions) throws {
        guard !data.queryIds.isEmpty else { throw TrainingError.invalidOption("no training query has a relevant passage in the collection") }
        guard options.batchSize >= 2 else { throw TrainingError.invalidOption("--batch-size must be at least 2 (in-batch negatives)") }
        self.base = base
        self.data = data
        self.options = options
        trainable = try TrainableDualEncoder(base: base, separateTowers: options.separateTowers)
        sampler = BatchSampler(batchSize: options.batchSize, negativesPerQuery: options.negativesPerQuery, seed: options.seed)
        loss = options.makeLoss()
    }

    public var parameterVectors: [BertParameters] { towers }
    /// AdamW names of each tower's moments in `optimizer.safetensors`.
    public var optimizerPrefixes: [String] { trainable.optimizerPrefixes }
    public var samplerState: BatchSampler {
        get { sampler }
        set { sampler = newValue }
    }
    public var examplesPerStep: Int { options.batchSize }
    public var baseModelPath: String { base.directory?.path ?? "" }

    public func step(_ index: Int, gradient: UnsafeMutablePointer<Float>) throws -> (loss: Float, timings: StepTimings) {
        try refreshNegativesIfDue(before: index)
        let started = DispatchTime.now().uptimeNanoseconds
        let batch = sampler.next(data)
        let queries = model.query.tokenize(batch.queries, maxLength: options.queryMaxLength)
        let candidates = model.passage.tokenize(batch.candidates, maxLength: options.passageMaxLength)
        let tokenized = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let contrastive = self.contrastive ?? trainable.contrastiveStep(chunkSize: options.chunkSize, threads: options.threads,
                                                                        recomputesLayers: options.gradientCheckpointing)
        self.contrastive = contrastive
        let mixing = options.mixing.flatMap { index >= $0.startStep ? $0.mixing : nil } ?? HardNegativeMixing()
        let value = try contrastive.run(queries: queries, candidates: candidates, positives: batch.positives, loss: loss,
                                        mixing: mixing, random: &sampler.mixingRandom, gradient: gradient)
        var timings = contrastive.lastTimings
        timings.tokenize = tokenized
        return (value, timings)
    }

    /// Refreshes land before steps `every`, `2 every`, ...: before step `index`, the negatives
    /// must be those of the refresh at `(index / every) * every`. That is a refresh to make now
    /// when it is `index` itself, or one a resumed run made before its checkpoint.
    private func refreshNegativesIfDue(before index: Int) throws {
        guard let every = options.refreshEvery, every > 0, let source = negativeSource else { return }
        let due = index / every * every
        guard due > 0, due != negativesRefreshedAt else { return }
        let path = due == index ? try source.refresh(step: due, saveModel: { try self.saveModel(to: ModelFolder($0)) })
            : try source.negatives(completedAt: due)
        data.negatives = try TrainingData.readNegatives(path)
        negativesRefreshedAt = due
    }

    public func saveModel(to folder: ModelFolder) throws { try trainable.save(to: folder) }

    public func restoreModel(from folder: ModelFolder) throws { try trainable.restore(from: folder) }
}

/// The loop over a dual-encoder task, under the name the library has always used.
public typealias DualEncoderTrainer = Trainer<DualEncoderTask>

extension Trainer where Task == DualEncoderTask {
    /// A trainer of `base` (a tied pair or two towers) on `data`, writing to `output`.
    public convenience init(base: DualEncoder, data: TrainingData, options: TrainerOptions, output: URL) throws {
        try self.init(task: DualEncoderTask(base: base, data: data, options: options), output: output)
    }

    /// A trainer of one sentence encoder shared by queries and passages.
    public convenience init(base: SentenceEncoder, data: TrainingData, options: TrainerOptions, output: URL) throws {
        try self.init(base: DualEncoder(tied: base), data: data, options: options, output: output)
    }

    /// The shared encoder's parameters, or the query tower's.
    public var parameters: BertParameters { task.towers[0] }
    public var towers: [BertParameters] { task.towers }
}

/// Fresh hard negatives for a dual-encoder run (ANCE-style refresh): the Search module's
/// `NegativeRefresh` re-encodes the collection and mines again; the caller wires it in.
public protocol NegativeSource: AnyObject {
    /// Mines negatives with the model as it is before step `step`; `saveModel` writes that
    /// model into the folder it is given. Returns the negatives file (`qid<TAB>pid,...`).
    func refresh(step: Int, saveModel: (URL) throws -> Void) throws -> String
    /// The negatives file of the refresh made before step `step` by this run earlier (a run
    /// resumed from a later checkpoint); throws when it is missing.
    func negatives(completedAt step: Int) throws -> String
}
