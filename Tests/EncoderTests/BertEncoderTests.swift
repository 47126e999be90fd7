import DensekitEncoder
import DensekitTestSupport
import Foundation
import Testing

@Suite struct BertEncoderTests {
    /// The packed, unpadded forward pass equals a padded and masked batch computed naively in
    /// Double. Float32 over 2 layers of width 24 accumulates ~1e-6 relative error; layer norm
    /// keeps activations O(1), so 1e-4 absolute leaves a wide margin yet catches any wrong
    /// index, transpose or mask (those give O(0.1) errors).
    @Test func packedForwardMatchesNaivePaddedReference() {
        let parameters = TinyModel.parameters()
        let sequences = [[1, 5, 9, 12, 2], [1, 30, 2], [1, 7, 7, 7, 7, 7, 7, 7, 7, 3, 2], [1, 2]]
        let types = sequences.enumerated().map { s, ids in ids.indices.map { s == 2 && $0 > 4 ? 1 : 0 } }
        var batch = TokenBatch()
        for (ids, tt) in zip(sequences, types) { batch.append(ids: ids.map(Int32.init), typeIds: tt.map(Int32.init)) }

        let encoder = BertEncoder(parameters: parameters)
        let workspace = EncoderWorkspace()
        let hidden = encoder.forward(batch, workspace: workspace)
        let expected = NaiveBert.forward(parameters: parameters, sequences: sequences, types: types)
        let h = parameters.layout.configuration.hiddenSize
        var worst = 0.0
        for s in 0..<batch.count {
            for t in 0..<batch.length(of: s) {
                for j in 0..<h {
                    worst = max(worst, abs(Double(hidden[(batch.offsets[s] + t) * h + j]) - expected[s][t][j]))
                }
            }
        }
        withExtendedLifetime(workspace) {}
        #expect(worst < 1e-4, "max abs difference \(worst)")
    }

    /// A sequence's result must not depend on which other sequences share its batch.
    @Test func sequenceResultIsIndependentOfBatchCompanions() {
        let encoder = BertEncoder(parameters: TinyModel.parameters())
        let h = encoder.configuration.hiddenSize
        var alone = TokenBatch()
        alone.append(ids: [1, 4, 8, 2], typeIds: [0, 0, 0, 0])
        let aloneWorkspace = EncoderWorkspace()
        let aloneHidden = Array(UnsafeBufferPointer(start: encoder.forward(alone, workspace: aloneWorkspace), count: 4 * h))
        var together = TokenBatch()
        together.append(ids: [1, 9, 9, 9, 9, 9, 2], typeIds: [Int32](repeating: 0, count: 7))
        together.append(ids: [1, 4, 8, 2], typeIds: [0, 0, 0, 0])
        let ws = EncoderWorkspace()
        let togetherHidden = encoder.forward(together, workspace: ws)
        for k in 0..<(4 * h) { #expect(abs(togetherHidden[7 * h + k] - aloneHidden[k]) < 1e-6) }
        withExtendedLifetime(ws) {}
    }

    /// Too few sequences for a batch per worker are cut into smaller batches, one per worker,
    /// instead of one batch under a multi-threaded BLAS (OpenBLAS's thread count is one
    /// setting for the whole process: changing it per call changed concurrent calls' work).
    @Test func fewSequencesAreCutForTheWorkers() {
        let options = EncodeOptions(batchSize: 32, threads: 2)
        #expect(options.plan(count: 1) == (1, 1, 1))
        #expect(options.plan(count: 10) == (5, 2, 2))
        #expect(options.plan(count: 64) == (32, 2, 2))
        #expect(options.plan(count: 1000) == (32, 32, 2))
        #expect(options.plan(count: 0) == (32, 0, 0))
        #expect(EncodeOptions(batchSize: 8, threads: 3).plan(count: 7) == (3, 3, 3))
    }

    /// Texts encoded together, alone and from several threads at once agree.
    @Test func concurrentEncodesAgreeWithOneBatch() throws {
        let encoder = try SentenceEncoder.load(directory: TinyModel.writeFolder(at: TinyModel.temporaryFolder()))
        let texts = ["the cat sat", "a big red dog ran on the mat", "dog", "the cats sat on a mat .", "red"]
        let together = encoder.encode(texts, options: EncodeOptions(batchSize: 32, threads: 2))
        let results = ConcurrentResults(count: 20)
        DispatchQueue.concurrentPerform(iterations: 20) { i in
            results.set(i, encoder.encode([texts[i % texts.count]], options: EncodeOptions(batchSize: 32, threads: 2)).values)
        }
        for i in 0..<20 {
            let alone = results.get(i), expected = Array(together.values[(i % texts.count) * encoder.dimension..<((i % texts.count) + 1) * encoder.dimension])
            #expect(alone.count == expected.count && zip(alone, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "call \(i)")
        }
    }

    @Test func poolingModes() {
        // Two sequences of 2 and 3 tokens, width 2.
        var batch = TokenBatch()
        batch.append(ids: [1, 2], typeIds: [0, 0])
        batch.append(ids: [1, 2, 3], typeIds: [0, 0, 0])
        let hidden: [Float] = [1, -2, 3, 4, /* second */ 0, 1, 6, -1, 3, 3]
        func pool(_ mode: PoolingConfiguration.Mode, normalize: Bool = false) -> [Float] {
            var out = [Float](repeating: .nan, count: 4)
            out.withUnsafeMutableBufferPointer {
                PoolingConfiguration(mode: mode, normalize: normalize).pool(hidden: hidden, batch: batch, width: 2, into: $0.baseAddress!)
            }
            return out
        }
        #expect(pool(.cls) == [1, -2, 0, 1])
        #expect(pool(.mean) == [2, 1, 3, 1])
        #expect(pool(.max) == [3, 4, 6, 3])
        let sqrt2 = Float(2).squareRoot(), sqrt3 = Float(3).squareRoot()
        let meanSqrt = pool(.meanSqrtLength)
        for (got, want) in zip(meanSqrt, [4 / sqrt2, 2 / sqrt2, 9 / sqrt3, 3 / sqrt3]) { #expect(abs(got - want) < 1e-6) }
        let normalized = pool(.mean, normalize: true)
        #expect(abs(normalized[0] - 2 / Float(5).squareRoot()) < 1e-6 && abs(normalized[2] - 3 / Float(10).squareRoot()) < 1e-6)
    }
}

/// Rows written by concurrent threads.
private final class ConcurrentResults: @unchecked Sendable {
    private let lock = NSLock()
    private var rows: [[Float]]
    init(count: Int) { rows = Array(repeating: [], count: count) }
    func set(_ i: Int, _ row: [Float]) { lock.withLock { rows[i] = row } }
    func get(_ i: Int) -> [Float] { lock.withLock { rows[i] } }
}
