import ArgumentParser
import DensekitCorpus
import DensekitEncoder
import DensekitTensor
import Foundation

/// `densekit bench ...`: in-process speed measurements that Benchmarks/ scripts record.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure speed: encoding throughput and latency, and the machine's sgemm.",
        subcommands: [EncodeBench.self, SgemmBench.self])

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
            commandName: "sgemm", abstract: "cblas_sgemm GFLOP/s on square matrices: the machine's ceiling for encoding.")

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
            print(String(format: "{\"size\":%d,\"threads\":%d,\"seconds\":%.4f,\"gflops_per_second\":%.1f}", n, threads, best, gflops))
        }
    }
}
