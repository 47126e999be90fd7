import DensekitEncoder
import DensekitIndex
import DensekitSearch
import Foundation

/// Micro-batching of concurrent dense searches: requests that arrive while the encoder is busy
/// with earlier ones (or within `maxWait` of each other; 0 by default, so that a lone request
/// starts at once) are embedded in one encoder call and
/// searched in one FAISS call per distinct set of knobs, so that many small requests cost about
/// what one batch of the same queries costs (`densekit search --queries`).
///
/// One encoder call runs at a time (on `queue`, off the server's event loops); its workers use
/// every core. A request waits at most `maxWait` for company before its batch starts, plus the
/// batches ahead of it; after a batch of several requests, the next batch's first request may
/// wait `busyWait` (0 by default) for the others of that batch, which come back together.
/// Each request's results are exactly what it would get alone: the
/// encoder's per-sequence result does not depend on its batch companions beyond float
/// rounding, and knobs are per FAISS call (`SearchKnobs`), never set on the shared index.
public final class QueryBatcher: @unchecked Sendable {
    /// One request's part of a batch.
    struct Pending {
        let texts: [String]
        let k: Int
        let knobs: SearchKnobs
        let includeText: Bool
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Result<[[Hit]], Error>, Never>
    }

    public let searcher: Searcher
    public let encode: EncodeOptions
    /// The longest a request waits for others before its batch starts.
    public let maxWait: Duration
    /// The wait (at least `maxWait`) of a batch's first request when the batch before held
    /// several requests: clients are concurrent, and those answered together come back
    /// together. Without it the first to come back starts a batch of one or two, and the
    /// others wait behind it; a lone client (batches of one) never waits.
    public let busyWait: Duration
    /// Most texts embedded in one encoder call.
    public let maxBatch: Int
    private let queue = DispatchQueue(label: "densekit.serve.batcher")
    private let lock = NSLock()
    private var pending: [Pending] = []
    private var scheduled = false
    /// Requests in the last batch taken.
    private var lastBatchRequests = 0
    /// Batches run and texts embedded so far (for tests and /v1/index).
    private var counts = (batches: 0, texts: 0)

    /// The longest a request may wait before its batch starts; past it, a 503 (`ServeError.busy`).
    public let timeout: Duration

    public init(searcher: Searcher, encode: EncodeOptions, maxWait: Duration = .zero, busyWait: Duration = .zero, maxBatch: Int = 256,
                timeout: Duration = .seconds(60)) {
        self.searcher = searcher
        self.encode = encode
        self.maxWait = maxWait
        self.busyWait = max(maxWait, busyWait)
        self.maxBatch = max(1, maxBatch)
        self.timeout = timeout
    }

    /// Encoder calls so far, the texts they embedded, and the requests in the last batch taken.
    public var statistics: (batches: Int, texts: Int, lastBatchRequests: Int) {
        lock.withLock { (counts.batches, counts.texts, lastBatchRequests) }
    }

    /// How long the next batch's first request would wait for company: `busyWait` after a
    /// batch of several requests, else `maxWait`.
    public var nextStartDelay: Duration { lock.withLock { startDelayLocked } }
    private var startDelayLocked: Duration { lastBatchRequests > 1 ? busyWait : maxWait }

    /// The `k` best hits for each text, as `Searcher.search` gives them.
    public func search(_ texts: [String], k: Int, knobs: SearchKnobs, includeText: Bool) async throws -> [[Hit]] {
        guard !texts.isEmpty else { return [] }
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<[[Hit]], Error>, Never>) in
            let startAfter: Duration? = lock.withLock {
                pending.append(Pending(texts: texts, k: k, knobs: knobs, includeText: includeText, deadline: .now + timeout, continuation: continuation))
                guard !scheduled else { return nil }
                scheduled = true
                return startDelayLocked
            }
            if let startAfter {
                let wait = Double(startAfter.components.attoseconds) / 1e18 + Double(startAfter.components.seconds)
                queue.asyncAfter(deadline: .now() + wait) { self.drain() }
            }
        }
        return try result.get()
    }

    /// Runs batches until nothing is pending; requests that arrive meanwhile join the next one.
    private func drain() {
        while true {
            let batch: [Pending] = lock.withLock {
                var taken: [Pending] = [], texts = 0
                while let next = pending.first, taken.isEmpty || texts + next.texts.count <= maxBatch {
                    taken.append(pending.removeFirst())
                    texts += next.texts.count
                }
                if taken.isEmpty { scheduled = false } else { lastBatchRequests = taken.count }
                return taken
            }
            guard !batch.isEmpty else { return }
            let now = ContinuousClock.now
            for late in batch where late.deadline < now { late.continuation.resume(returning: .failure(ServeError.busy(waited: timeout))) }
            let onTime = batch.filter { $0.deadline >= now }
            if !onTime.isEmpty { run(onTime) }
        }
    }

    private func run(_ batch: [Pending]) {
        let texts = batch.flatMap(\.texts)
        let embeddings = searcher.encoder.encode(texts, options: encode)
        lock.withLock {
            counts.batches += 1
            counts.texts += texts.count
        }
        // One FAISS call per distinct knobs, at the largest k asked with them.
        var offsets: [Int] = [], offset = 0
        for item in batch {
            offsets.append(offset)
            offset += item.texts.count
        }
        let groups = Dictionary(grouping: batch.indices, by: { batch[$0].knobs })
        let width = embeddings.dimension
        for (knobs, members) in groups {
            let k = members.map { batch[$0].k }.max() ?? 1
            let includeText = members.contains { batch[$0].includeText }
            var vectors: [Float] = []
            vectors.reserveCapacity(members.reduce(0) { $0 + batch[$1].texts.count } * width)
            for m in members {
                vectors += embeddings.values[(offsets[m] * width)..<((offsets[m] + batch[m].texts.count) * width)]
            }
            let result = Result { () throws -> [[Hit]] in
                try vectors.withUnsafeBufferPointer { buffer in
                    try searcher.search(embedded: buffer.baseAddress!, count: vectors.count / width, k: k, includeText: includeText, knobs: knobs)
                }
            }
            var row = 0
            for m in members {
                let item = batch[m]
                let mine = result.map { hits in
                    hits[row..<(row + item.texts.count)].map { list in
                        list.prefix(item.k).map { Hit(rank: $0.rank, id: $0.id, score: $0.score, text: item.includeText ? $0.text : "") }
                    }
                }
                row += item.texts.count
                item.continuation.resume(returning: mine)
            }
        }
    }
}
