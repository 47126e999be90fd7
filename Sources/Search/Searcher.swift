import DensekitEncoder
import DensekitIndex
import DensekitStore
import Foundation

/// One retrieved passage.
public struct Hit: Sendable, Equatable {
    /// 1-based rank.
    public var rank: Int
    /// The passage's id in the corpus.
    public var id: String
    /// Inner product (higher is better) or squared L2 distance (lower is better).
    public var score: Float
    /// The passage text (empty when not asked for).
    public var text: String

    public init(rank: Int, id: String, score: Float, text: String) {
        self.rank = rank
        self.id = id
        self.score = score
        self.text = text
    }
}

/// Queries in, ranked passages out: encodes queries with the index's own model (its query tower,
/// for a two-tower model), searches the FAISS index and maps FAISS labels back to corpus ids
/// through the store.
///
/// Several folders of one model (the shards of a sharded build, searched without merging
/// them) are searched with one encoding of the queries; their top k are merged by score, the
/// way one index over all their passages ranks them (ties: the earlier folder, then FAISS's
/// order).
public final class Searcher: @unchecked Sendable {
    /// The first folder searched.
    public let folder: IndexFolder
    /// The query encoder.
    public let encoder: SentenceEncoder
    /// The first folder's FAISS index.
    public let index: FaissIndex
    /// The first folder's manifest (every folder's model and metric are the same).
    public let manifest: StoreManifest
    /// Every folder searched, with its FAISS index.
    public let parts: [(folder: IndexFolder, index: FaissIndex)]

    /// Opens the index folder and its model.
    ///
    /// - Parameters:
    ///   - model: a model folder to use instead of the recorded one; refused unless it is the
    ///     same model (weights fingerprint, dimension, pooling, normalisation).
    ///   - log: warnings (e.g. an index file rebuilt from the store).
    public convenience init(folder: IndexFolder, model: URL? = nil, mapped: Bool = false, log: (String) -> Void) throws {
        try self.init(folders: [folder], model: model, mapped: mapped, log: log)
    }

    /// Opens several index folders of one model (and metric) and the model once.
    /// - Parameter mapped: map IVF inverted lists from the index files (`IndexFolder.openVectorIndex`).
    /// - Throws: `IndexError.invalid` naming two folders whose models or metrics differ.
    public init(folders: [IndexFolder], model: URL? = nil, mapped: Bool = false, log: (String) -> Void) throws {
        guard let folder = folders.first else { throw IndexError.invalid("no index folder to search") }
        self.folder = folder
        let manifest = try folder.manifest()
        self.manifest = manifest
        for other in folders.dropFirst() {
            let theirs = try other.manifest()
            if let difference = manifest.model.difference(from: theirs.model) {
                throw IndexError.invalid("\(other.path) was built with \(theirs.model.name), \(folder.path) with \(manifest.model.name); they differ in \(difference): their scores do not compare, search them apart")
            }
            guard theirs.metric == manifest.metric else {
                throw IndexError.invalid("\(other.path) uses metric \(theirs.metric), \(folder.path) \(manifest.metric): their scores do not compare, search them apart")
            }
        }
        let modelURL = model ?? URL(fileURLWithPath: manifest.model.path)
        let pair: DualEncoder
        do {
            pair = try DualEncoder.load(directory: modelURL)
        } catch {
            throw IndexError.invalid("\(folder.path) was built with the model at \(manifest.model.path), which cannot be loaded (\(error)); pass --model with the same model")
        }
        encoder = pair.query
        let identity = try pair.identity()
        if let difference = manifest.model.difference(from: identity) {
            throw StoreError.mismatch(path: folder.path, reason: "query model \(modelURL.path) (weights \(identity.weightsFingerprint), dimension \(identity.dimension), \(identity.pooling) pooling\(identity.normalized ? ", normalized" : "")) differs from the index's model \(manifest.model.path) (weights \(manifest.model.weightsFingerprint), dimension \(manifest.model.dimension), \(manifest.model.pooling) pooling\(manifest.model.normalized ? ", normalized" : "")) in \(difference)")
        }
        parts = try folders.map { (folder: $0, index: try $0.openVectorIndex(mapped: mapped, log: log)) }
        index = parts[0].index
        for part in parts {
            if let warning = try Self.coverageWarning(part.folder) { log(warning) }
        }
    }

    /// What a search of `folder` misses, when its build is not finished (running or killed);
    /// nil for a complete index.
    public static func coverageWarning(_ folder: IndexFolder) throws -> String? {
        let complete = try folder.store.progress().complete
        guard !complete || folder.beingBuiltBy != nil else { return nil }
        let state = folder.beingBuiltBy.map { "is being built (PID \($0))" }
            ?? "is incomplete (its build stopped before the end of the corpus; run the same `densekit index build` to finish it)"
        return "warning: \(folder.path) \(state): searching the \(try folder.store.count()) passages stored so far"
    }

    /// What `knobs` will not do as asked on these folders, as warnings: an nprobe above an IVF
    /// index's number of lists (FAISS searches every list then, no more).
    public func knobWarnings(_ knobs: SearchKnobs) -> [String] {
        guard let nprobe = knobs.nprobe else { return [] }
        return parts.compactMap { part in
            guard let lists = part.index.invertedListCount, nprobe > lists else { return nil }
            return "warning: --nprobe \(nprobe) is above the \(lists) inverted lists of \(part.folder.path): all \(lists) are searched"
        }
    }

    /// The `k` best passages for each query, best first.
    ///
    /// - Parameters:
    ///   - includeText: also fetch passage texts (for display; run files need only ids).
    ///   - progress: called with the number of queries done, after each chunk.
    ///   - knobs: nprobe / efSearch for these queries alone (the shared index is not changed).
    ///   - chunk: queries encoded and searched together.
    public func search(_ queries: [String], k: Int, includeText: Bool = false, encode options: EncodeOptions = EncodeOptions(),
                       knobs: SearchKnobs = SearchKnobs(), chunk: Int = 256, progress: (Int) -> Void = { _ in }) throws -> [[Hit]] {
        var results: [[Hit]] = []
        results.reserveCapacity(queries.count)
        let chunk = max(1, chunk)
        var start = 0
        while start < queries.count {
            let end = min(start + chunk, queries.count)
            let embeddings = encoder.encode(Array(queries[start..<end]), options: options)
            results += try embeddings.values.withUnsafeBufferPointer { buffer in
                try search(embedded: buffer.baseAddress!, count: end - start, k: k, includeText: includeText, knobs: knobs)
            }
            start = end
            progress(start)
        }
        return results
    }

    /// The `k` best passages for each row of `vectors` (query vectors made beforehand, e.g. by
    /// `densekit embed --format npy` with this index's model), read and searched `chunk` rows at
    /// a time: search alone, without loading time spent encoding.
    /// - Throws: `IndexError.invalid` naming the file when its width is not the index's dimension.
    public func search(vectors: NpyMatrixFile, k: Int, includeText: Bool = false, knobs: SearchKnobs = SearchKnobs(),
                       chunk: Int = 256, progress: (Int) -> Void = { _ in }) throws -> [[Hit]] {
        guard vectors.columns == manifest.model.dimension else {
            throw IndexError.invalid("\(vectors.path): \(vectors.columns) columns, but \(folder.path)'s vectors have dimension \(manifest.model.dimension)")
        }
        var results: [[Hit]] = []
        results.reserveCapacity(vectors.rows)
        var start = 0
        while start < vectors.rows {
            let end = min(start + max(1, chunk), vectors.rows)
            let rows = try vectors.read(rows: start..<end)
            results += try rows.withUnsafeBufferPointer { buffer in
                try search(embedded: buffer.baseAddress!, count: end - start, k: k, includeText: includeText, knobs: knobs)
            }
            start = end
            progress(start)
        }
        return results
    }

    /// The `k` best passages for each of `count` query vectors (made by `encoder`), best first.
    public func search(embedded vectors: UnsafePointer<Float>, count: Int, k: Int, includeText: Bool = false,
                       knobs: SearchKnobs = SearchKnobs()) throws -> [[Hit]] {
        guard parts.count > 1 else { return try Self.search(parts[0], vectors, count: count, k: k, includeText: includeText, knobs: knobs) }
        let perPart = try parts.map { try Self.search($0, vectors, count: count, k: k, includeText: includeText, knobs: knobs) }
        let higherIsBetter = index.metric != .l2
        return (0..<count).map { q in
            // Each part's list is best first: a k-way merge, earlier parts first on ties.
            var next = [Int](repeating: 0, count: parts.count)
            var merged: [Hit] = []
            var seen = Set<String>()
            while merged.count < k {
                var best: Int?
                for part in perPart.indices where next[part] < perPart[part][q].count {
                    guard let current = best else { best = part; continue }
                    let a = perPart[part][q][next[part]].score, b = perPart[current][q][next[current]].score
                    if higherIsBetter ? a > b : a < b { best = part }
                }
                guard let part = best else { break }
                var hit = perPart[part][q][next[part]]
                next[part] += 1
                // A passage in two folders counts once, at its better place.
                guard seen.insert(hit.id).inserted else { continue }
                hit.rank = merged.count + 1
                merged.append(hit)
            }
            return merged
        }
    }

    /// One folder's `k` best for each query vector.
    private static func search(_ part: (folder: IndexFolder, index: FaissIndex), _ vectors: UnsafePointer<Float>, count: Int, k: Int,
                               includeText: Bool, knobs: SearchKnobs) throws -> [[Hit]] {
        var (scores, labels) = try part.index.search(vectors, count: count, k: k, knobs: knobs)
        if let refine = knobs.refine, refine > 1 {
            (scores, labels) = try ExactRefine(store: part.folder.store, index: part.index)
                .refine(vectors, count: count, k: k, factor: refine, knobs: knobs)
        }
        let passages = try part.folder.store.passages(internalIds: labels.map(Int.init), includeText: includeText)
        return (0..<count).map { q in
            var hits: [Hit] = []
            for r in 0..<k {
                guard let passage = passages[q * k + r] else { continue }
                hits.append(Hit(rank: hits.count + 1, id: passage.id, score: scores[q * k + r], text: passage.text))
            }
            return hits
        }
    }
}
