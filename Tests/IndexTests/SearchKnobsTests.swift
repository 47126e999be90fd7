import DensekitIndex
import DensekitTensor
import DensekitTestSupport
import Foundation
import Testing

/// nprobe and efSearch given with one search call: the same results as the index set to that
/// value, the shared index unchanged, and concurrent calls with different values each getting
/// their own (what `densekit serve`'s requests need).
@Suite struct SearchKnobsTests {
    static let dimension = 24
    static let data = FaissDistanceTests.vectors(600, dimension: dimension, seed: 21, normalized: true)
    static let queries = FaissDistanceTests.vectors(30, dimension: dimension, seed: 22, normalized: true)

    /// `factory` trained on and filled with `data`.
    static func build(_ factory: String) throws -> FaissIndex {
        let index = try FaissIndex(factory: factory, dimension: dimension, metric: .innerProduct)
        if !index.isTrained { try index.train(data, count: data.count / dimension) }
        try index.add(data, count: data.count / dimension, ids: (0..<Int64(data.count / dimension)).map { $0 * 3 + 1 })
        return index
    }

    /// For each factory and setting: a search with the knob equals a search after setting it.
    @Test(arguments: [("IVF16,Flat", SearchKnobs(nprobe: 3)), ("PCA16,IVF8,Flat", SearchKnobs(nprobe: 2)), ("HNSW8", SearchKnobs(efSearch: 40)),
                      ("IVF8_HNSW8,Flat", SearchKnobs(nprobe: 4, efSearch: 24))])
    func aKnobEqualsSettingTheIndex(factory: String, knobs: SearchKnobs) throws {
        let index = try Self.build(factory)
        let before = try index.search(Self.queries, count: 30, k: 10)
        let withKnobs = try index.search(Self.queries, count: 30, k: 10, knobs: knobs)
        #expect(try index.search(Self.queries, count: 30, k: 10) == before, "the call changed the index")
        if let nprobe = knobs.nprobe { try index.setNProbe(nprobe) }
        if let efSearch = knobs.efSearch { try index.setEfSearch(efSearch) }
        let set = try index.search(Self.queries, count: 30, k: 10)
        #expect(withKnobs.ids == set.ids && withKnobs.scores == set.scores, "\(factory) \(knobs)")
        #expect(withKnobs.ids != before.ids, "\(factory): the setting made no difference, so the test shows nothing")
    }

    /// Threads searching one IVF index at once with nprobe 1, 2, 4, 8, 16: each result equals
    /// the lone search with its own nprobe.
    @Test func concurrentCallsKeepTheirOwnSettings() throws {
        let index = try Self.build("IVF16,Flat")
        let settings = [1, 2, 4, 8, 16]
        let alone = try settings.map { try index.search(Self.queries, count: 30, k: 10, knobs: SearchKnobs(nprobe: $0)) }
        #expect(Set(alone.map(\.ids)).count == settings.count)
        let results = LockedResults(count: settings.count * 8)
        DispatchQueue.concurrentPerform(iterations: settings.count * 8) { i in
            results.set(i, try? index.search(Self.queries, count: 30, k: 10, knobs: SearchKnobs(nprobe: settings[i % settings.count])))
        }
        for i in 0..<(settings.count * 8) {
            #expect(results.get(i)?.ids == alone[i % settings.count].ids, "call \(i), nprobe \(settings[i % settings.count])")
        }
    }

    @Test func aKnobTheIndexHasNoPartForIsRefused() throws {
        let flat = try Self.build("Flat")
        #expect { try flat.search(Self.queries, count: 1, k: 3, knobs: SearchKnobs(nprobe: 4)) } throws: { "\($0)".contains("nprobe") }
        let hnsw = try Self.build("HNSW8")
        #expect { try hnsw.search(Self.queries, count: 1, k: 3, knobs: SearchKnobs(nprobe: 4)) } throws: { "\($0)".contains("nprobe") }
        #expect { try hnsw.search(Self.queries, count: 1, k: 3, knobs: SearchKnobs(efSearch: 0)) } throws: { "\($0)".contains("--ef-search") }
    }
}

/// Results written by concurrent threads.
private final class LockedResults: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [(scores: [Float], ids: [Int64])?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: (scores: [Float], ids: [Int64])?) { lock.withLock { values[i] = value } }
    func get(_ i: Int) -> (scores: [Float], ids: [Int64])? { lock.withLock { values[i] } }
}
