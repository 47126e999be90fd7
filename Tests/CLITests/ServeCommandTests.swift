import DensekitTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `densekit serve` as a user starts it: over HTTP its search answers what `densekit search
/// --json` answers, SIGTERM ends it with status 0, and a second server on the same port says
/// the port is taken.
@Suite(.serialized) struct ServeCommandTests {
    /// A running server and the port it listens on.
    struct Running {
        let process: Process
        let port: Int
        let stderr: String
    }

    func start(_ arguments: [String]) throws -> Running {
        let process = Process()
        process.executableURL = CommandRunner.executable
        process.arguments = ["serve"] + arguments
        let log = try CommandRunner.temporaryFile([], name: "serve.log")
        process.standardError = FileHandle(forWritingAtPath: log)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, process.isRunning {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"on http://127\.0\.0\.1:(\d+)"#, options: .regularExpression),
               let port = Int(text[range].split(separator: ":").last ?? "") {
                return Running(process: process, port: port, stderr: log)
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.terminate()
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "the server did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")"])
    }

    /// One HTTP exchange: (status, body).
    func request(_ port: Int, _ path: String, body: String? = nil) throws -> (Int, Data) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        if let body {
            request.httpMethod = "POST"
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let done = DispatchSemaphore(value: 0)
        let box = ResponseBox()
        URLSession.shared.dataTask(with: request) { data, response, error in
            box.set((response as? HTTPURLResponse)?.statusCode ?? -1, data ?? Data(), error)
            done.signal()
        }.resume()
        done.wait()
        return try box.get()
    }

    @Test func answersLikeSearchStopsOnSIGTERMAndRefusesATakenPort() throws {
        let (collection, _, _) = try RefreshCommandTests().corpus(80)
        let folder = URL(fileURLWithPath: collection).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("model"), withIntermediateDirectories: true)
        let model = try TinyModel.writeFolder(at: folder.appendingPathComponent("model")).path
        let index = folder.path + "/index"
        let build = try CommandRunner.run(["index", "build", "--model", model, "--index", index, "--collection", collection, "--quiet"])
        #expect(build.status == 0, "\(build.stderr)")

        let server = try start(["--index", index, "--port", "0"])
        defer { if server.process.isRunning { server.process.terminate() } }
        let (healthStatus, health) = try request(server.port, "/health")
        #expect(healthStatus == 200 && String(decoding: health, as: UTF8.self).contains("ok"))
        for query in ["audio library number 3", "python tool"] {
            let cli = try CommandRunner.run(["search", "--index", index, query, "-k", "5", "--json"])
            #expect(cli.status == 0, "\(cli.stderr)")
            let (status, body) = try request(server.port, "/v1/search", body: #"{"query": "\#(query)", "k": 5}"#)
            #expect(status == 200)
            let served = try JSONSerialization.jsonObject(with: body) as? NSDictionary
            let expected = try JSONSerialization.jsonObject(with: cli.stdoutData) as? NSDictionary
            #expect(served != nil && served == expected, "\(String(decoding: body, as: UTF8.self))")
        }
        let (badStatus, bad) = try request(server.port, "/v1/search", body: #"{"query": "x", "k": -1}"#)
        #expect(badStatus == 400 && String(decoding: bad, as: UTF8.self).contains("'k' must be between"))
        let (bigStatus, _) = try request(server.port, "/v1/search", body: #"{"query": ""# + String(repeating: "a", count: 2 << 20) + #""}"#)
        #expect(bigStatus == 413)

        let second = try CommandRunner.run(["serve", "--index", index, "--port", String(server.port)])
        #expect(second.status != 0 && second.stderr.contains("port \(server.port) on 127.0.0.1 is in use"), "\(second.stderr)")

        kill(server.process.processIdentifier, SIGTERM)
        server.process.waitUntilExit()
        #expect(server.process.terminationReason == .exit && server.process.terminationStatus == 0)
        #expect(((try? String(contentsOfFile: server.stderr, encoding: .utf8)) ?? "").contains("serve: stopped"))
    }
}

/// A response handed from URLSession's thread to the test's.
private final class ResponseBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (Int, Data, Error?) = (-1, Data(), nil)
    func set(_ status: Int, _ data: Data, _ error: Error?) { lock.withLock { value = (status, data, error) } }
    func get() throws -> (Int, Data) {
        try lock.withLock {
            if let error = value.2 { throw error }
            return (value.0, value.1)
        }
    }
}
