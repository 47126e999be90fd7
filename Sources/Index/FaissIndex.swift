import CFaiss
import Foundation

/// A FAISS index behind densekit's C shim: built from an index-factory string, searched,
/// saved and loaded. Not thread-safe for writes; concurrent searches are fine.
public final class FaissIndex: @unchecked Sendable {
    /// Similarity of two vectors.
    public enum Metric: String, Sendable, Codable, CaseIterable {
        /// Inner product: cosine for L2-normalised vectors. Higher is better.
        case innerProduct = "ip"
        /// Squared Euclidean distance. Lower is better.
        case l2

        var code: Int32 { self == .innerProduct ? CFAISS_METRIC_INNER_PRODUCT : CFAISS_METRIC_L2 }
    }

    let handle: OpaquePointer
    public let factory: String

    /// Builds an empty index with `faiss::index_factory(dimension, factory, metric)`, after
    /// `checkFactory` (FAISS accepts some strings it cannot run).
    public init(factory: String, dimension: Int, metric: Metric) throws(IndexError) {
        try Self.checkFactory(factory)
        guard dimension > 0 else { throw .invalid("index dimension must be positive, not \(dimension)") }
        var out: OpaquePointer?
        try Self.check(cfaiss_index_create(factory, Int64(dimension), metric.code, &out), "factory \"\(factory)\"")
        guard let out else { throw .faiss("cfaiss_index_create returned no index") }
        handle = out
        self.factory = factory
    }

    /// Reads an index file written by `write(to:)`.
    /// - Parameter mapped: map an IVF index's inverted lists from the file, read-only, instead
    ///   of reading them into memory (`isMapped` says whether it could); such an index can be
    ///   searched, not added to.
    public init(contentsOf path: String, factory: String, mapped: Bool = false) throws(IndexError) {
        var out: OpaquePointer?
        try Self.check(mapped ? cfaiss_index_read_mapped(path, &out) : cfaiss_index_read(path, &out), path)
        guard let out else { throw .faiss("\(path): cfaiss_index_read returned no index") }
        handle = out
        self.factory = factory
    }

    deinit { cfaiss_index_free(handle) }

    public var dimension: Int { Int(cfaiss_index_dimension(handle)) }
    /// Number of vectors held.
    public var count: Int { Int(cfaiss_index_ntotal(handle)) }
    public var isTrained: Bool { cfaiss_index_is_trained(handle) != 0 }
    public var metric: Metric { cfaiss_index_metric(handle) == CFAISS_METRIC_L2 ? .l2 : .innerProduct }

    /// Trains on `count` vectors (IVF centroids, PQ codebooks); a no-op for Flat and HNSW.
    public func train(_ vectors: UnsafePointer<Float>, count: Int) throws(IndexError) {
        let started = DispatchTime.now().uptimeNanoseconds
        try Self.check(cfaiss_index_train(handle, Int64(count), Int64(dimension), vectors), "train")
        trainingSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    }

    /// Wall-clock seconds `train` took on this object (0 for an index read from a file or
    /// one that needs no training): build summaries report it apart from adding.
    public private(set) var trainingSeconds = 0.0

    /// Whether the inverted lists are memory-mapped read-only from the index file.
    public var isMapped: Bool { cfaiss_index_is_mapped(handle) != 0 }

    /// An IVF index's number of inverted lists (nlist), nil for other index types. FAISS
    /// searches min(nprobe, nlist) lists.
    public var invertedListCount: Int? {
        let count = cfaiss_index_list_count(handle)
        return count > 0 ? Int(count) : nil
    }

    /// Whether the inverted lists live in a file (on disk, or mapped read-only).
    public var hasListsOnDisk: Bool { cfaiss_index_lists_on_disk(handle) != 0 }

    /// Moves an empty, trained IVF index's inverted lists into a new file at `path`, so that
    /// added vectors live in that file's memory map instead of the heap.
    public func moveListsToDisk(path: String) throws(IndexError) {
        try Self.check(cfaiss_index_lists_to_disk(handle, path), path)
    }

    /// Writes an index whose lists are on disk: the lists compacted into `dataPath`, then the
    /// index file (naming `dataPath`) at `path`; both synced. Read it back with `mapped: true`.
    public func writeOnDisk(to path: String, dataPath: String) throws(IndexError) {
        try Self.check(cfaiss_index_write_on_disk(handle, path, dataPath), path)
    }

    /// Adds `count` vectors with the given ids.
    public func add(_ vectors: UnsafePointer<Float>, count: Int, ids: UnsafePointer<Int64>) throws(IndexError) {
        guard !isMapped else { throw .unsupported("adding to an index whose lists are memory-mapped read-only (open it without --mmap)") }
        try Self.check(cfaiss_index_add_with_ids(handle, Int64(count), Int64(dimension), vectors, ids), "add")
    }

    /// The most results one query may ask for (`search -k`, rerank depths): results are held
    /// in memory for a chunk of queries at a time.
    public static let maximumK = 100_000

    /// `search(_:count:k:knobs:)` with the index's own settings.
    public func search(_ queries: UnsafePointer<Float>, count: Int, k: Int) throws(IndexError) -> (scores: [Float], ids: [Int64]) {
        try search(queries, count: count, k: k, knobs: SearchKnobs())
    }

    /// The `k` best ids and scores for each of `count` queries; ids are -1 where fewer were found.
    /// `k` is at most `maximumK`. `knobs` apply to this call alone: concurrent searches with
    /// different settings do not see each other's.
    public func search(_ queries: UnsafePointer<Float>, count: Int, k: Int, knobs: SearchKnobs) throws(IndexError) -> (scores: [Float], ids: [Int64]) {
        guard k > 0, k <= Self.maximumK else { throw .invalid("k must be between 1 and \(Self.maximumK), not \(k)") }
        for (name, value) in [("--nprobe", knobs.nprobe), ("--ef-search", knobs.efSearch)] {
            if let value, !(1...Int(Int32.max)).contains(value) { throw .invalid("\(name) must be between 1 and \(Int32.max), not \(value)") }
        }
        var scores = [Float](repeating: 0, count: count * k)
        var ids = [Int64](repeating: -1, count: count * k)
        let rc = scores.withUnsafeMutableBufferPointer { s in
            ids.withUnsafeMutableBufferPointer { i in
                cfaiss_index_search_with(handle, Int64(count), Int64(dimension), queries, Int64(k), Int64(knobs.nprobe ?? 0),
                                         Int64(knobs.efSearch ?? 0), s.baseAddress, i.baseAddress)
            }
        }
        try Self.check(rc, knobs == SearchKnobs() ? "search" : "search with \(knobs) (index \"\(factory)\")")
        return (scores, ids)
    }

    /// Parameters that FAISS's factory parses but cannot run with, per component: a zero-list
    /// IVF (assertion abort), an HNSW with fewer than 2 links (division by log 1), zero-sized
    /// PQ/OPQ/PCA/NSG/RQ/LSH parts. Checked before FAISS sees the string.
    static let factoryParameterBounds: [(prefix: String, range: ClosedRange<Int>)] = [
        ("IVF", 1...(1 << 24)), ("HNSW", 2...512), ("NSG", 2...512), ("OPQ", 1...65_536), ("PQ", 1...65_536),
        ("PCAR", 1...65_536), ("PCAW", 1...65_536), ("PCA", 1...65_536), ("RQ", 1...65_536), ("LSH", 1...65_536), ("RR", 1...65_536),
    ]

    /// Refuses a factory string whose sizes FAISS would crash on (see `factoryParameterBounds`).
    public static func checkFactory(_ factory: String) throws(IndexError) {
        guard !factory.isEmpty, factory.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw .invalid("index factory \"\(factory)\": expected a FAISS index-factory string such as Flat, HNSW32, IVF1024,PQ32")
        }
        let scalars = Array(factory.unicodeScalars)
        var i = 0
        while i < scalars.count {
            // A run of letters followed by a number: "IVF" 1024, "HNSW" 32, "PQ" 16 ...
            guard CharacterSet.letters.contains(scalars[i]) else { i += 1; continue }
            var end = i
            while end < scalars.count, CharacterSet.letters.contains(scalars[end]) { end += 1 }
            var numberEnd = end
            while numberEnd < scalars.count, CharacterSet.decimalDigits.contains(scalars[numberEnd]) { numberEnd += 1 }
            let word = String(String.UnicodeScalarView(scalars[i..<end]))
            let digits = String(String.UnicodeScalarView(scalars[end..<numberEnd]))
            if !digits.isEmpty, let bound = factoryParameterBounds.first(where: { word.hasSuffix($0.prefix) }) {
                guard let value = Int(digits), bound.range.contains(value) else {
                    throw .invalid("index factory \"\(factory)\": \(bound.prefix)\(digits) is out of range; \(bound.prefix) takes \(bound.range.lowerBound)...\(bound.range.upperBound)")
                }
            }
            i = max(numberEnd, i + 1)
        }
    }

    /// IVF: inverted lists visited per query.
    public func setNProbe(_ value: Int) throws(IndexError) {
        try Self.check(cfaiss_index_set_nprobe(handle, Int64(value)), "--nprobe (index \"\(factory)\")")
    }

    /// HNSW: candidate list size at search time (keep it >= k).
    public func setEfSearch(_ value: Int) throws(IndexError) {
        try Self.check(cfaiss_index_set_ef_search(handle, Int64(value)), "--ef-search (index \"\(factory)\")")
    }

    /// Writes the index to `path` (not atomic by itself; `VectorIndex` renames into place).
    public func write(to path: String) throws(IndexError) {
        try Self.check(cfaiss_index_write(handle, path), path)
    }

    /// Sets FAISS's OpenMP threads for calls made from this thread.
    public static func setThreads(_ count: Int) {
        _ = cfaiss_set_omp_threads(Int32(max(1, count)))
    }

    /// From how many queries at once a flat search computes its distances as one BLAS GEMM
    /// (FAISS's default 20; below it, query by query). Process-wide. A server's micro-batches
    /// are small: from 2 up, a batch reads the vectors once, not once per query (a lone query
    /// is faster on the query-by-query path, which FAISS spreads over its OpenMP threads).
    public static func setBLASThreshold(_ queries: Int) {
        cfaiss_set_blas_threshold(Int32(max(1, queries)))
    }

    static func check(_ rc: Int32, _ context: String) throws(IndexError) {
        guard rc != CFAISS_OK else { return }
        let message = String(cString: cfaiss_last_error())
        throw rc == CFAISS_ERR_UNSUPPORTED ? .unsupported("\(context): \(message)") : .faiss("\(context): \(message)")
    }
}

/// Errors from the vector index.
extension FaissIndex {
    /// Vectors an index of `factory` is trained on unless told otherwise: for `IVF<nlist>`,
    /// 256 per list (FAISS's k-means subsamples anything beyond `max_points_per_centroid`, 256,
    /// so more would be read for nothing; under 39 per list it warns), at least 100,000 (PQ's
    /// codebooks: 256 centroids per sub-quantizer) and at most 1,000,000 (1.5 GB at 384
    /// dimensions, the bound on a build's memory besides the index itself).
    public static func defaultTrainingSample(factory: String) -> Int {
        var lists = 0
        if let range = factory.range(of: #"IVF[0-9]+"#, options: .regularExpression) {
            lists = Int(factory[range].dropFirst(3)) ?? 0
        }
        return min(1_000_000, max(100_000, 256 * lists))
    }
}

public enum IndexError: Error, CustomStringConvertible, Equatable {
    /// FAISS refused (bad factory string, unreadable file, untrained index...).
    case faiss(String)
    /// The index type has no such parameter (e.g. --nprobe on HNSW).
    case unsupported(String)
    /// The index folder is missing parts or does not match the request.
    case invalid(String)

    public var description: String {
        switch self {
        case let .faiss(message): "FAISS: \(message)"
        case let .unsupported(message): "not supported: \(message)"
        case let .invalid(message): message
        }
    }
}

/// Search-time settings of one search call; nil keeps the index's own.
public struct SearchKnobs: Sendable, Hashable, Codable, CustomStringConvertible {
    /// IVF: inverted lists visited per query.
    public var nprobe: Int?
    /// HNSW (also an IVF's HNSW quantizer): candidate list size (keep it >= k).
    public var efSearch: Int?
    /// Exact re-scoring (FAISS's IndexRefine k_factor): the index's best `refine` x k
    /// candidates are scored again with their stored vectors and the k best kept. For
    /// compressed indexes (PQ), whose approximate scores cap recall; nil or 1: none.
    public var refine: Int?

    public init(nprobe: Int? = nil, efSearch: Int? = nil, refine: Int? = nil) {
        self.nprobe = nprobe
        self.efSearch = efSearch
        self.refine = refine
    }

    public var description: String {
        [nprobe.map { "nprobe \($0)" }, efSearch.map { "efSearch \($0)" }, refine.map { "refine \($0)" }]
            .compactMap { $0 }.joined(separator: ", ")
    }
}
