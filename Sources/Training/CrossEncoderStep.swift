import DensekitEncoder
import DensekitLosses
import DensekitTensor
import DensekitTokenizer
import Foundation

/// One cross-encoder training step's forward and backward passes over groups of pairs.
///
/// A group (a query's positive and negatives) is scored, lossed and backpropagated on its own:
/// the loss couples only the logits of one group. So the groups are spread over the workers
/// (largest first, each to the least loaded worker: balanced token work, and a fixed
/// assignment, so the gradient sum is the same on every run), and each worker runs chunks of
/// whole groups: forward (keeping activations), head, the loss of those groups, head backward,
/// encoder backward, accumulating into its own gradient. Activation memory is one chunk's per
/// worker, and nothing runs forward twice.
public final class CrossEncoderStep {
    public let model: CrossEncoder
    /// Pairs per chunk and worker (rounded down to whole groups, at least one).
    public let chunkSize: Int
    private let workers: [Worker]

    /// What one worker owns.
    final class Worker: @unchecked Sendable {
        let workspace = EncoderWorkspace()
        let activations: BertActivations
        let head = ClassificationHead.Activations()
        let logits = FloatBuffer(), scratch = FloatBuffer(), hiddenGradient = FloatBuffer()
        let gradient: UnsafeMutablePointer<Float>
        let count: Int
        var loss = 0.0

        init(layerCount: Int, parameterCount: Int) {
            activations = BertActivations(layerCount: layerCount, recomputesLayers: false)
            count = parameterCount
            gradient = .allocate(capacity: max(parameterCount, 1))
        }

        deinit { gradient.deallocate() }
    }

    public init(model: CrossEncoder, chunkSize: Int, threads: Int) {
        self.model = model
        self.chunkSize = max(1, chunkSize)
        let layout = model.parameters.layout
        workers = (0..<max(1, threads)).map { _ in Worker(layerCount: layout.configuration.layerCount, parameterCount: layout.count) }
    }

    /// The mean loss over the groups, with `dL/dθ` written over `gradient` (`layout.count` floats).
    ///
    /// - Parameters:
    ///   - groups: per query, its tokenized pairs, all groups the same size, positive first.
    ///   - loss: turns a `[groups, groupSize]` logit matrix into a loss summed over its rows and
    ///     the gradient on the logits (overwriting them).
    public func run(groups: [[Encoding]], loss: @escaping @Sendable (ScoreMatrix) -> Double,
                    gradient: UnsafeMutablePointer<Float>) -> (loss: Float, timings: StepTimings) {
        let started = DispatchTime.now().uptimeNanoseconds
        let groupSize = groups.first?.count ?? 0
        precondition(groups.allSatisfy { $0.count == groupSize } && groupSize > 0, "groups must be non-empty and of one size")
        let perChunk = max(1, chunkSize / groupSize)
        let assignment = Self.assign(groups.map { $0.reduce(0) { $0 + $1.ids.count } }, workers: workers.count)
        let model = self.model, encoder = model.encoder, head = model.head
        let scale = 1 / Float(groups.count)
        if BLAS.threads != 1 { BLAS.setThreads(1) }
        let workers = self.workers
        DispatchQueue.concurrentPerform(iterations: workers.count) { w in
            let worker = workers[w]
            worker.gradient.update(repeating: 0, count: worker.count)
            worker.loss = 0
            let mine = assignment[w]
            for first in stride(from: 0, to: mine.count, by: perChunk) {
                let members = mine[first..<min(first + perChunk, mine.count)]
                var batch = TokenBatch()
                for g in members { for pair in groups[g] { batch.append(ids: pair.ids, typeIds: pair.typeIds) } }
                let h = model.configuration.hiddenSize
                let hidden = encoder.forward(batch, workspace: worker.workspace, activations: worker.activations)
                let logits = worker.logits.reserve(batch.count)
                head.forward(hidden: hidden, batch: batch, activations: worker.head, into: logits)
                worker.loss += loss(ScoreMatrix(values: logits, rows: members.count, columns: groupSize))
                // The step's loss is the mean over all groups of the batch.
                RowKernels.scale(logits, by: scale, batch.count)
                let dHidden = worker.hiddenGradient.reserve(batch.tokenCount * h)
                head.backward(batch: batch, activations: worker.head, logitGradient: logits, parameterGradient: worker.gradient,
                              scratch: worker.scratch, into: dHidden)
                encoder.backward(batch, activations: worker.activations, outputGradient: dHidden, parameterGradient: worker.gradient)
            }
        }
        // Forward, loss and backward alternate chunk by chunk on each worker: their wall time is
        // one figure, reported as the backward phase.
        var timings = StepTimings()
        timings.backward = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let summed = DispatchTime.now().uptimeNanoseconds
        let total = workers[0].count, parts = workers.count
        let accumulators = workers.map { SendableFloats($0.gradient) }, sum = SendableFloats(gradient)
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let first = total * part / parts, length = total * (part + 1) / parts - first
            (sum.pointer + first).update(from: accumulators[0].pointer + first, count: length)
            for accumulator in accumulators.dropFirst() { RowKernels.add(sum.pointer + first, accumulator.pointer + first, length) }
        }
        timings.gradientSum = Double(DispatchTime.now().uptimeNanoseconds - summed) / 1e9
        let value = workers.reduce(0.0) { $0 + $1.loss } / Double(groups.count)
        return (Float(value), timings)
    }

    /// Groups per worker: largest first, each to the least loaded worker (ties: lowest index).
    static func assign(_ costs: [Int], workers: Int) -> [[Int]] {
        var loads = [Int](repeating: 0, count: workers), lists = [[Int]](repeating: [], count: workers)
        for g in costs.indices.sorted(by: { costs[$0] != costs[$1] ? costs[$0] > costs[$1] : $0 < $1 }) {
            let w = loads.indices.min(by: { loads[$0] != loads[$1] ? loads[$0] < loads[$1] : $0 < $1 }) ?? 0
            lists[w].append(g)
            loads[w] += costs[g]
        }
        return lists
    }
}
