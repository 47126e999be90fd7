import ArgumentParser
import DensekitEncoder
import DensekitServe
import Foundation

/// `densekit serve`: the index over HTTP.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve an index over HTTP: search, embed and rerank as JSON.",
        discussion: """
        Endpoints: POST /v1/search {"query": "...", "k": 10} or {"queries": [...]} (with \
        "retriever", "nprobe", "ef_search", "refine", "rerank", "rerank_depth", "fields"), answered in \
        `densekit search --json`'s shape; POST /v1/embed {"texts": [...]}; POST /v1/rerank \
        {"query": "...", "passages": [...]} (with --rerank); GET /v1/index; GET /health. \
        Concurrent dense searches share encoder batches: those that arrive while one runs go \
        in the next (--max-wait-ms makes a lone request wait for company). Reranking is bounded \
        by --max-rerank-pairs per request, and work that waits over --timeout behind others' \
        is answered 503. Binds to 127.0.0.1 unless --host says otherwise; the index is opened \
        read-only. SIGINT or SIGTERM finish the requests in flight, then exit 0. The OpenAPI \
        document is at GET /openapi.json (--openapi prints it).
        """)

    @Option(name: .long, help: "Index folder (densekit index build).")
    var index: String?
    @Flag(name: .long, help: "Print the OpenAPI document (docs/openapi.json) and exit.")
    var openapi = false
    @Option(name: .long, help: "Cross-encoder folder for reranking (POST /v1/rerank, \"rerank\": true).")
    var rerank: String?
    @Option(name: .long, help: "Address to listen on (0.0.0.0 for every interface).")
    var host = "127.0.0.1"
    @Option(name: .long, help: "Port (0: any free one, printed at start).")
    var port = 8080
    @Option(name: .long, help: "Largest request body, in bytes.")
    var maxBody = 1 << 20
    @Option(name: .long, help: "Most queries (or texts, or passages) in one request.")
    var maxQueries = SearchService.Limits().maxItems
    @Option(name: .long, help: "Longest wait, in milliseconds, for other requests to share an encoder batch (0: none; requests that arrive while one runs still share the next).")
    var maxWaitMs = 0.0
    @Option(name: .long, help: "Wait, in milliseconds (at least --max-wait-ms), of a batch's first request when the batch before held several: concurrent clients answered together come back together (0, the default: --max-wait-ms only).")
    var busyWaitMs = 0.0
    @Option(name: .long, help: "Most (query, passage) pairs one request may have reranked.")
    var maxRerankPairs = SearchService.Limits().maxRerankPairs
    @Option(name: .long, help: "Seconds a request's work may wait behind others' before it is answered 503.")
    var timeout = 60.0
    @Option(name: .long, help: "Worker threads (default: $DENSEKIT_THREADS, else one per core).")
    var threads: Int?

    func validate() throws {
        guard openapi || index != nil else { throw ValidationError("--index is required (or --openapi)") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard maxBody >= 1_024 else { throw ValidationError("--max-body must be at least 1024 bytes") }
        guard maxQueries >= 1 else { throw ValidationError("--max-queries must be positive") }
        guard maxWaitMs.isFinite, (0...1_000).contains(maxWaitMs) else { throw ValidationError("--max-wait-ms must be between 0 and 1000") }
        guard busyWaitMs.isFinite, (0...1_000).contains(busyWaitMs) else { throw ValidationError("--busy-wait-ms must be between 0 and 1000") }
        guard maxRerankPairs >= 1 else { throw ValidationError("--max-rerank-pairs must be positive") }
        guard timeout.isFinite, timeout > 0, timeout <= 86_400 else { throw ValidationError("--timeout must be a positive number of seconds") }
        if let threads, threads < 1 { throw ValidationError("--threads must be positive") }
    }

    func run() throws {
        if openapi {
            FileHandle.standardOutput.write(OpenAPI.document)
            return
        }
        let index = index ?? ""
        var limits = SearchService.Limits()
        limits.maxItems = maxQueries
        limits.maxRerankPairs = maxRerankPairs
        limits.queueTimeout = .milliseconds(Int64(timeout * 1_000))
        let service = try SearchService(index: index, rerank: rerank, threads: threads ?? EncodeOptions.defaultThreads,
                                        maxWait: .microseconds(Int64(maxWaitMs * 1_000)), busyWait: .microseconds(Int64(busyWaitMs * 1_000)), limits: limits, log: { warn($0) })
        let host = host, port = port, maxBody = maxBody
        let outcome = BlockingTask {
            try await Server.run(service: service, host: host, port: port, maxBody: maxBody) { bound in
                warn("serve: \(index) on http://\(host):\(bound) (\(service.retrievers.map(\.rawValue).joined(separator: ", "))\(service.reranker == nil ? "" : ", rerank"))")
            }
        }.wait()
        if case .failure(let error) = outcome {
            let text = "\(error)"
            if text.contains("Address already in use") || text.contains("EADDRINUSE") {
                throw ServeStartError(message: "port \(port) on \(host) is in use (another server?): choose another with --port")
            }
            throw error
        }
        warn("serve: stopped")
    }
}

/// The server could not start.
struct ServeStartError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Runs async work to its end from synchronous code (the command's `run`), on the
/// cooperative pool; the calling thread waits.
final class BlockingTask: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private var result: Result<Void, Error> = .success(())

    init(_ body: @escaping @Sendable () async throws -> Void) {
        Task {
            do { try await body() } catch { self.result = .failure(error) }
            self.semaphore.signal()
        }
    }

    func wait() -> Result<Void, Error> {
        semaphore.wait()
        return result
    }
}
