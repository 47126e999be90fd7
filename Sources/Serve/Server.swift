import Foundation
import Hummingbird

/// `densekit serve`'s HTTP side on Hummingbird 2: routes to a `SearchService`, JSON in and out,
/// every refusal a 4xx with a JSON body, request bodies capped at `maxBody` bytes.
public enum Server {
    /// The routes, for `Application` (and for in-process tests).
    public static func router(service: SearchService, maxBody: Int) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: MethodCheck(methods: ["/": .get, "/health": .get, "/openapi.json": .get, "/v1/index": .get,
                                                     "/v1/search": .post, "/v1/embed": .post, "/v1/rerank": .post]))
        router.get("/health") { _, _ in json(Data(#"{"status":"ok"}"#.utf8)) }
        let page = ByteBuffer(string: WebPage.html)
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: page))
        }
        let document = OpenAPI.document(for: service.capabilities)
        router.get("/openapi.json") { _, _ in json(document) }
        router.get("/v1/index") { _, _ in
            do { return json(try service.info()) } catch { return failure(ServeError(500, "\(error)")) }
        }
        router.post("/v1/search") { request, _ in await answer(request, maxBody: maxBody) { body throws(ServeError) in try await service.search(body: body) } }
        router.post("/v1/embed") { request, _ in await answer(request, maxBody: maxBody) { body throws(ServeError) in try await service.embed(body: body) } }
        router.post("/v1/rerank") { request, _ in await answer(request, maxBody: maxBody) { body throws(ServeError) in try await service.rerank(body: body) } }
        return router
    }

    /// Reads the body (at most `maxBody` bytes) and runs `handle` on it.
    static func answer(_ request: Request, maxBody: Int, _ handle: (Data) async throws(ServeError) -> Data) async -> Response {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBody)
        } catch {
            return failure(ServeError(413, "the request body is over \(maxBody) bytes (--max-body)"))
        }
        do {
            return json(try await handle(Data(buffer.readableBytesView)))
        } catch {
            return failure(error)
        }
    }

    static func json(_ data: Data, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func failure(_ error: ServeError) -> Response {
        json(error.body, status: HTTPResponse.Status(code: error.status))
    }

    /// Serves `service` on `host:port` until SIGINT or SIGTERM, which stop taking connections,
    /// let the requests in flight finish, and return.
    public static func run(service: SearchService, host: String, port: Int, maxBody: Int, onListening: @escaping @Sendable (Int) -> Void) async throws {
        let app = Application(router: router(service: service, maxBody: maxBody),
                              configuration: .init(address: .hostname(host, port: port), serverName: "densekit"),
                              onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) })
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}

/// A known path asked with a method it does not answer: 405 with `Allow`, not 404.
struct MethodCheck: RouterMiddleware {
    typealias Context = BasicRequestContext
    let methods: [String: HTTPRequest.Method]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let method = methods[request.uri.path], request.method != method, !(method == .get && request.method == .head) {
            var response = Server.failure(ServeError(405, "\(request.uri.path) answers \(method.rawValue) only"))
            response.headers[.allow] = method == .get ? "GET, HEAD" : method.rawValue
            return response
        }
        return try await next(request, context)
    }
}
