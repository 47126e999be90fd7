import DensekitTensor
import Testing

/// Exact inner-product search against its definition: every score computed, sorted, best k kept.
@Suite struct ExactSearchTests {
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var generator = RandomSource(seed: seed)
        // Multiples of 1/8: products and sums are exact, so ties are real ties.
        return (0..<count).map { _ in Float(Int.random(in: -8...8, using: &generator)) / 8 }
    }

    @Test func topKEqualsTheDefinitionAcrossBlocks() {
        // 5,000 vectors and 300 queries cross the 4,096-vector and 256-query blocks.
        let d = 6, n = 5000, queryCount = 300, k = 7
        let x = Self.values(n * d, seed: 1), q = Self.values(queryCount * d, seed: 2)
        let search = ExactSearch(dimension: d)
        x.withUnsafeBufferPointer { search.add($0.baseAddress!, count: n) }
        #expect(search.count == n)
        let (scores, ids) = q.withUnsafeBufferPointer { search.search($0.baseAddress!, count: queryCount, k: k) }
        struct Scored { let score: Float; let id: Int64 }
        func dot(_ row: Int, _ j: Int) -> Float {
            var sum: Float = 0
            for e in 0..<d { sum += q[row * d + e] * x[j * d + e] }
            return sum
        }
        for row in 0..<queryCount {
            let all: [Scored] = (0..<n).map { Scored(score: dot(row, $0), id: Int64($0)) }
            // Best first; equal scores by lower id.
            let expected: [Scored] = Array(all.sorted { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }.prefix(k))
            let gotIds: [Int64] = Array(ids[(row * k)..<((row + 1) * k)])
            let gotScores: [Float] = Array(scores[(row * k)..<((row + 1) * k)])
            #expect(gotIds == expected.map(\.id), "query \(row)")
            #expect(gotScores == expected.map(\.score), "query \(row)")
        }
    }

    @Test func idsAreMappedAndShortListsPadded() {
        let d = 3
        let search = ExactSearch(dimension: d)
        let x: [Float] = [1, 0, 0, 0, 1, 0]
        x.withUnsafeBufferPointer { search.add($0.baseAddress!, count: 2, ids: [70, 90]) }
        let more: [Float] = [0, 0, 1]
        more.withUnsafeBufferPointer { search.add($0.baseAddress!, count: 1) }  // default id: its position, 2
        let query: [Float] = [0.5, 2, 1]
        let (scores, ids) = query.withUnsafeBufferPointer { search.search($0.baseAddress!, count: 1, k: 5) }
        #expect(ids == [90, 2, 70, -1, -1])
        #expect(Array(scores.prefix(3)) == [2, 1, 0.5])
        #expect(scores.suffix(2).allSatisfy { $0 == -.infinity })
        let empty = ExactSearch(dimension: d)
        #expect(query.withUnsafeBufferPointer { empty.search($0.baseAddress!, count: 1, k: 2) }.ids == [-1, -1])
    }
}
