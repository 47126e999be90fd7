import DensekitIndex
import DensekitTestSupport
import Foundation
import Testing

/// densekit's 1-nearest search (k-means assignment, IVF list choice) and the IVF-PQ training
/// and adds built on it, against FAISS's own code on the same data.
@Suite struct FaissNearestTests {
    static func vectors(_ count: Int, _ dimension: Int, _ seed: UInt64, _ normalized: Bool) -> [Float] {
        FaissDistanceTests.vectors(count, dimension: dimension, seed: seed, normalized: normalized)
    }

    /// The index for `factory`, trained on `data` when it needs training, holding all of it
    /// (ids that are not positions); `kernel` set before training when given.
    static func build(_ factory: String, _ metric: FaissIndex.Metric, _ data: [Float], _ dimension: Int,
                      _ kernel: FaissIndex.DistanceKernel?) throws -> FaissIndex {
        let index = try FaissIndex(factory: factory, dimension: dimension, metric: metric)
        if let kernel { try index.setDistanceKernel(kernel) }
        let count = data.count / dimension
        if !index.isTrained { try index.train(data, count: count) }
        let ids = (0..<Int64(count)).map { $0 * 3 + 1 }
        try index.add(data, count: count, ids: ids)
        return index
    }

    /// Many queries with k = 1: up to 32 dimensions the stored vectors are scanned 8 at a time,
    /// four blocks of 8 together (1,203 of them: 37 groups of four blocks, 2 more blocks, 3
    /// vectors one by one; dimensions 4, 8 and 16 have kernels of their own), above it through BLAS in blocks of
    /// 1,024 stored vectors and 4,096 queries (4,100 queries: a second block). The neighbour is
    /// FAISS's, and so is its distance, to float rounding.
    @Test(arguments: [(4, FaissIndex.Metric.l2), (8, .l2), (13, .innerProduct), (16, .innerProduct), (37, .innerProduct), (37, .l2), (384, .l2)])
    func nearestMatchesFaiss(dimension: Int, metric: FaissIndex.Metric) throws {
        let data = Self.vectors(1203, dimension, 31, metric == .innerProduct)
        let queries = Self.vectors(4100, dimension, 32, metric == .innerProduct)
        let index = try Self.build("Flat", metric, data, dimension, .faiss)
        let reference = try index.search(queries, count: 4100, k: 1)
        for kernel in FaissDistanceTests.simdKernels {
            try index.setDistanceKernel(kernel)
            for threads in [1, 2] {
                FaissIndex.setThreads(threads)
                let got = try index.search(queries, count: 4100, k: 1)
                let differing = zip(got.ids, reference.ids).filter { $0 != $1 }.count
                #expect(differing == 0, "\(kernel), \(threads) threads: \(differing) of 4,100 neighbours differ")
                #expect(FaissDistanceTests.maxDifference(got.scores, reference.scores) < 1e-5, "\(kernel), \(threads) threads")
            }
        }
        FaissIndex.setThreads(1)
    }

    /// The same trained IVF-PQ filled twice, by densekit (lists, residuals and codes from its
    /// nearest search, handed to FAISS as codes) and by FAISS's own add: the same lists and
    /// codes, so the same search results, bit for bit; 8-bit and 4-bit codes.
    @Test(arguments: ["IVF8,PQ4", "IVF8,PQ4x4"])
    func ivfpqAddsMatchFaiss(factory: String) throws {
        let dimension = 16
        let data = Self.vectors(3000, dimension, 33, true)
        let queries = Self.vectors(50, dimension, 34, true)
        let trained = try FaissIndex(factory: factory, dimension: dimension, metric: .innerProduct)
        try trained.train(data, count: 3000)
        let path = try TinyModel.temporaryFolder().appendingPathComponent("trained.faiss").path
        try trained.write(to: path)
        let densekit = try FaissIndex(contentsOf: path, factory: factory)
        let faiss = try FaissIndex(contentsOf: path, factory: factory)
        try faiss.setDistanceKernel(.faiss)
        #expect(densekit.distanceKernel == FaissIndex.DistanceKernel.best)
        let ids = (0..<Int64(3000)).map { $0 * 7 + 2 }
        for index in [densekit, faiss] {
            // Two adds: the second continues the lists the first started.
            try data.withUnsafeBufferPointer { buffer in
                try ids.withUnsafeBufferPointer { idBuffer in
                    try index.add(buffer.baseAddress!, count: 1000, ids: idBuffer.baseAddress!)
                    try index.add(buffer.baseAddress! + 1000 * dimension, count: 2000, ids: idBuffer.baseAddress! + 1000)
                }
            }
            try index.setNProbe(8)
        }
        #expect(densekit.count == 3000 && faiss.count == 3000)
        let a = try densekit.search(queries, count: 50, k: 10)
        let b = try faiss.search(queries, count: 50, k: 10)
        #expect(a.ids == b.ids)
        #expect(a.scores == b.scores)
    }

    /// IVF-PQ trained through densekit's nearest search (its k-means assignments for the coarse
    /// quantizer and every PQ sub-quantizer) and through FAISS's own: FAISS's k-means either
    /// way, with other rounding, so not the same centroids but as good: recall@10 against exact
    /// search within 0.05, and well above what a broken assignment would leave.
    @Test(arguments: [(FaissIndex.Metric.innerProduct, "IVF16,PQ8"), (.l2, "IVF16,PQ8x4")])
    func ivfpqTrainedOnDensekitNearestSearchIsAsGood(metric: FaissIndex.Metric, factory: String) throws {
        let dimension = 32
        let data = Self.vectors(4000, dimension, 35, metric == .innerProduct)
        let queries = Self.vectors(100, dimension, 36, metric == .innerProduct)
        let exact = try Self.build("Flat", metric, data, dimension, .faiss).search(queries, count: 100, k: 10)
        func recall(_ index: FaissIndex) throws -> Double {
            try index.setNProbe(16)
            let ids = try index.search(queries, count: 100, k: 10).ids
            var hits = 0
            for q in 0..<100 {
                let truth = Set(exact.ids[(q * 10)..<((q + 1) * 10)])
                hits += ids[(q * 10)..<((q + 1) * 10)].filter(truth.contains).count
            }
            return Double(hits) / 1000
        }
        let densekit = try Self.build(factory, metric, data, dimension, nil)
        let faiss = try Self.build(factory, metric, data, dimension, .faiss)
        let (densekitRecall, faissRecall) = (try recall(densekit), try recall(faiss))
        #expect(abs(densekitRecall - faissRecall) <= 0.05, "densekit \(densekitRecall), faiss \(faissRecall)")
        #expect(densekitRecall >= 0.3, "densekit \(densekitRecall)")
    }

    /// Polysemous training is off ("PQ8" builds what "PQ8np" builds): the written files are
    /// the same bytes, where FAISS's annealing would have reordered the centroids of "PQ8".
    @Test(arguments: ["IVF8,PQ4", "PQ4"])
    func polysemousTrainingIsOff(factory: String) throws {
        let dimension = 16
        let data = Self.vectors(3000, dimension, 37, true)
        let folder = try TinyModel.temporaryFolder()
        var files: [Data] = []
        for variant in [factory, factory + "np"] {
            let index = try Self.build(variant, .innerProduct, data, dimension, nil)
            let path = folder.appendingPathComponent("\(variant).faiss").path
            try index.write(to: path)
            files.append(try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        #expect(files[0] == files[1])
    }
}
