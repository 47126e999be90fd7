import DensekitEncoder
import DensekitLosses
import DensekitTensor
import DensekitTokenizer
import Foundation

/// One training step's loss and parameter gradient for a dual encoder, with GradCache when the
/// batch does not fit in memory. Queries and passages go through one shared BERT encoder, or
/// through two towers (`towers[0]` for queries, `towers[1]` for passages).
///
/// The batch's sequences (queries, then candidates) are cut into chunks of `chunkSize` (with two
/// towers, queries and candidates are chunked apart, so that a chunk runs through one tower).
/// - When there are no more chunks than workers, each worker keeps its chunk's activations from
///   the forward pass, the loss is computed on all embeddings, and each worker backpropagates
///   its chunk: the plain computation.
/// - Otherwise (GradCache, Gao et al. 2021): embed every chunk without keeping activations,
///   compute the loss and its gradient with respect to the embeddings, then run each chunk's
///   forward again, this time keeping activations, and backpropagate that chunk's rows of the
///   embedding gradient. Memory is bounded by the chunk size, whatever the batch size, and the
///   result is the same gradient (to rounding), at the price of a second forward pass.
///
/// Chunks run on `threads` workers, each with its own activations and gradient accumulator;
/// the accumulators are summed at the end. With `recomputesLayers`, each chunk's backward pass
/// recomputes layer intermediates from layer inputs (activation checkpointing), so a chunk's
/// activation memory is one layer's rather than all of them.
public final class ContrastiveStep {
    /// The query tower, then the passage tower when they are separate.
    public let towers: [BertEncoder]
    public let pooling: PoolingConfiguration
    public let chunkSize: Int
    private let workers: [Worker]

    /// The query tower (the only one when tied).
    public var encoder: BertEncoder { towers[0] }

    /// What one worker owns.
    final class Worker: @unchecked Sendable {
        let workspace = EncoderWorkspace()
        let activations: BertActivations
        let gradient: UnsafeMutablePointer<Float>
        let count: Int
        /// Chunks this worker holds activations for (plain mode).
        var keptChunk: Int?

        init(layerCount: Int, parameterCount: Int, recomputesLayers: Bool) {
            activations = BertActivations(layerCount: layerCount, recomputesLayers: recomputesLayers)
            count = parameterCount
            gradient = .allocate(capacity: max(parameterCount, 1))
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
        let sequences = queries + candidates
        let towers = self.towers, pooling = self.pooling
        let d = towers[0].configuration.hiddenSize
        let count = towers[0].parameters.layout.count
        // (sequences, tower) per chunk.
        func cut(_ range: Range<Int>, tower: Int) -> [(Range<Int>, Int)] {
            stride(from: range.lowerBound, to: range.upperBound, by: chunkSize).map { ($0..<min($0 + chunkSize, range.upperBound), tower) }
        }
        let chunks = towers.count == 1 ? cut(0..<sequences.count, tower: 0)
            : cut(0..<queries.count, tower: 0) + cut(queries.count..<sequences.count, tower: 1)
        let keepActivations = chunks.count <= workers.count
        // Single-threaded BLAS inside each worker: the workers are the parallelism.
        if BLAS.threads != 1 { BLAS.setThreads(1) }

        // Pass 1: embeddings of every sequence (keeping activations in plain mode).
        var embeddings = [Float](repeating: 0, count: sequences.count * d)
        embeddings.withUnsafeMutableBufferPointer { buffer in
            let output = SendableFloats(buffer.baseAddress!)
            parallel(chunks.count) { chunkIndex, worker in
                let (chunk, tower) = chunks[chunkIndex]
                let batch = Self.batch(sequences[chunk])
                let hidden = towers[tower].forward(batch, workspace: worker.workspace, activations: keepActivations ? worker.activations : nil)
                pooling.pool(hidden: hidden, batch: batch, width: d, into: output.pointer + chunk.lowerBound * d)
                worker.keptChunk = keepActivations ? chunkIndex : nil
            }
        }

        // The loss and its gradient with respect to the embeddings.
        let split = queries.count * d
        let output = try loss(queries: Array(embeddings[..<split]), candidates: Array(embeddings[split...]), dimension: d, positives: positives)
        let embeddingGradient = output.queryGradient + output.candidateGradient

        // Pass 2: backpropagate each chunk's rows of the embedding gradient.
        for worker in workers { worker.gradient.update(repeating: 0, count: worker.count) }
        embeddingGradient.withUnsafeBufferPointer { buffer in
            let upstream = SendableFloats(UnsafeMutablePointer(mutating: buffer.baseAddress!))
            parallel(chunks.count) { chunkIndex, worker in
                let (chunk, tower) = chunks[chunkIndex]
                let batch = Self.batch(sequences[chunk])
                let hidden: UnsafeMutablePointer<Float>
                if keepActivations, worker.keptChunk == chunkIndex {
                    hidden = worker.activations.output.pointer
                } else {
                    hidden = towers[tower].forward(batch, workspace: worker.workspace, activations: worker.activations)
                }
                let dHidden = worker.workspace.backwardScratch.reserve(batch.tokenCount * d)
                pooling.poolBackward(hidden: hidden, batch: batch, width: d, pooledGradient: upstream.pointer + chunk.lowerBound * d, into: dHidden)
                towers[tower].backward(batch, activations: worker.activations, outputGradient: dHidden,
                                       parameterGradient: worker.gradient + tower * count)
            }
        }
        let total = count * towers.count
        gradient.update(from: workers[0].gradient, count: total)
        for worker in workers.dropFirst() { RowKernels.add(gradient, worker.gradient, total) }
        return output.value
    }

    /// Runs `body(chunk, worker)` for every chunk: worker `w` takes chunks `w, w + W, ...`.
    ///
    /// A fixed assignment (rather than first come, first served) makes each worker's gradient
    /// sum the same on every run, so training is reproducible bit for bit; in plain mode it is
    /// also what puts chunk `w`'s activations in worker `w`.
    private func parallel(_ chunkCount: Int, _ body: @escaping @Sendable (Int, Worker) -> Void) {
        let workers = self.workers
        DispatchQueue.concurrentPerform(iterations: min(workers.count, chunkCount)) { w in
            for chunk in stride(from: w, to: chunkCount, by: workers.count) { body(chunk, workers[w]) }
        }
    }

    static func batch(_ sequences: ArraySlice<Encoding>) -> TokenBatch {
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
