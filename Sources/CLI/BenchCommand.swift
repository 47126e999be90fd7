import ArgumentParser
import DensekitCorpus
import DensekitEncoder
import DensekitIndex
import DensekitStore
import DensekitTraining
import DensekitTensor
import Foundation

/// `densekit bench ...`: in-process speed measurements that Benchmarks/ scripts record.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure speed: encoding throughput and latency, and the machine's sgemm.",
        subcommands: [EncodeBench.self, SearchBench.self, StoreBench.self, TrainBench.self, SgemmBench.self])

    /// `densekit bench encode`.
    struct EncodeBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "encode",
            abstract: "Passages/s over the first --limit passages, and single-query latency percentiles.")

        @OptionGroup var modelOptions: ModelOptions

        @Option(name: .long, help: "Passages as pid<TAB>text (MS MARCO collection).")
        var passages: String

        @Option(name: .long, help: "How many passages, from the top of the file.")
        var limit = 5000

        @Option(name: .long, help: "Queries as qid<TAB>text, each encoded alone for latency.")
        var queries: String?

        @Option(name: .long, help: "How many queries for the latency figures.")
        var queryCount = 200

        @Option(name: .long, help: "Timed repetitions of the passage run (the best is reported, the first warm-up is not timed).")
        var repeats = 1

        func run() throws {
            let encoder = try modelOptions.loadEncoder()
            let options = modelOptions.encodeOptions
            let texts = try Self.readTexts(passages, limit: limit)
            let tokens = encoder.tokenize(texts, maxLength: options.maxLength).map(\.ids.count)
            let flops = tokens.reduce(0.0) { $0 + encoder.configuration.flops(length: $1) }

            _ = encoder.encode(Array(texts.prefix(options.batchSize * options.threads)), options: options) // warm-up: buffers, pages
            var best = Double.infinity
            for _ in 0..<max(1, repeats) {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = encoder.encode(texts, options: options)
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            var result: [String: Any] = [
                "passages": texts.count, "tokens": tokens.reduce(0, +),
                "mean_tokens": Double(tokens.reduce(0, +)) / Double(max(1, tokens.count)),
                "seconds": best, "passages_per_second": Double(texts.count) / best,
                "gflop": flops / 1e9, "gflops_per_second": flops / best / 1e9,
                "batch_size": options.batchSize, "threads": options.threads,
                "max_length": options.maxLength ?? encoder.maxLength,
            ]
            if let queries {
                let queryTexts = try Self.readTexts(queries, limit: queryCount)
                _ = encoder.encode([queryTexts[0]], options: options)
                var latencies: [Double] = []
                for text in queryTexts {
                    let start = DispatchTime.now().uptimeNanoseconds
                    _ = encoder.encode([text], options: options)
                    latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                }
                latencies.sort()
                result["queries"] = latencies.count
                result["query_latency_ms_p50"] = latencies[latencies.count / 2]
                result["query_latency_ms_p90"] = latencies[latencies.count * 9 / 10]
            }
            let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }

        static func readTexts(_ path: String, limit: Int) throws -> [String] {
            let reader = try LineReader(path: path)
            var texts: [String] = []
            while texts.count < limit, let line = try reader.nextLine() {
                texts.append(try TextFile.splitIdText(line.text, path: path, line: line.number).1)
            }
            return texts
        }
    }

    /// `densekit bench sgemm`.
    struct SgemmBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sgemm", abstract: "cblas_sgemm GFLOP/s on square matrices: the machine's ceiling for encoding.",
            discussion: "Prints the processor and the OpenBLAS core (kernel set) that ran, with why; `densekit system` says more.")

        @Option(name: .long, help: "Matrix size n (n x n times n x n).")
        var size = 2048

        @Option(name: .long, help: "OpenBLAS threads (default: one per core).")
        var threads = ProcessInfo.processInfo.activeProcessorCount

        @Option(name: .long, help: "Timed repetitions (best reported).")
        var repeats = 5

        func run() throws {
            BLAS.setThreads(threads)
            let n = size
            let a = (0..<(n * n)).map { _ in Float.random(in: -1...1) }
            let b = (0..<(n * n)).map { _ in Float.random(in: -1...1) }
            var c = [Float](repeating: 0, count: n * n)
            var best = Double.infinity
            for _ in 0...repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                c.withUnsafeMutableBufferPointer { cp in
                    BLAS.gemm(.none, .none, m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: cp.baseAddress!, ldc: n)
                }
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            let gflops = 2 * Double(n) * Double(n) * Double(n) / best / 1e9
            let status = BLASCoreStatus.current
            let object: [String: Any] = [
                "size": n, "threads": threads, "seconds": (best * 1e4).rounded() / 1e4, "gflops_per_second": (gflops * 10).rounded() / 10,
                "cpu": CPUFeatures.current.model, "blas_core": status.loaded.name, "blas_core_reason": status.reason,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}

extension Bench {
    /// `densekit bench search`.
    struct SearchBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "search",
            abstract: "FAISS search speed and recall@k against exact search, on stored vectors and given query vectors.")

        @Option(name: .long, help: "Index folder whose stored vectors are searched.")
        var index: String

        @Option(name: .long, help: "Query vectors (.npy float32, e.g. from `densekit embed --format npy`).")
        var queryVectors: String

        @Option(name: .long, help: "FAISS index-factory string to time.")
        var factory = "Flat"

        @Option(name: .short, help: "Results per query.")
        var k = 10

        @Option(name: .long, help: "HNSW candidate list size.")
        var efSearch: Int?

        @Option(name: .long, help: "IVF lists probed.")
        var nprobe: Int?

        @Option(name: .long, help: "OpenMP threads for FAISS.")
        var threads = ProcessInfo.processInfo.activeProcessorCount

        @Option(name: .long, help: "Timed repetitions (best reported).")
        var repeats = 3

        @Option(name: .long, help: "Distance kernel of the timed index (\(FaissIndex.DistanceKernel.allCases.map(\.rawValue).joined(separator: ", ")); default: the best this processor runs). `faiss` times Debian's FAISS alone.")
        var distances: FaissIndex.DistanceKernel?

        @Option(name: .long, help: "HNSW search and build code of the timed index: densekit (default) or faiss (FAISS's own IndexHNSW::search and ::add).")
        var hnsw: FaissIndex.HNSWCode = .densekit

        func run() throws {
            FaissIndex.setThreads(threads)
            BLAS.setThreads(threads)
            let folder = try IndexFolder(path: index, readOnly: true)
            let manifest = try folder.manifest()
            let dimension = manifest.model.dimension
            let count = try folder.store.count()
            var vectors = [Float](repeating: 0, count: count * dimension)
            try vectors.withUnsafeMutableBufferPointer { try folder.store.readVectors(0..<count, dimension: dimension, into: $0.baseAddress!) }
            let queryFile = try NpyMatrixFile(path: queryVectors)
            let queries = (values: try queryFile.read(rows: 0..<queryFile.rows), rows: queryFile.rows, columns: queryFile.columns)
            guard queries.columns == dimension else {
                throw ValidationErrorMessage("\(queryVectors): \(queries.columns) columns, the index has dimension \(dimension)")
            }
            let metric = FaissIndex.Metric(rawValue: manifest.metric) ?? .innerProduct
            let ids = (0..<count).map(Int64.init)

            func build(_ factory: String, distances: FaissIndex.DistanceKernel? = nil, hnsw: FaissIndex.HNSWCode = .densekit) throws -> (FaissIndex, Double) {
                let start = DispatchTime.now().uptimeNanoseconds
                let index = try FaissIndex(factory: factory, dimension: dimension, metric: metric)
                if let distances { try index.setDistanceKernel(distances) }
                try index.setHNSWCode(hnsw)
                try vectors.withUnsafeBufferPointer { v in
                    if !index.isTrained { try index.train(v.baseAddress!, count: min(count, 100_000)) }
                    try index.add(v.baseAddress!, count: count, ids: ids)
                }
                return (index, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            let (exact, _) = try build("Flat")
            let (tested, buildSeconds) = try build(factory, distances: distances, hnsw: hnsw)
            if let efSearch { try tested.setEfSearch(efSearch) }

            if let nprobe { try tested.setNProbe(nprobe) }
            let truth = try queries.values.withUnsafeBufferPointer { try exact.search($0.baseAddress!, count: queries.rows, k: k).ids }
            var best = Double.infinity
            var found: [Int64] = []
            for _ in 0..<max(1, repeats) {
                let start = DispatchTime.now().uptimeNanoseconds
                found = try queries.values.withUnsafeBufferPointer { try tested.search($0.baseAddress!, count: queries.rows, k: k).ids }
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            var hits = 0
            for q in 0..<queries.rows {
                let expected = Set(truth[(q * k)..<((q + 1) * k)])
                hits += found[(q * k)..<((q + 1) * k)].filter { expected.contains($0) }.count
            }
            let result: [String: Any] = [
                "factory": factory, "vectors": count, "queries": queries.rows, "k": k, "threads": threads,
                "build_seconds": buildSeconds, "search_seconds": best, "queries_per_second": Double(queries.rows) / best,
                "recall_at_k_vs_flat": Double(hits) / Double(queries.rows * k), "ef_search": efSearch ?? 0, "nprobe": nprobe ?? 0,
                "distances": tested.distanceKernel?.rawValue ?? "faiss (no flat storage)", "cpu": CPUFeatures.current.model,
                "hnsw_code": hnsw.rawValue,
            ]
            let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}

extension Bench {
    /// `densekit bench store`.
    struct StoreBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "store",
            abstract: "LMDB store write throughput: passages (text + vector + both id maps) per second, in committed batches.")

        @Option(name: .long, help: "Folder for the throwaway store (must not exist).")
        var folder: String

        @Option(name: .long, help: "Passages to write.")
        var count = 60_000

        @Option(name: .long, help: "Vector dimension.")
        var dimension = 384

        @Option(name: .long, help: "Characters of text per passage.")
        var textLength = 376

        @Option(name: .long, help: "Passages per transaction.")
        var batch = 1024

        func run() throws {
            guard !FileManager.default.fileExists(atPath: folder) else { throw ValidationErrorMessage("\(folder) exists; give a new folder") }
            let store = try EmbeddingStore(path: folder, create: true)
            let text = String(repeating: "x", count: textLength)
            let vectors = (0..<(batch * dimension)).map { Float($0 % 97) / 97 }
            var progress = BuildProgress()
            let start = DispatchTime.now().uptimeNanoseconds
            var written = 0
            while written < count {
                let n = min(batch, count - written)
                let records = (written..<(written + n)).map { (id: String($0), text: text, origin: "bench") }
                progress.linesConsumed = written + n
                _ = try store.append(records, vectors: Array(vectors.prefix(n * dimension)), dimension: dimension, policy: .error, progress: progress)
                written += n
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            print(String(format: "{\"passages\":%d,\"dimension\":%d,\"batch\":%d,\"seconds\":%.4f,\"passages_per_second\":%.0f,\"puts_per_second\":%.0f}",
                         count, dimension, batch, seconds, Double(count) / seconds, Double(4 * count) / seconds))
        }
    }
}

extension Bench {
    /// `densekit bench train`.
    struct TrainBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train",
            abstract: "Dual-encoder training throughput (pairs/s) and peak memory, without saving anything.")

        @OptionGroup var modelOptions: ModelOptions
        @Option(name: .long, help: "Passages.") var collection: String
        @Option(name: .long, help: "Training queries.") var queries: String
        @Option(name: .long, help: "Training qrels.") var qrels: String
        @Option(name: .long, help: "Hard negatives file (qid<TAB>pid,...).") var negatives: String?
        @Option(name: .long, help: "Timed steps (after one untimed warm-up step).") var steps = 5
        @Option(name: .long, help: "Sequences per chunk (GradCache beyond one chunk per worker).") var chunkSize = TrainerOptions().chunkSize
        @Option(name: .long, help: "Query truncation.") var queryMaxLength = 256
        @Option(name: .long, help: "Passage truncation.") var passageMaxLength = 256
        @Flag(name: .long, help: "Recompute layer activations in the backward pass.") var gradientCheckpointing = false
        @Flag(name: .long, help: "Separate query and passage towers.") var separateTowers = false

        func run() throws {
            let base = try modelOptions.loadEncoder()
            let data = try TrainingData.load(collection: collection, queries: queries, qrels: qrels, negatives: negatives)
            var options = TrainerOptions()
            options.batchSize = modelOptions.batchSize
            options.chunkSize = chunkSize
            options.negativesPerQuery = negatives == nil ? 0 : 1
            options.totalSteps = steps + 1
            options.queryMaxLength = queryMaxLength
            options.passageMaxLength = passageMaxLength
            options.threads = modelOptions.threads ?? EncodeOptions.defaultThreads
            options.gradientCheckpointing = gradientCheckpointing
            options.separateTowers = separateTowers
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("densekit-bench-train-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            let trainer = try DualEncoderTrainer(base: base, data: data, options: options, output: folder)
            var seconds: [Double] = []
            var phases: [String: Double] = [:]
            struct Done: Error {}
            do {
                try trainer.train(progress: { report in
                    if report.step > 1 {
                        seconds.append(report.seconds)
                        let p = report.phases, e = p.encoder
                        for (name, value) in [("tokenize", p.tokenize), ("forward", e.forward), ("loss", e.loss), ("backward", e.backward),
                                              ("gradient_sum", e.gradientSum), ("clipping", p.clipping), ("optimizer", p.optimizer)] {
                            phases[name, default: 0] += value
                        }
                    }
                    if report.step == options.totalSteps { throw Done() }
                })
            } catch is Done {}
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            let steps = Double(max(1, seconds.count))
            let mean = seconds.reduce(0, +) / steps
            let result: [String: Any] = [
                "batch_size": options.batchSize, "negatives_per_query": options.negativesPerQuery, "chunk_size": chunkSize,
                "steps": seconds.count, "seconds_per_step": (mean * 1000).rounded() / 1000,
                "pairs_per_second": (Double(options.batchSize) / mean * 100).rounded() / 100,
                "peak_rss_mb": (Double(usage.ru_maxrss) / 1024).rounded(), "threads": options.threads,
                "gradient_checkpointing": gradientCheckpointing, "separate_towers": separateTowers,
                "phase_seconds_per_step": phases.mapValues { ($0 / steps * 1000).rounded() / 1000 },
                "cpu": CPUFeatures.current.model, "blas_core": BLASCore.loaded.name,
            ]
            let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
            print(String(decoding: json, as: UTF8.self))
        }
    }
}

extension FaissIndex.DistanceKernel: ExpressibleByArgument {}
extension FaissIndex.HNSWCode: ExpressibleByArgument {}
