import DensekitIndex
import DensekitTensor
import DensekitTestSupport
import Foundation
import Testing

/// densekit's SIMD distance storage under FAISS's HNSW and flat indexes: the same neighbours
/// and, to float rounding, the same distances as FAISS's own scalar code; standard files.
@Suite struct FaissDistanceTests {
    /// `count` random vectors; normalised for the inner product (cosine), as densekit stores them.
    static func vectors(_ count: Int, dimension: Int, seed: UInt64, normalized: Bool) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        var out = (0..<(count * dimension)).map { _ in Float.random(in: -1...1, using: &generator) }
        if normalized {
            for row in 0..<count {
                let range = (row * dimension)..<((row + 1) * dimension)
                let norm = out[range].reduce(0) { $0 + $1 * $1 }.squareRoot()
                for i in range { out[i] /= norm }
            }
        }
        return out
    }

    static func build(_ factory: String, _ metric: FaissIndex.Metric, _ data: [Float], dimension: Int,
                      kernel: FaissIndex.DistanceKernel? = nil) throws -> FaissIndex {
        let index = try FaissIndex(factory: factory, dimension: dimension, metric: metric)
        if let kernel { try index.setDistanceKernel(kernel) }
        let ids = (0..<Int64(data.count / dimension)).map { $0 * 3 + 1 }  // ids that are not positions
        try index.add(data, count: ids.count, ids: ids)
        return index
    }

    /// The kernels this processor runs besides FAISS's own.
    static var simdKernels: [FaissIndex.DistanceKernel] { [.scalar, .avx2, .avx512].filter(\.isSupported) }

    /// The largest difference relative to the value's size (squared L2 distances of random
    /// 384-d vectors are ~250, where float rounding alone moves the fourth decimal).
    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
    }

    @Test func newIndexesGetTheBestKernel() throws {
        let hnsw = try FaissIndex(factory: "HNSW16", dimension: 8, metric: .innerProduct)
        #expect(hnsw.distanceKernel == FaissIndex.DistanceKernel.best)
        let flat = try FaissIndex(factory: "Flat", dimension: 8, metric: .l2)
        #expect(flat.distanceKernel == FaissIndex.DistanceKernel.best)
        #if arch(x86_64)
        #expect(FaissIndex.DistanceKernel.scalar.isSupported && FaissIndex.DistanceKernel.faiss.isSupported)
        #endif
    }

    /// One HNSW graph, searched through each kernel: identical neighbours, distances equal to
    /// float rounding. Dimensions 384 (the model's) and 37 (exercises the vector tails).
    @Test(arguments: [(384, FaissIndex.Metric.innerProduct), (37, .innerProduct), (384, .l2), (37, .l2)])
    func hnswSearchMatchesFaissScalarDistances(dimension: Int, metric: FaissIndex.Metric) throws {
        let data = Self.vectors(1500, dimension: dimension, seed: 3, normalized: metric == .innerProduct)
        let queries = Self.vectors(40, dimension: dimension, seed: 4, normalized: metric == .innerProduct)
        let index = try Self.build("HNSW16", metric, data, dimension: dimension)
        try index.setEfSearch(64)
        try index.setDistanceKernel(.faiss)
        let reference = try index.search(queries, count: 40, k: 10)
        for kernel in Self.simdKernels {
            try index.setDistanceKernel(kernel)
            #expect(index.distanceKernel == kernel)
            let got = try index.search(queries, count: 40, k: 10)
            #expect(got.ids == reference.ids, "\(kernel)")
            #expect(Self.maxDifference(got.scores, reference.scores) < 1e-5, "\(kernel)")
        }
    }

    /// densekit's HNSW search runs FAISS's algorithm over the same graph and storage: the same
    /// neighbours and the same distances, bit for bit (the four-at-a-time kernels equal the
    /// one-at-a-time ones), on one thread and on two, and for k above efSearch or the count.
    @Test(arguments: [(384, FaissIndex.Metric.innerProduct), (37, .l2)], [1, 10, 200])
    func densekitHNSWSearchEqualsFaissSearch(shape: (Int, FaissIndex.Metric), k: Int) throws {
        let (dimension, metric) = shape
        let data = Self.vectors(1200, dimension: dimension, seed: 13, normalized: metric == .innerProduct)
        let queries = Self.vectors(30, dimension: dimension, seed: 14, normalized: metric == .innerProduct)
        let index = try Self.build("HNSW16", metric, data, dimension: dimension)
        try index.setEfSearch(48)
        for kernel in Self.simdKernels {
            try index.setDistanceKernel(kernel)
            try index.setHNSWCode(.faiss)
            let reference = try index.search(queries, count: 30, k: k)
            try index.setHNSWCode(.densekit)
            for threads in [1, 2] {
                FaissIndex.setThreads(threads)
                let got = try index.search(queries, count: 30, k: k)
                #expect(got.ids == reference.ids, "\(kernel), \(threads) threads")
                #expect(got.scores == reference.scores, "\(kernel), \(threads) threads")
            }
        }
        FaissIndex.setThreads(1)
        let small = try Self.build("HNSW16", metric, Array(data.prefix(5 * dimension)), dimension: dimension)
        let padded = try small.search(Array(queries.prefix(dimension)), count: 1, k: 8)
        #expect(padded.ids.filter { $0 == -1 }.count == 3)
    }

    /// Searches of one index from several threads at once (the HTTP server's case) each get
    /// what a lone search gets: the search state is per call, the graph and vectors are shared.
    @Test func concurrentSearchesOfOneIndexAgree() throws {
        let dimension = 40
        let data = Self.vectors(2000, dimension: dimension, seed: 15, normalized: true)
        let queries = Self.vectors(64, dimension: dimension, seed: 16, normalized: true)
        let index = try Self.build("HNSW16", .innerProduct, data, dimension: dimension)
        try index.setEfSearch(40)
        let alone = try (0..<64).map { q in try index.search(Array(queries[(q * dimension)..<((q + 1) * dimension)]), count: 1, k: 5).ids }
        let results = SearchResults(count: 64)
        DispatchQueue.concurrentPerform(iterations: 64) { q in
            let found = try? index.search(Array(queries[(q * dimension)..<((q + 1) * dimension)]), count: 1, k: 5).ids
            results.set(q, found ?? [])
        }
        #expect(results.all == alone)
    }

    /// FAISS's Flat index and densekit's `ExactSearch` answer as the same `VectorSearch`.
    @Test func flatIndexAndExactSearchAgree() throws {
        let dimension = 32
        let data = Self.vectors(900, dimension: dimension, seed: 19, normalized: true)
        let queries = Self.vectors(25, dimension: dimension, seed: 20, normalized: true)
        let ids = (0..<Int64(900)).map { $0 * 3 + 1 }
        let flat = try Self.build("Flat", .innerProduct, data, dimension: dimension)
        let exact = ExactSearch(dimension: dimension)
        data.withUnsafeBufferPointer { exact.add($0.baseAddress!, count: 900, ids: ids) }
        let searches: [any VectorSearch] = [flat, exact]
        let results = try searches.map { search in try queries.withUnsafeBufferPointer { try search.search($0.baseAddress!, count: 25, k: 10) } }
        #expect(results[0].ids == results[1].ids)
        #expect(Self.maxDifference(results[0].scores, results[1].scores) < 1e-5)
    }

    /// densekit's HNSW insertion is FAISS's, step for step: on one thread (where FAISS's build is
    /// deterministic) it builds the very graph FAISS's IndexHNSW::add builds over the same
    /// storage, so every search answers identically; ids map as IndexIDMap2 maps them.
    @Test(arguments: [FaissIndex.Metric.innerProduct, .l2])
    func densekitHNSWBuildEqualsFaissBuild(metric: FaissIndex.Metric) throws {
        let dimension = 24
        let data = Self.vectors(1500, dimension: dimension, seed: 17, normalized: metric == .innerProduct)
        let queries = Self.vectors(40, dimension: dimension, seed: 18, normalized: metric == .innerProduct)
        FaissIndex.setThreads(1)
        func built(_ code: FaissIndex.HNSWCode) throws -> FaissIndex {
            let index = try FaissIndex(factory: "HNSW16", dimension: dimension, metric: metric)
            try index.setHNSWCode(code)
            let ids = (0..<Int64(1500)).map { $0 * 3 + 1 }
            // Two additions: the second links into the graph the first made.
            try index.add(Array(data.prefix(700 * dimension)), count: 700, ids: Array(ids.prefix(700)))
            try index.add(Array(data.suffix(800 * dimension)), count: 800, ids: Array(ids.suffix(800)))
            try index.setHNSWCode(.faiss)
            try index.setEfSearch(32)
            return index
        }
        let faiss = try built(.faiss), densekit = try built(.densekit)
        #expect(densekit.count == 1500)
        let a = try faiss.search(queries, count: 40, k: 10), b = try densekit.search(queries, count: 40, k: 10)
        #expect(a.ids == b.ids)
        #expect(a.scores == b.scores)
        #expect(Set(b.ids).isSubset(of: Set((0..<Int64(1500)).map { $0 * 3 + 1 })))
    }

    /// A graph built with SIMD distances finds neighbours as well as one built by FAISS alone.
    @Test(arguments: [FaissIndex.Metric.innerProduct, .l2])
    func hnswBuiltWithSIMDDistancesHasTheSameRecall(metric: FaissIndex.Metric) throws {
        let dimension = 48
        let data = Self.vectors(3000, dimension: dimension, seed: 5, normalized: metric == .innerProduct)
        let queries = Self.vectors(100, dimension: dimension, seed: 6, normalized: metric == .innerProduct)
        let exact = try Self.build("Flat", metric, data, dimension: dimension, kernel: .faiss).search(queries, count: 100, k: 10)
        func recall(_ ids: [Int64]) -> Double {
            var hits = 0
            for q in 0..<100 {
                let truth = Set(exact.ids[(q * 10)..<((q + 1) * 10)])
                hits += ids[(q * 10)..<((q + 1) * 10)].filter(truth.contains).count
            }
            return Double(hits) / 1000
        }
        let plain = try Self.build("HNSW16", metric, data, dimension: dimension, kernel: .faiss)
        let simd = try Self.build("HNSW16", metric, data, dimension: dimension)
        for index in [plain, simd] { try index.setEfSearch(128) }
        let plainRecall = recall(try plain.search(queries, count: 100, k: 10).ids)
        let simdRecall = recall(try simd.search(queries, count: 100, k: 10).ids)
        #expect(plainRecall > 0.9)
        #expect(abs(simdRecall - plainRecall) <= 0.02, "faiss \(plainRecall), simd \(simdRecall)")
    }

    /// Below FAISS's BLAS threshold (20 queries) a flat index scans with densekit's kernel;
    /// above it FAISS's BLAS path runs. Both agree with FAISS's own storage.
    @Test(arguments: [FaissIndex.Metric.innerProduct, .l2], [1, 7, 50])
    func flatSearchMatchesFaiss(metric: FaissIndex.Metric, queryCount: Int) throws {
        let dimension = 37
        let data = Self.vectors(800, dimension: dimension, seed: 8, normalized: metric == .innerProduct)
        let queries = Self.vectors(queryCount, dimension: dimension, seed: 9, normalized: metric == .innerProduct)
        let index = try Self.build("Flat", metric, data, dimension: dimension, kernel: .faiss)
        let reference = try index.search(queries, count: queryCount, k: 12)
        for kernel in Self.simdKernels {
            try index.setDistanceKernel(kernel)
            let got = try index.search(queries, count: queryCount, k: 12)
            #expect(got.ids == reference.ids, "\(kernel)")
            #expect(Self.maxDifference(got.scores, reference.scores) < 1e-5, "\(kernel)")
        }
        // k beyond the vector count pads with -1, as FAISS does.
        try index.setDistanceKernel(.best)
        let padded = try index.search(Array(queries.prefix(dimension)), count: 1, k: 900)
        #expect(padded.ids.filter { $0 == -1 }.count == 100)
        #expect(Set(padded.ids.prefix(800)).count == 800)
    }

    /// 2 to 64 inner-product queries are scanned together (one pass over the stored vectors in
    /// blocks of 1,024, blocks shared among threads, each thread's heaps merged): the same
    /// neighbours as FAISS's own storage, on one thread and on two, across block boundaries, and
    /// for k beyond the vector count; 65 queries go to FAISS's BLAS path.
    @Test(arguments: [2, 33, 64, 65], [1, 10, 3000])
    func fewQueriesScannedTogetherMatchFaiss(queryCount: Int, k: Int) throws {
        let dimension = 37  // not a multiple of 8: the kernel's tail loop runs
        let data = Self.vectors(2600, dimension: dimension, seed: 21, normalized: true)
        let queries = Self.vectors(queryCount, dimension: dimension, seed: 22, normalized: true)
        let index = try Self.build("Flat", .innerProduct, data, dimension: dimension, kernel: .faiss)
        let reference = try index.search(queries, count: queryCount, k: k)
        for kernel in Self.simdKernels where kernel != .scalar {
            try index.setDistanceKernel(kernel)
            for threads in [1, 2] {
                FaissIndex.setThreads(threads)
                let got = try index.search(queries, count: queryCount, k: k)
                #expect(Self.maxDifference(got.scores, reference.scores) < 1e-5, "\(kernel), \(threads) threads")
                if k <= 10 {
                    #expect(got.ids == reference.ids, "\(kernel), \(threads) threads")
                } else {
                    // All 2,600 vectors ranked: scores a rounding apart (BLAS sums in another
                    // order) may swap places, so each query's list is compared as a set.
                    for q in 0..<queryCount {
                        let rows = (q * k)..<((q + 1) * k)
                        #expect(Set(got.ids[rows]) == Set(reference.ids[rows]), "\(kernel), \(threads) threads, query \(q)")
                    }
                }
            }
        }
        FaissIndex.setThreads(1)
        if k > 2600 { #expect(reference.ids.filter { $0 == -1 }.count == queryCount * (k - 2600)) }
    }

    /// The file is standard FAISS (flat storage written as IxFI / IxF2); reading re-attaches
    /// the SIMD storage, and the read index answers as the written one did.
    @Test func writtenFilesAreStandardAndReadBackWithSIMDStorage() throws {
        let dimension = 24
        let data = Self.vectors(500, dimension: dimension, seed: 10, normalized: true)
        let queries = Self.vectors(5, dimension: dimension, seed: 11, normalized: true)
        let folder = try TinyModel.temporaryFolder()
        for (factory, metric, fourcc) in [("HNSW16", FaissIndex.Metric.innerProduct, "IxFI"), ("Flat", .l2, "IxF2")] {
            let index = try Self.build(factory, metric, data, dimension: dimension)
            let before = try index.search(queries, count: 5, k: 5)
            let path = folder.appendingPathComponent("\(factory).faiss").path
            try index.write(to: path)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(bytes.range(of: Data(fourcc.utf8)) != nil, "\(factory): no \(fourcc) storage in the file")
            let read = try FaissIndex(contentsOf: path, factory: factory)
            #expect(read.distanceKernel == FaissIndex.DistanceKernel.best)
            let after = try read.search(queries, count: 5, k: 5)
            #expect(after.ids == before.ids && after.scores == before.scores)
        }
    }

    /// An IVF index's flat coarse quantizer gets the SIMD storage (it picks every added
    /// vector's list); a PQ index has no flat storage and keeps FAISS's distances.
    @Test func ivfQuantizersGetTheKernelAndIndexesWithoutFlatStorageKeepFaiss() throws {
        let data = Self.vectors(400, dimension: 16, seed: 12, normalized: true)
        let ivf = try FaissIndex(factory: "IVF4,Flat", dimension: 16, metric: .innerProduct)
        #expect(ivf.distanceKernel == FaissIndex.DistanceKernel.best)
        try ivf.train(data, count: 400)
        try ivf.setDistanceKernel(.scalar)
        #expect(ivf.distanceKernel == FaissIndex.DistanceKernel.scalar)
        let pq = try FaissIndex(factory: "PQ4x4", dimension: 16, metric: .innerProduct)
        try pq.train(data, count: 400)
        #expect(pq.distanceKernel == nil)
        #expect(throws: IndexError.self) { try pq.setDistanceKernel(.scalar) }
        for kernel in FaissIndex.DistanceKernel.allCases where !kernel.isSupported {
            let flat = try FaissIndex(factory: "Flat", dimension: 16, metric: .innerProduct)
            #expect(throws: IndexError.self) { try flat.setDistanceKernel(kernel) }
        }
    }
}

/// Results written from many threads, one slot each.
private final class SearchResults: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [[Int64]]
    init(count: Int) { slots = Array(repeating: [], count: count) }
    func set(_ index: Int, _ ids: [Int64]) { lock.withLock { slots[index] = ids } }
    var all: [[Int64]] { lock.withLock { slots } }
}
