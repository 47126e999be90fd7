import DensekitEncoder
import DensekitLosses
import DensekitTensor
import DensekitTokenizer
import Foundation

/// One training step's loss and parameter gradient for a dual encoder, with GradCache when the
/// batch does not fit in memory. Queries and passages go through one shared BERT encoder, or
/// through two towers (`towers[0]` for queries, `towers[1]` for passages).
///
/// The batch's sequences are cut into chunks (`ChunkPlan`), each run through one tower, and the
/// chunks are spread over `threads` workers with equal work (tokens, weighted for attention)
/// rather than equal sequence counts: queries are a few tokens, passages a hundred.
/// - When the batch has at most `chunkSize` sequences per worker, each worker keeps its chunks'
///   activations from the forward pass, the loss is computed on all embeddings, and each worker
///   backpropagates its chunks: the plain computation, three forward passes' worth of work.
/// - Otherwise (GradCache, Gao et al. 2021): embed every chunk (at most `chunkSize` sequences)
///   without keeping activations, compute the loss and its gradient with respect to the
///   embeddings, then run each chunk's forward again, this time keeping activations, and
///   backpropagate that chunk's rows of the embedding gradient. Memory is bounded by the chunk
///   size, whatever the batch size, and the result is the same gradient (to rounding), at the
///   price of a second forward pass.
///
/// Each worker has its own activations and gradient accumulator; the accumulators are summed
/// at the end. With `recomputesLayers`, each chunk's backward pass recomputes layer
/// intermediates from layer inputs (activation checkpointing), so a chunk's activation memory
/// is one layer's rather than all of them.
public final class ContrastiveStep {
    /// The query tower, then the passage tower when they are separate.
    public let towers: [BertEncoder]
    public let pooling: PoolingConfiguration
    public let chunkSize: Int
    private let workers: [Worker]
    private let recomputesLayers: Bool

    /// Wall-clock seconds of the last `run`'s phases (tokenizing is the caller's).
    public typealias Timings = StepTimings

    /// Where the last `run` spent its time.
    public private(set) var lastTimings = Timings()

    /// The query tower (the only one when tied).
    public var encoder: BertEncoder { towers[0] }

    /// What one worker owns.
    final class Worker: @unchecked Sendable {
        let workspace = EncoderWorkspace()
        /// One set per chunk this worker keeps in plain mode (slot `c / workers` for chunk `c`);
        /// GradCache uses slot 0 only.
        var activations: [BertActivations] = []
        /// Pooled embeddings (pass 1) or their gradient rows (pass 2) of the current chunk.
        let rows = FloatBuffer()
        let gradient: UnsafeMutablePointer<Float>
        let count: Int
        let layerCount: Int
        let recomputesLayers: Bool

        init(layerCount: Int, parameterCount: Int, recomputesLayers: Bool) {
            self.layerCount = layerCount
            self.recomputesLayers = recomputesLayers
            count = parameterCount
            gradient = .allocate(capacity: max(parameterCount, 1))
        }

        /// The activations of slot `slot`, created on first use.
        func activations(slot: Int) -> BertActivations {
            while activations.count <= slot {
                activations.append(BertActivations(layerCount: layerCount, recomputesLayers: recomputesLayers))
            }
            return activations[slot]
        }

        deinit { gradient.deallocate() }
    }

    /// A step for one encoder shared by queries and passages.
    public convenience init(encoder: BertEncoder, pooling: PoolingConfiguration, chunkSize: Int, threads: Int = EncodeOptions.defaultThreads,
                            recomputesLayers: Bool = false) {
        self.init(towers: [encoder], pooling: pooling, chunkSize: chunkSize, threads: threads, recomputesLayers: recomputesLayers)
    }

    /// A step for `towers` (whose parameters it reads and whose gradients it computes): one
    /// shared encoder, or query and passage towers of the same layout; with `threads` workers,
    /// each owning activations and a gradient accumulator.
    ///
    /// - Precondition: one or two towers, all with the same layout.
    public init(towers: [BertEncoder], pooling: PoolingConfiguration, chunkSize: Int, threads: Int = EncodeOptions.defaultThreads,
                recomputesLayers: Bool = false) {
        precondition((1...2).contains(towers.count), "one shared encoder or two towers")
        precondition(towers.allSatisfy { $0.parameters.layout.count == towers[0].parameters.layout.count }, "towers must share a layout")
        self.towers = towers
        self.pooling = pooling
        self.chunkSize = max(1, chunkSize)
        self.recomputesLayers = recomputesLayers
        let layout = towers[0].parameters.layout
        workers = (0..<max(1, threads)).map { _ in
            Worker(layerCount: layout.configuration.layerCount, parameterCount: layout.count * towers.count, recomputesLayers: recomputesLayers)
        }
    }

    /// The step's loss (mean over queries), with its gradient with respect to every parameter
    /// written to `gradient` (`layout.count` floats per tower, query tower first; overwritten).
    ///
    /// - Parameters:
    ///   - queries, candidates: tokenized sequences; candidate `j` is row `j` of the loss's `P`.
    ///   - positives: per query, the candidates that are relevant to it (the first is its target).
    public func run(queries: [Encoding], candidates: [Encoding], positives: [[Int]], loss: any ContrastiveLoss,
                    gradient: UnsafeMutablePointer<Float>) throws -> Float {
        var unused = RandomSource(seed: 0)
        return try run(queries: queries, candidates: candidates, positives: positives, loss: loss, mixing: HardNegativeMixing(),
                       random: &unused, gradient: gradient)
    }

    /// `run(queries:candidates:positives:loss:gradient:)` with hard-negative mixing: each
    /// query's synthetic negatives are drawn from `random` once the embeddings are known (see
    /// `HardNegativeMixing`); they are extra logits of the loss and have no gradient.
    public func run(queries: [Encoding], candidates: [Encoding], positives: [[Int]], loss: any ContrastiveLoss,
                    mixing: HardNegativeMixing, random: inout RandomSource, gradient: UnsafeMutablePointer<Float>) throws -> Float {
        let sequences = queries + candidates
        let towers = self.towers, pooling = self.pooling
        let d = towers[0].configuration.hiddenSize
        let count = towers[0].parameters.layout.count
        let plan = ChunkPlan(lengths: sequences.map(\.ids.count), queryCount: queries.count, separateTowers: towers.count == 2,
                             chunkSize: chunkSize, workers: workers.count, hiddenSize: d)
        let chunks = plan.chunks, keepActivations = plan.keepsActivations
        let workerCount = workers.count
        // Single-threaded BLAS inside each worker: the workers are the parallelism.
        if BLAS.threads != 1 { BLAS.setThreads(1) }
        var timings = Timings()
        var clock = DispatchTime.now().uptimeNanoseconds
        func lap() -> Double {
            let now = DispatchTime.now().uptimeNanoseconds
            defer { clock = now }
            return Double(now - clock) / 1e9
        }

        // Pass 1: embeddings of every sequence (keeping activations in plain mode).
        var embeddings = [Float](repeating: 0, count: sequences.count * d)
        embeddings.withUnsafeMutableBufferPointer { buffer in
            let output = SendableFloats(buffer.baseAddress!)
            parallel(chunks.count) { chunkIndex, worker in
                let chunk = chunks[chunkIndex]
                guard !chunk.members.isEmpty else { return }
                let batch = Self.batch(chunk.members.map { sequences[$0] })
                let activations = keepActivations ? worker.activations(slot: chunkIndex / workerCount) : nil
                let hidden = towers[chunk.tower].forward(batch, workspace: worker.workspace, activations: activations)
                let pooled = worker.rows.reserve(chunk.members.count * d)
                pooling.pool(hidden: hidden, batch: batch, width: d, into: pooled)
                for (row, sequence) in chunk.members.enumerated() {
                    (output.pointer + sequence * d).update(from: pooled + row * d, count: d)
                }
            }
        }
        timings.forward = lap()

        // The loss and its gradient with respect to the embeddings.
        let split = queries.count * d
        let output = try embeddings.withUnsafeBufferPointer { all in
            try loss(queries: UnsafeBufferPointer(rebasing: all[..<split]), candidates: UnsafeBufferPointer(rebasing: all[split...]),
                     dimension: d, positives: positives, mixing: mixing, random: &random).output
        }
        let embeddingGradient = output.queryGradient + output.candidateGradient
        timings.loss = lap()

        // Pass 2: backpropagate each chunk's rows of the embedding gradient.
        embeddingGradient.withUnsafeBufferPointer { buffer in
            let upstream = SendableFloats(UnsafeMutablePointer(mutating: buffer.baseAddress!))
            let workers = self.workers
            DispatchQueue.concurrentPerform(iterations: workers.count) { w in
                workers[w].gradient.update(repeating: 0, count: workers[w].count)
            }
            parallel(chunks.count) { chunkIndex, worker in
                let chunk = chunks[chunkIndex]
                guard !chunk.members.isEmpty else { return }
                let batch = Self.batch(chunk.members.map { sequences[$0] })
                let activations = worker.activations(slot: keepActivations ? chunkIndex / workerCount : 0)
                let hidden = keepActivations ? activations.output.pointer
                    : towers[chunk.tower].forward(batch, workspace: worker.workspace, activations: activations)
                let rows = worker.rows.reserve(chunk.members.count * d)
                for (row, sequence) in chunk.members.enumerated() {
                    (rows + row * d).update(from: upstream.pointer + sequence * d, count: d)
                }
                let dHidden = worker.workspace.backwardScratch.reserve(batch.tokenCount * d)
                pooling.poolBackward(hidden: hidden, batch: batch, width: d, pooledGradient: rows, into: dHidden)
                towers[chunk.tower].backward(batch, activations: activations, outputGradient: dHidden,
                                             parameterGradient: worker.gradient + chunk.tower * count)
            }
        }
        timings.backward = lap()
        // gradient = the workers' accumulators summed in worker order, split over the cores by
        // index range: each element is the same sum whatever the split.
        let total = count * towers.count
        let accumulators = workers.map { SendableFloats($0.gradient) }, sum = SendableFloats(gradient)
        let parts = workers.count
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let first = total * part / parts, length = total * (part + 1) / parts - first
            (sum.pointer + first).update(from: accumulators[0].pointer + first, count: length)
            for accumulator in accumulators.dropFirst() { RowKernels.add(sum.pointer + first, accumulator.pointer + first, length) }
        }
        timings.gradientSum = lap()
        lastTimings = timings
        return output.value
    }

    /// Runs `body(chunk, worker)` for every chunk: worker `w` takes chunks `w, w + W, ...`.
    ///
    /// A fixed assignment (rather than first come, first served) makes each worker's gradient
    /// sum the same on every run, so training is reproducible bit for bit; in plain mode it is
    /// also what puts chunk `c`'s activations in worker `c % W`, slot `c / W`.
    private func parallel(_ chunkCount: Int, _ body: @escaping @Sendable (Int, Worker) -> Void) {
        let workers = self.workers
        DispatchQueue.concurrentPerform(iterations: min(workers.count, chunkCount)) { w in
            for chunk in stride(from: w, to: chunkCount, by: workers.count) { body(chunk, workers[w]) }
        }
    }

    static func batch(_ sequences: [Encoding]) -> TokenBatch {
        var batch = TokenBatch()
        for sequence in sequences { batch.append(ids: sequence.ids, typeIds: sequence.typeIds) }
        return batch
    }
}

/// A raw pointer workers write disjoint rows through.
struct SendableFloats: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    init(_ pointer: UnsafeMutablePointer<Float>) { self.pointer = pointer }
}
