import CFaiss
import Foundation
import Testing

private let dimension = 32

private func lastError() -> String { String(cString: cfaiss_last_error()) }

/// count random unit vectors, row-major.
private func unitVectors(_ count: Int, seed: UInt64) -> [Float] {
    var generator = SeededGenerator(seed: seed)
    var x = randomFloats(count * dimension, using: &generator)
    for row in 0..<count {
        let range = row * dimension..<(row + 1) * dimension
        let norm = x[range].reduce(0) { $0 + $1 * $1 }.squareRoot()
        for i in range { x[i] /= norm }
    }
    return x
}

private func makeIndex(_ factory: String, metric: Int32 = CFAISS_METRIC_INNER_PRODUCT) -> OpaquePointer? {
    var index: OpaquePointer?
    let rc = cfaiss_index_create(factory, Int64(dimension), metric, &index)
    #expect(rc == CFAISS_OK, "\(lastError())")
    return index
}

/// Trains when needed, then adds the vectors with ids 1000 + row.
private func fill(_ index: OpaquePointer?, _ x: [Float]) {
    let n = Int64(x.count / dimension)
    if cfaiss_index_is_trained(index) == 0 {
        #expect(cfaiss_index_train(index, n, Int64(dimension), x) == CFAISS_OK, "\(lastError())")
    }
    let ids = (0..<n).map { 1000 + $0 }
    #expect(cfaiss_index_add_with_ids(index, n, Int64(dimension), x, ids) == CFAISS_OK, "\(lastError())")
}

private func search(_ index: OpaquePointer?, _ queries: [Float], k: Int) -> (distances: [Float], labels: [Int64]) {
    let n = queries.count / dimension
    var distances = [Float](repeating: .nan, count: n * k)
    var labels = [Int64](repeating: -2, count: n * k)
    let rc = cfaiss_index_search(index, Int64(n), Int64(dimension), queries, Int64(k), &distances, &labels)
    #expect(rc == CFAISS_OK, "\(lastError())")
    return (distances, labels)
}

/// Each of the first `count` stored vectors, used as a query, finds itself first with score ~1.
private func expectSelfMatches(_ index: OpaquePointer?, _ x: [Float], count: Int) {
    let (distances, labels) = search(index, Array(x[0..<count * dimension]), k: 5)
    for row in 0..<count {
        #expect(labels[row * 5] == Int64(1000 + row))
        #expect(abs(distances[row * 5] - 1) < 1e-4)
    }
}

@Test func flatInnerProductWithCustomIdsSurvivesFileRoundTrip() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let x = unitVectors(500, seed: 1)

    let index = makeIndex("Flat")
    defer { cfaiss_index_free(index) }
    #expect(cfaiss_index_dimension(index) == Int64(dimension))
    #expect(cfaiss_index_metric(index) == CFAISS_METRIC_INNER_PRODUCT)
    #expect(cfaiss_index_is_trained(index) == 1)
    fill(index, x)
    #expect(cfaiss_index_ntotal(index) == 500)
    expectSelfMatches(index, x, count: 20)

    let path = directory.appendingPathComponent("flat.faiss").path
    #expect(cfaiss_index_write(index, path) == CFAISS_OK, "\(lastError())")
    var reread: OpaquePointer?
    #expect(cfaiss_index_read(path, &reread) == CFAISS_OK, "\(lastError())")
    defer { cfaiss_index_free(reread) }
    #expect(cfaiss_index_ntotal(reread) == 500)
    #expect(cfaiss_index_metric(reread) == CFAISS_METRIC_INNER_PRODUCT)

    let queries = unitVectors(10, seed: 2)
    let before = search(index, queries, k: 10)
    let after = search(reread, queries, k: 10)
    #expect(before.labels == after.labels)
    #expect(before.distances == after.distances)
}

@Test func missingNeighboursAreLabelledMinusOne() {
    let index = makeIndex("Flat", metric: CFAISS_METRIC_L2)
    defer { cfaiss_index_free(index) }
    fill(index, unitVectors(3, seed: 3))
    let (_, labels) = search(index, unitVectors(1, seed: 4), k: 5)
    #expect(Set(labels[0..<3]) == [1000, 1001, 1002])
    #expect(Array(labels[3...]) == [-1, -1])
}

@Test func resetEmptiesTheIndex() {
    let index = makeIndex("Flat")
    defer { cfaiss_index_free(index) }
    fill(index, unitVectors(10, seed: 5))
    #expect(cfaiss_index_reset(index) == CFAISS_OK)
    #expect(cfaiss_index_ntotal(index) == 0)
}

@Test func hnswTakesIdsAndEfSearchButNotNprobe() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let x = unitVectors(1000, seed: 6)
    let index = makeIndex("HNSW32")
    defer { cfaiss_index_free(index) }
    fill(index, x)

    #expect(cfaiss_index_set_ef_search(index, 64) == CFAISS_OK, "\(lastError())")
    #expect(cfaiss_index_set_nprobe(index, 4) == CFAISS_ERR_UNSUPPORTED)
    #expect(!lastError().isEmpty)
    expectSelfMatches(index, x, count: 20)

    let path = directory.appendingPathComponent("hnsw.faiss").path
    #expect(cfaiss_index_write(index, path) == CFAISS_OK, "\(lastError())")
    var reread: OpaquePointer?
    #expect(cfaiss_index_read(path, &reread) == CFAISS_OK, "\(lastError())")
    defer { cfaiss_index_free(reread) }
    #expect(cfaiss_index_set_ef_search(reread, 128) == CFAISS_OK, "\(lastError())")
    expectSelfMatches(reread, x, count: 20)
}

/// Documents a FAISS 1.7.3 trap that callers must handle: efSearch is not raised to k.
@Test func hnswEfSearchBelowKLeavesLabelsMissing() {
    let index = makeIndex("HNSW32")
    defer { cfaiss_index_free(index) }
    fill(index, unitVectors(1000, seed: 11))
    let queries = unitVectors(20, seed: 12)
    #expect(cfaiss_index_set_ef_search(index, 1) == CFAISS_OK)
    #expect(search(index, queries, k: 100).labels.contains(-1))
    #expect(cfaiss_index_set_ef_search(index, 100) == CFAISS_OK)
    #expect(!search(index, queries, k: 100).labels.contains(-1))
}

@Test func ivfTrainsTakesIdsAndNprobeButNotEfSearch() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let x = unitVectors(1000, seed: 7)
    let index = makeIndex("IVF16,Flat")
    defer { cfaiss_index_free(index) }
    #expect(cfaiss_index_is_trained(index) == 0)

    var ids: [Int64] = [1]
    #expect(cfaiss_index_add_with_ids(index, 1, Int64(dimension), x, &ids) == CFAISS_ERR_FAISS)
    fill(index, x)
    #expect(cfaiss_index_is_trained(index) == 1)
    #expect(cfaiss_index_ntotal(index) == 1000)

    // nprobe = nlist visits every list, so the search is exact.
    #expect(cfaiss_index_set_nprobe(index, 16) == CFAISS_OK, "\(lastError())")
    #expect(cfaiss_index_set_ef_search(index, 64) == CFAISS_ERR_UNSUPPORTED)
    expectSelfMatches(index, x, count: 20)

    let path = directory.appendingPathComponent("ivf.faiss").path
    #expect(cfaiss_index_write(index, path) == CFAISS_OK, "\(lastError())")
    var reread: OpaquePointer?
    #expect(cfaiss_index_read(path, &reread) == CFAISS_OK, "\(lastError())")
    defer { cfaiss_index_free(reread) }
    #expect(cfaiss_index_set_nprobe(reread, 16) == CFAISS_OK, "\(lastError())")
    expectSelfMatches(reread, x, count: 20)
}

@Test func nprobeReachesThroughIDMapWrapper() {
    let index = makeIndex("IDMap,IVF4,Flat")
    defer { cfaiss_index_free(index) }
    fill(index, unitVectors(300, seed: 13))
    #expect(cfaiss_index_set_nprobe(index, 4) == CFAISS_OK, "\(lastError())")
}

@Test func nprobeReachesThroughPreTransform() {
    let index = makeIndex("PCA16,IVF4,Flat")
    defer { cfaiss_index_free(index) }
    fill(index, unitVectors(300, seed: 8))
    #expect(cfaiss_index_ntotal(index) == 300)
    #expect(cfaiss_index_set_nprobe(index, 4) == CFAISS_OK, "\(lastError())")
}

@Test func badFactoryStringIsAnError() {
    var index: OpaquePointer?
    let rc = cfaiss_index_create("NoSuchIndex42", Int64(dimension), CFAISS_METRIC_L2, &index)
    #expect(rc == CFAISS_ERR_FAISS)
    #expect(index == nil)
    #expect(lastError().contains("NoSuchIndex42"))

    #expect(cfaiss_index_create("Flat", 0, CFAISS_METRIC_L2, &index) == CFAISS_ERR_INVALID_ARGUMENT)
    #expect(cfaiss_index_create("Flat", 8, 7, &index) == CFAISS_ERR_INVALID_ARGUMENT)
}

@Test func dimensionMismatchIsCaughtBeforeFaiss() {
    let index = makeIndex("Flat")
    defer { cfaiss_index_free(index) }
    let short = [Float](repeating: 0, count: 16)
    var ids: [Int64] = [1]
    #expect(cfaiss_index_add_with_ids(index, 1, 16, short, &ids) == CFAISS_ERR_INVALID_ARGUMENT)
    #expect(lastError().contains("does not match"))
    #expect(cfaiss_index_train(index, 1, 16, short) == CFAISS_ERR_INVALID_ARGUMENT)

    var distances = [Float](repeating: 0, count: 4)
    var labels = [Int64](repeating: 0, count: 4)
    #expect(cfaiss_index_search(index, 1, 16, short, 4, &distances, &labels) == CFAISS_ERR_INVALID_ARGUMENT)
    #expect(cfaiss_index_search(index, 1, Int64(dimension), unitVectors(1, seed: 9), 0, &distances, &labels)
        == CFAISS_ERR_INVALID_ARGUMENT)
    #expect(cfaiss_index_search(nil, 0, Int64(dimension), nil, 1, nil, nil) == CFAISS_ERR_INVALID_ARGUMENT)
}

@Test func truncatedOrCorruptFilesAreErrors() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let index = makeIndex("HNSW16")
    defer { cfaiss_index_free(index) }
    fill(index, unitVectors(100, seed: 10))
    let path = directory.appendingPathComponent("whole.faiss").path
    #expect(cfaiss_index_write(index, path) == CFAISS_OK, "\(lastError())")
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))

    var broken: [Data] = [0, 3, 4, 50, bytes.count / 2, bytes.count - 1].map { bytes.prefix($0) }
    broken.append(Data("this is not an index".utf8))
    for (number, data) in broken.enumerated() {
        let brokenPath = directory.appendingPathComponent("broken-\(number).faiss").path
        try data.write(to: URL(fileURLWithPath: brokenPath))
        var reread: OpaquePointer?
        #expect(cfaiss_index_read(brokenPath, &reread) == CFAISS_ERR_FAISS, "file \(number)")
        #expect(reread == nil)
        #expect(!lastError().isEmpty)
    }

    var reread: OpaquePointer?
    let missing = directory.appendingPathComponent("missing.faiss").path
    #expect(cfaiss_index_read(missing, &reread) == CFAISS_ERR_FAISS)
    #expect(lastError().contains("missing.faiss"))
}

@Test func ompThreadCountIsSetForThisThread() {
    #expect(cfaiss_set_omp_threads(1) == CFAISS_OK)
    #expect(cfaiss_omp_max_threads() == 1)
    #expect(cfaiss_set_omp_threads(0) == CFAISS_ERR_INVALID_ARGUMENT)
}
