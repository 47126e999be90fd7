import DensekitEncoder
import DensekitTensor
import Foundation

/// What `Trainer` trains: a model, its data and its loss. The loop owns everything else
/// (optimizer, schedule, clipping, checkpoints, resume, divergence stop, progress, evaluation);
/// a task owns its model's parameters, draws batches and turns one into a loss and a gradient.
///
/// Tasks: `DualEncoderTask` (a bi-encoder with a contrastive loss) and `CrossEncoderTask` (a
/// reranker with a listwise or binary loss).
public protocol TrainingTask: AnyObject {
    associatedtype Options: TaskOptions
    /// The batch sampler's state, saved with each checkpoint so a resumed run draws the batches
    /// the uninterrupted run would have.
    associatedtype SamplerState: Codable
    /// What evaluation and callers see: the model as it is now.
    associatedtype Model

    var options: Options { get }
    /// The parameter vectors being trained (e.g. one shared encoder, or two towers); each gets
    /// its own AdamW moments, stored in the optimizer file under `optimizerPrefixes[i]`.
    var parameterVectors: [BertParameters] { get }
    var optimizerPrefixes: [String] { get }
    var samplerState: SamplerState { get set }
    var model: Model { get }
    /// Training examples one step consumes (queries), for progress lines.
    var examplesPerStep: Int { get }
    /// The base model's folder, recorded in checkpoints.
    var baseModelPath: String { get }

    /// Step `index` (0-based; the steps before it are done): draws the next batch, returns its
    /// mean loss and writes `dL/dθ` over `gradient` (all parameter vectors back to back, in
    /// `parameterVectors` order).
    func step(_ index: Int, gradient: UnsafeMutablePointer<Float>) throws -> (loss: Float, timings: StepTimings)
    /// Writes the model as it is now (a loadable model folder).
    func saveModel(to folder: ModelFolder) throws
    /// Reads a checkpoint's weights back into `parameterVectors`.
    func restoreModel(from folder: ModelFolder) throws
    /// Which parameter vectors step `index` trains (nil: all of them). A vector left out is
    /// frozen for that step: no update at all (its AdamW moments, step count and weight decay
    /// untouched), as AR2 freezes its ranker while the retriever trains and the other way round.
    /// The task writes zeros over a frozen vector's part of the gradient.
    func trainedVectors(atStep index: Int) -> [Bool]?
    /// The name of the model step `index` trains when a task trains two models in turn (AR2's
    /// "retriever" and "ranker"), written on the step's line of `train.jsonl` so each model's
    /// loss is a curve of its own; nil when one model trains.
    func trainedModelName(atStep index: Int) -> String?
    /// Each vector's learning-rate schedule, read at that vector's own update count (nil: the
    /// loop's schedule for every vector; when every vector trains every step, its update count
    /// is the step).
    func schedules(loop: LoopOptions) -> [PhasedSchedule]?
    /// Whether to checkpoint after `steps` steps, besides every `loop.checkpointEvery` (AR2
    /// checkpoints where its cycles end).
    func checkpoints(afterSteps steps: Int) -> Bool
}

extension TrainingTask {
    public func trainedVectors(atStep index: Int) -> [Bool]? { nil }
    public func trainedModelName(atStep index: Int) -> String? { nil }
    public func schedules(loop: LoopOptions) -> [PhasedSchedule]? { nil }
    public func checkpoints(afterSteps steps: Int) -> Bool { false }
}

/// Wall-clock seconds of a step's phases inside the task.
public struct StepTimings: Sendable, Equatable {
    /// Tokenizing the batch.
    public var tokenize = 0.0
    /// Forward passes (and pooling or the head).
    public var forward = 0.0
    /// The loss and its gradient on the scores or embeddings.
    public var loss = 0.0
    /// Backward passes (and, with GradCache or recomputation, the forward passes they repeat).
    public var backward = 0.0
    /// Summing the workers' gradient accumulators.
    public var gradientSum = 0.0
    public init() {}
}
