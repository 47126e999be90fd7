import DensekitTraining
import Testing

/// The chunk plan of a training step: equal work per worker, memory bounded by the chunk size.
@Suite struct ChunkPlanTests {
    /// 32 short queries then 32 long passages, as in a retrieval batch.
    let lengths = Array(repeating: 10, count: 32) + (0..<32).map { 40 + 7 * $0 % 150 }

    func workerLoads(_ plan: ChunkPlan, workers: Int) -> [Double] {
        var loads = [Double](repeating: 0, count: workers)
        for (c, chunk) in plan.chunks.enumerated() {
            loads[c % workers] += chunk.members.reduce(0) { $0 + ChunkPlan.cost(tokens: lengths[$1], hiddenSize: 384) }
        }
        return loads
    }

    @Test func plainModeGivesEachWorkerTheSameWork() {
        let plan = ChunkPlan(lengths: lengths, queryCount: 32, separateTowers: false, chunkSize: 32, workers: 2, hiddenSize: 384)
        #expect(plan.keepsActivations)
        #expect(plan.chunks.count == 2)
        let loads = workerLoads(plan, workers: 2)
        // Contiguous halves would give one worker the queries (~10% of the work) and the other the passages.
        #expect(abs(loads[0] - loads[1]) / loads.max()! < 0.02, "\(loads)")
        #expect(plan.chunks.flatMap(\.members).sorted() == Array(0..<64))
    }

    @Test func gradCacheChunksRespectTheChunkSize() {
        let plan = ChunkPlan(lengths: lengths, queryCount: 32, separateTowers: false, chunkSize: 12, workers: 2, hiddenSize: 384)
        #expect(!plan.keepsActivations)
        #expect(plan.chunks.count == 6)  // ceil(64 / 12) = 6, a multiple of the 2 workers
        #expect(plan.chunks.allSatisfy { $0.members.count <= 12 })
        #expect(plan.chunks.flatMap(\.members).sorted() == Array(0..<64))
        let loads = workerLoads(plan, workers: 2)
        #expect(abs(loads[0] - loads[1]) / loads.max()! < 0.05, "\(loads)")
    }

    @Test func separateTowersGetChunksOfTheirOwn() {
        for chunkSize in [8, 64] {
            let plan = ChunkPlan(lengths: lengths, queryCount: 32, separateTowers: true, chunkSize: chunkSize, workers: 2, hiddenSize: 384)
            #expect(plan.keepsActivations == (chunkSize == 64))
            for chunk in plan.chunks {
                #expect(chunk.members.allSatisfy { ($0 < 32) == (chunk.tower == 0) })
                #expect(plan.keepsActivations || chunk.members.count <= chunkSize)
            }
            // Every worker gets the same number of chunks of each tower.
            for tower in 0..<2 {
                let owners = plan.chunks.enumerated().filter { $0.element.tower == tower }.map { $0.offset % 2 }
                #expect(owners.filter { $0 == 0 }.count == owners.filter { $0 == 1 }.count)
            }
            #expect(plan.chunks.flatMap(\.members).sorted() == Array(0..<64))
        }
    }

    @Test func thePlanDependsOnlyOnTheLengths() {
        let a = ChunkPlan(lengths: lengths, queryCount: 32, separateTowers: false, chunkSize: 16, workers: 2, hiddenSize: 384)
        let b = ChunkPlan(lengths: lengths, queryCount: 32, separateTowers: false, chunkSize: 16, workers: 2, hiddenSize: 384)
        #expect(a == b)
        // Fewer sequences than workers: empty chunks, nothing lost.
        let tiny = ChunkPlan(lengths: [5, 9], queryCount: 1, separateTowers: true, chunkSize: 4, workers: 3, hiddenSize: 8)
        #expect(tiny.chunks.flatMap(\.members).sorted() == [0, 1])
    }
}
