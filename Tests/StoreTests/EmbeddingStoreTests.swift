import DensekitStore
import DensekitTestSupport
import Foundation
import Testing

@Suite struct EmbeddingStoreTests {
    let dimension = 4

    func vectors(_ rows: [Float]) -> [Float] { rows.flatMap { v in (0..<dimension).map { v + Float($0) / 10 } } }

    func records(_ ids: [String]) -> [(id: String, text: String, origin: String)] {
        ids.map { (id: $0, text: "text of \($0)", origin: "test:\($0)") }
    }

    func readAll(_ store: EmbeddingStore) throws -> [Float] {
        let count = try store.count()
        var out = [Float](repeating: 0, count: count * dimension)
        try out.withUnsafeMutableBufferPointer { try store.readVectors(0..<count, dimension: dimension, into: $0.baseAddress!) }
        return out
    }

    /// `reads: .random` reaches the kernel: the store's memory map carries the random-read
    /// flag (no read-ahead around a search's scattered page misses); the default does not.
    @Test func randomReadsTurnReadAheadOff() throws {
        let path = try TinyModel.temporaryFolder().path
        let data = path + "/data.mdb"
        do {
            let store = try EmbeddingStore(path: path, create: true)
            _ = try store.append(records(["a"]), vectors: vectors([1]), dimension: dimension, policy: .error, progress: BuildProgress())
            #expect(try MemoryMaps.flags(of: data).map { $0.contains("rr") } == [false])
        }
        #expect(try MemoryMaps.flags(of: data).isEmpty)
        let store = try EmbeddingStore(path: path, readOnly: true, reads: .random)
        #expect(try MemoryMaps.flags(of: data).map { $0.contains("rr") } == [true])
        #expect(try store.passages(internalIds: [0])[0]?.text == "text of a")
    }

    /// Pages read through the memory map stay in the process's resident set until released;
    /// released, they are read again (from the page cache) with the same content.
    @Test func releasingMappedPagesEmptiesTheResidentSet() throws {
        let path = try TinyModel.temporaryFolder().path
        let data = path + "/data.mdb"
        let store = try EmbeddingStore(path: path, create: true)
        let wide = 256, count = 4_000
        let rows = (0..<(count * wide)).map { Float($0 % 9_973) / 9_973 }
        for start in stride(from: 0, to: count, by: 500) {
            let records = (start..<(start + 500)).map { (id: "p\($0)", text: "text \($0)", origin: "test:\($0)") }
            _ = try store.append(records, vectors: Array(rows[(start * wide)..<((start + 500) * wide)]), dimension: wide, policy: .error,
                                 progress: BuildProgress())
        }
        var read = [Float](repeating: 0, count: count * wide)
        try read.withUnsafeMutableBufferPointer { try store.readVectors(0..<count, dimension: wide, into: $0.baseAddress!) }
        #expect(read == rows)
        let before = try MemoryMaps.mappings(of: data).map(\.residentBytes).reduce(0, +)
        #expect(before >= count * wide * 4)
        store.releaseMappedPages()
        let after = try MemoryMaps.mappings(of: data).map(\.residentBytes).reduce(0, +)
        #expect(after <= 16 * 4_096, "\(after) bytes still resident of \(before)")
        read = [Float](repeating: 0, count: count * wide)
        try read.withUnsafeMutableBufferPointer { try store.readVectors(0..<count, dimension: wide, into: $0.baseAddress!) }
        #expect(read == rows)
    }

    @Test func appendsAndReadsBackAcrossReopen() throws {
        let path = try TinyModel.temporaryFolder().path
        do {
            let store = try EmbeddingStore(path: path, create: true)
            var progress = BuildProgress()
            progress.linesConsumed = 2
            let result = try store.append(records(["a", "b"]), vectors: vectors([1, 2]), dimension: dimension, policy: .error, progress: progress)
            #expect(result == EmbeddingStore.AppendResult(stored: 2))
            progress.linesConsumed = 3
            _ = try store.append(records(["c"]), vectors: vectors([3]), dimension: dimension, policy: .error, progress: progress)
        }
        let store = try EmbeddingStore(path: path, readOnly: true)
        #expect(try store.count() == 3)
        #expect(try store.progress().linesConsumed == 3)
        #expect(try readAll(store) == vectors([1, 2, 3]))
        #expect(try store.internalId(of: "c") == 2)
        #expect(try store.internalId(of: "zzz") == nil)
        let found = try store.passages(internalIds: [2, -1, 0, 99])
        #expect(found[0]?.id == "c" && found[0]?.text == "text of c")
        #expect(found[1] == nil && found[3] == nil)
        #expect(found[2]?.id == "a")
    }

    /// A duplicate id stops the batch with an error naming it, and nothing of that batch is
    /// stored: the store stays at the previous batch boundary.
    @Test func duplicateIdErrorStoresNothingOfTheBatch() throws {
        let store = try EmbeddingStore(path: TinyModel.temporaryFolder().path, create: true)
        _ = try store.append(records(["a", "b"]), vectors: vectors([1, 2]), dimension: dimension, policy: .error, progress: BuildProgress())
        var progress = BuildProgress()
        progress.linesConsumed = 99
        #expect {
            try store.append(records(["c", "a", "d"]), vectors: vectors([3, 4, 5]), dimension: dimension, policy: .error, progress: progress)
        } throws: { error in
            guard case let .duplicateId(_, id, source) = error as? StoreError else { return false }
            return id == "a" && source == "test:a"
        }
        #expect(try store.count() == 2)
        #expect(try store.internalId(of: "c") == nil)
        #expect(try store.progress().linesConsumed == 0)
    }

    @Test func duplicatesInsideOneBatchAreCaughtToo() throws {
        let store = try EmbeddingStore(path: TinyModel.temporaryFolder().path, create: true)
        #expect(throws: StoreError.self) {
            try store.append(records(["x", "x"]), vectors: vectors([1, 2]), dimension: dimension, policy: .error, progress: BuildProgress())
        }
        let skipped = try store.append(records(["x", "x"]), vectors: vectors([1, 2]), dimension: dimension, policy: .skip, progress: BuildProgress())
        #expect(skipped == EmbeddingStore.AppendResult(stored: 1, skipped: 1))
    }

    @Test func skipKeepsTheFirstAndReplaceOverwritesInPlace() throws {
        let store = try EmbeddingStore(path: TinyModel.temporaryFolder().path, create: true)
        _ = try store.append(records(["a", "b"]), vectors: vectors([1, 2]), dimension: dimension, policy: .error, progress: BuildProgress())
        let skip = try store.append(records(["b", "c"]), vectors: vectors([7, 3]), dimension: dimension, policy: .skip, progress: BuildProgress())
        #expect(skip == EmbeddingStore.AppendResult(stored: 1, skipped: 1))
        #expect(try readAll(store) == vectors([1, 2, 3]))
        #expect(try store.generation() == 0)

        let replace = try store.append([(id: "a", text: "new text", origin: "t")], vectors: vectors([9]), dimension: dimension, policy: .replace, progress: BuildProgress())
        #expect(replace == EmbeddingStore.AppendResult(replaced: 1))
        #expect(try readAll(store) == vectors([9, 2, 3]))
        #expect(try store.passages(internalIds: [0])[0]?.text == "new text")
        // Replaced vectors make any saved FAISS index stale.
        #expect(try store.generation() == 1)
    }

    @Test func metadataRoundTrips() throws {
        let path = try TinyModel.temporaryFolder().path
        let store = try EmbeddingStore(path: path, create: true)
        #expect(try store.manifest() == nil)
        let model = ModelIdentity(name: "m", path: "/m", weightsFingerprint: "crc32:1", dimension: 4, pooling: "mean", normalized: true, maxLength: 16)
        let manifest = StoreManifest(model: model, source: "/c.tsv", sourceFormat: "msmarco", factory: "Flat", metric: "ip")
        try store.setManifest(manifest)
        let record = IndexRecord(factory: "Flat", metric: "ip", covered: 3, generation: 0, fileSize: 10, crc32: 42)
        try store.setIndexRecord(record)
        let reopened = try EmbeddingStore(path: path)
        #expect(try reopened.manifest() == manifest)
        #expect(try reopened.indexRecord() == record)
    }

    @Test func missingStoreIsExplained() {
        #expect { try EmbeddingStore(path: "/nonexistent/densekit-store", readOnly: true) } throws: { "\($0)".contains("/nonexistent/densekit-store") }
    }
}
