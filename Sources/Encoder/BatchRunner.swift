import DensekitTensor
import DensekitTokenizer
import Foundation

/// Runs a model over tokenized sequences the way every inference path here does: sort by
/// token length, cut the sorted list into batches, and let one worker per core run whole
/// batches (each with single-threaded BLAS and its own reused buffers). Results come back in
/// input order, `width` floats per sequence.
///
/// BLAS stays single-threaded, always: OpenBLAS's thread count is one setting for the whole
/// process, so changing it per call (more threads for a lone batch) would change what
/// concurrent calls (the server's requests, a rerank beside a search) compute and how fast.
/// Too few sequences for a batch per worker are cut into smaller batches instead; when there
/// are still fewer batches than threads (a single query), the spare threads split the columns of
/// the batch's few-row products (`BLAS.fewRowsThreads`), which computes every element the same
/// way.
enum BatchRunner {
    /// - Parameter body: runs one batch and writes its `[batch.count, width]` rows.
    static func run(_ tokenized: [Encoding], options: EncodeOptions, width: Int, workspaces: WorkspacePool,
                    progress: (@Sendable (Int) -> Void)?,
                    body: @escaping @Sendable (TokenBatch, EncoderWorkspace, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        let n = tokenized.count
        guard n > 0 else { return [] }
        // Longest first: the biggest batches start early, and each batch has similar lengths.
        let order = (0..<n).sorted { tokenized[$0].ids.count > tokenized[$1].ids.count }
        let (batchSize, batchCount, workers) = options.plan(count: n)
        if BLAS.threads != 1 { BLAS.setThreads(1) }
        let spareThreads = max(1, options.threads / max(1, workers))

        return [Float](unsafeUninitializedCapacity: n * width) { buffer, initialized in
            guard let base = buffer.baseAddress else { return }
            let output = SendablePointer(base)
            let schedule = BatchSchedule(batchCount: batchCount)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                let workspace = workspaces.take()
                defer { workspaces.give(workspace) }
                var batch = TokenBatch()
                let rows = FloatBuffer(capacity: batchSize * width)
                while let b = schedule.next() {
                    let members = order[(b * batchSize)..<min(n, (b + 1) * batchSize)]
                    batch.removeAll()
                    for index in members { batch.append(ids: tokenized[index].ids, typeIds: tokenized[index].typeIds) }
                    BLAS.$fewRowsThreads.withValue(spareThreads) { body(batch, workspace, rows.pointer) }
                    for (row, index) in members.enumerated() {
                        (output.pointer + index * width).update(from: rows.pointer + row * width, count: width)
                    }
                    if let progress { schedule.finished(members.count, report: progress) }
                }
            }
            initialized = n * width
        }
    }
}

/// Hands out batch numbers to workers and serialises progress reports.
private final class BatchSchedule: @unchecked Sendable {
    private let lock = NSLock()
    private var nextBatch = 0
    private var done = 0
    private let batchCount: Int

    init(batchCount: Int) { self.batchCount = batchCount }

    func next() -> Int? {
        lock.withLock {
            guard nextBatch < batchCount else { return nil }
            defer { nextBatch += 1 }
            return nextBatch
        }
    }

    func finished(_ count: Int, report: (Int) -> Void) {
        lock.withLock {
            done += count
            report(done)
        }
    }
}

/// Workspaces kept between `encode` calls, so repeated small calls (single queries) do not
/// reallocate their buffers.
final class WorkspacePool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [EncoderWorkspace] = []

    func take() -> EncoderWorkspace { lock.withLock { idle.popLast() } ?? EncoderWorkspace() }
    func give(_ workspace: EncoderWorkspace) { lock.withLock { idle.append(workspace) } }
}

/// A raw pointer that workers write disjoint rows through.
private struct SendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    init(_ pointer: UnsafeMutablePointer<Float>) { self.pointer = pointer }
}
