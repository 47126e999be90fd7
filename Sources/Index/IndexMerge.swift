import DensekitStore
import DensekitTokenizer
import Foundation

/// `index merge`: several index folders of one model into one, without re-encoding. Passages,
/// vectors (checked against their checksums as they are read) and the BM25 index are copied
/// in batches, each committed with the merge's progress, so a killed merge resumes; the FAISS
/// index is then built from the merged store.
///
/// Order: the shards of one sharded build (`index build --shard I/N`, every I from 0 to N-1,
/// one source, one block size) are interleaved block by block back into the collection's
/// order, so the merged folder has the ids, vectors and search results of one build of the
/// whole collection. Other folders are concatenated in the order given. Either way a passage
/// id found in two folders is refused, naming both.
public struct IndexMerge {
    /// One stretch of the merge: internal ids `range` of source `source`.
    public struct Run: Equatable, Sendable {
        public var source: Int
        public var range: Range<Int>
    }

    public let sources: [IndexFolder]
    /// The merged folder's manifest (the sources' model, metric, factory and BM25 settings).
    public let manifest: StoreManifest
    /// The stretches of the sources, in the merged order.
    public let runs: [Run]
    /// Whether the sources are the shards of one build, interleaved.
    public let interleaved: Bool

    /// Plans the merge of `sources` (opened read-only), in the order given.
    /// - Parameters:
    ///   - factory: the merged FAISS index-factory string (nil: the sources', which must agree).
    ///   - trainSample: vectors the merged index is trained on (nil: the first source's setting).
    ///   - onDisk: keep the merged IVF index's lists in a file (nil: the first source's setting).
    /// - Throws: `IndexError.invalid` naming the folders: an incomplete build, another model or
    ///   metric, a partial or inconsistent set of shards, factories that differ without `factory`.
    public init(sources: [IndexFolder], factory: String? = nil, trainSample: Int? = nil, onDisk: Bool? = nil, log: (String) -> Void = { _ in }) throws {
        guard let first = sources.first else { throw IndexError.invalid("index merge needs at least one folder to merge") }
        var manifests: [StoreManifest] = []
        var counts: [Int] = []
        for source in sources {
            let manifest = try source.manifest()
            guard try source.store.progress().complete else {
                throw IndexError.invalid("\(source.path): its build is not complete; run its `densekit index build` (or import) again to finish it, then merge")
            }
            if let reference = manifests.first {
                if let difference = reference.model.difference(from: manifest.model) {
                    throw IndexError.invalid("\(source.path) was built with \(manifest.model.name), \(first.path) with \(reference.model.name); they differ in \(difference): vectors of two models cannot be merged")
                }
                guard manifest.metric == reference.metric else {
                    throw IndexError.invalid("\(source.path) uses metric \(manifest.metric), \(first.path) \(reference.metric): scores would not compare")
                }
            }
            manifests.append(manifest)
            counts.append(try source.store.count())
        }
        let reference = manifests[0]
        let factories = Set(manifests.map(\.factory))
        guard factory != nil || factories.count == 1 else {
            throw IndexError.invalid("the folders are indexed as \(factories.sorted().map { "\"\($0)\"" }.joined(separator: ", ")): choose the merged index's with --factory")
        }
        var merged = StoreManifest(model: reference.model, source: reference.source, sourceFormat: reference.sourceFormat,
                                   factory: factory ?? reference.factory, metric: reference.metric)
        merged.vectorSource = Set(manifests.map(\.vectorSource)).count == 1 ? reference.vectorSource : nil
        merged.mergedFrom = sources.map { URL(fileURLWithPath: $0.path).standardizedFileURL.path }
        merged.trainSample = trainSample ?? reference.trainSample
        merged.onDisk = onDisk.map { $0 ? true : nil } ?? reference.onDisk
        if manifests.allSatisfy({ $0.lexical == reference.lexical }) {
            merged.lexical = reference.lexical
        } else {
            log("warning: the folders' BM25 indexes differ (or some have none); the merged folder gets none: add one with `densekit index rebuild --index DIR --bm25`")
        }

        let shards = manifests.compactMap(\.shard)
        if shards.isEmpty {
            if Set(manifests.map(\.source)).count > 1 { merged.source = manifests.map(\.source).joined(separator: " + ") }
            runs = counts.enumerated().map { Run(source: $0.offset, range: 0..<$0.element) }
            interleaved = false
        } else {
            guard shards.count == sources.count else {
                let whole = zip(sources, manifests).filter { $0.1.shard == nil }.map(\.0.path)
                throw IndexError.invalid("\(whole.joined(separator: ", ")) \(whole.count == 1 ? "is" : "are") not a shard, the others are: merge the shards of one build, or whole folders")
            }
            let plan = shards[0]
            guard shards.allSatisfy({ $0.count == plan.count && $0.blockSize == plan.blockSize }), Set(manifests.map(\.source)).count == 1 else {
                throw IndexError.invalid("the shards are not of one build: \(zip(sources, manifests).map { "\($0.0.path) is \($0.1.shard.map { "\($0) in blocks of \($0.blockSize)" } ?? "whole") of \($0.1.source)" }.joined(separator: "; "))")
            }
            let given = shards.map(\.index)
            for (position, index) in given.enumerated() where given.firstIndex(of: index) != position {
                throw IndexError.invalid("\(sources[position].path) and \(sources[given.firstIndex(of: index) ?? 0].path) are both shard \(shards[position])")
            }
            let missing = (0..<plan.count).filter { !given.contains($0) }
            guard missing.isEmpty else {
                throw IndexError.invalid("shard\(missing.count == 1 ? "" : "s") \(missing.map { "\($0)/\(plan.count)" }.joined(separator: ", ")) of \(reference.source) \(missing.count == 1 ? "is" : "are") missing: merge all \(plan.count) shards")
            }
            let total = counts.reduce(0, +)
            for (position, shard) in shards.enumerated() where counts[position] != shard.passages(of: total) {
                throw IndexError.invalid("\(sources[position].path) (shard \(shard)) holds \(counts[position]) passages; of \(total) in blocks of \(shard.blockSize) it should hold \(shard.passages(of: total)): the shards were built from different versions of the collection")
            }
            let sourceOfShard = Dictionary(uniqueKeysWithValues: given.enumerated().map { ($0.element, $0.offset) })
            var next = [Int](repeating: 0, count: sources.count)
            var runs: [Run] = []
            var block = 0
            while block * plan.blockSize < total {
                let source = sourceOfShard[block % plan.count] ?? 0
                let size = min(plan.blockSize, total - block * plan.blockSize)
                runs.append(Run(source: source, range: next[source]..<(next[source] + size)))
                next[source] += size
                block += 1
            }
            self.runs = runs
            interleaved = true
        }
        self.sources = sources
        manifest = merged
    }

    /// Passages the merged folder will hold.
    public var total: Int { runs.reduce(0) { $0 + $1.range.count } }

    /// Copies the sources into `destination` (created empty, or a merge of the same plan
    /// interrupted before: it resumes), then builds its FAISS index.
    /// - Parameter progress: called after each commit with the passages merged so far (an error
    ///   it throws stops the merge there, as a kill would).
    /// - Returns: the merged FAISS index.
    @discardableResult
    public func run(into destination: IndexFolder, commitEvery: Int = 1_024, progress: (Int) throws -> Void = { _ in }, log: (String) -> Void = { _ in },
                    status: ((String) -> Void)? = nil) throws -> FaissIndex {
        let store = destination.store
        if let existing = try store.manifest(), try store.count() > 0 {
            guard existing == manifest else {
                throw IndexError.invalid("\(destination.path) already holds another index (\(existing.mergedFrom.map { "a merge of \($0.joined(separator: ", "))" } ?? "built from \(existing.source)")); merge into a new folder")
            }
        } else {
            try store.setManifest(manifest)
            try store.setProgress(BuildProgress())
        }
        var state = try store.progress()
        let dimension = manifest.model.dimension
        let lexical = try manifest.lexical.map { try LexicalAnalyzer(settings: $0) }.map { analyzer in { (text: String) in analyzer.frequencies(text) } }
        if state.recordsConsumed > 0 && !state.complete { statusLine("resuming after \(state.recordsConsumed) merged passages", status, log) }
        var skip = state.recordsConsumed
        var merged = 0
        for run in runs {
            var start = run.range.lowerBound
            if skip >= run.range.count {
                skip -= run.range.count
                continue
            }
            start += skip
            skip = 0
            let source = sources[run.source]
            while start < run.range.upperBound {
                let end = min(start + commitEvery, run.range.upperBound)
                let records = try source.store.passages(internalIds: Array(start..<end))
                var vectors = [Float](repeating: 0, count: (end - start) * dimension)
                try vectors.withUnsafeMutableBufferPointer { try source.store.readVectors(start..<end, dimension: dimension, into: $0.baseAddress!) }
                var batch: [(id: String, text: String, origin: String)] = []
                for (offset, record) in records.enumerated() {
                    guard let record else { throw IndexError.invalid("\(source.path): internal id \(start + offset) has no passage; run `densekit index verify --index \(source.path)`") }
                    batch.append((record.id, record.text, "\(source.path) (internal id \(start + offset))"))
                }
                state.recordsConsumed += batch.count
                do {
                    _ = try store.append(batch, vectors: vectors, dimension: dimension, policy: .error, progress: state, lexical: lexical)
                } catch StoreError.duplicateId(_, let id, let origin) {
                    let earlier = try sources.first { try $0 !== source && $0.store.internalId(of: id) != nil }
                    throw IndexError.invalid("\(origin): passage id '\(id)' is also in \(earlier?.path ?? "the same folder"): the folders overlap; merge folders of disjoint passages")
                }
                try progress(try store.count())
                // Both stores' pages read so far leave this process's memory map every scan
                // chunk (they stay cached): the resident set does not grow with the merge.
                merged += end - start
                if merged >= IndexFolder.scanChunk {
                    merged = 0
                    source.store.releaseMappedPages()
                    store.releaseMappedPages()
                }
                start = end
            }
        }
        state.complete = true
        try store.setProgress(state)
        return try destination.openVectorIndex(log: log, status: status)
    }
}
