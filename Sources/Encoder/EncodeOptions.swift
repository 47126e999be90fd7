import Foundation

/// How `SentenceEncoder.encode` batches and parallelises its work.
public struct EncodeOptions: Sendable {
    /// Sequences per forward pass. Larger batches make bigger GEMMs (better BLAS efficiency)
    /// at the cost of memory; texts are sorted by length first, so padding is never the cost.
    public var batchSize: Int
    /// Worker threads, each running whole batches with single-threaded BLAS.
    public var threads: Int
    /// Truncation length in tokens (including [CLS]/[SEP]); nil uses the model's `max_seq_length`.
    public var maxLength: Int?

    /// Defaults: batch 32, one worker per active core (or `DENSEKIT_THREADS`), the model's max length.
    public init(batchSize: Int = 32, threads: Int? = nil, maxLength: Int? = nil) {
        self.batchSize = max(1, batchSize)
        self.threads = max(1, threads ?? EncodeOptions.defaultThreads)
        self.maxLength = maxLength
    }

    /// How `count` sequences are cut: batches of `batchSize`, or smaller ones when there are
    /// too few for a batch per worker (BLAS stays single-threaded: see `BatchRunner`), and how
    /// many workers run them.
    public func plan(count: Int) -> (batchSize: Int, batches: Int, workers: Int) {
        guard count > 0 else { return (batchSize, 0, 0) }
        let size = max(1, min(batchSize, (count + threads - 1) / threads))
        let batches = (count + size - 1) / size
        return (size, batches, min(threads, batches))
    }

    /// `DENSEKIT_THREADS` when set to a positive integer, else the number of active cores.
    public static var defaultThreads: Int {
        if let value = ProcessInfo.processInfo.environment["DENSEKIT_THREADS"], let n = Int(value), n > 0 { return n }
        return ProcessInfo.processInfo.activeProcessorCount
    }
}
