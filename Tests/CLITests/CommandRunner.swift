import DensekitTestSupport
import Foundation

/// Runs the built `densekit` binary as a user would, capturing its output and exit status.
struct CommandRunner {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        let stdoutData: Data
    }

    /// The `densekit` executable next to the test bundle (SwiftPM builds it with the tests).
    static var executable: URL {
        #if os(macOS)
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("densekit")
        }
        #endif
        return Bundle.main.bundleURL.appendingPathComponent("densekit")
    }

    /// The real model, fetched by scripts/test.sh (DENSEKIT_MODEL), else the default cache.
    static var modelPath: String {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["DENSEKIT_MODEL"], !path.isEmpty { return path }
        return (environment["DENSEKIT_CACHE"] ?? NSHomeDirectory() + "/.cache/densekit") + "/models/all-MiniLM-L6-v2"
    }

    static var modelAvailable: Bool { FileManager.default.fileExists(atPath: modelPath + "/model.safetensors") }

    /// Runs `densekit arguments` (or `executable prefix arguments`: another program, e.g. a
    /// shell or setpriv, that starts densekit itself).
    static func run(_ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:],
                    removing removed: [String] = [], executable program: URL? = nil, prefix: [String] = []) throws -> Result {
        let process = Process()
        process.executableURL = program ?? executable
        process.arguments = prefix + arguments
        var environment = ProcessInfo.processInfo.environment
        for key in removed { environment[key] = nil }
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        // Files, not pipes: a child writing much to an unread pipe would block.
        let outPath = try temporaryFile([], name: "stdout"), errPath = try temporaryFile([], name: "stderr")
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        let inPath = try temporaryFile(Array((stdin ?? "").utf8), name: "stdin")
        process.standardInput = FileHandle(forReadingAtPath: inPath)
        try process.run()
        process.waitUntilExit()
        let outData = try Data(contentsOf: URL(fileURLWithPath: outPath))
        let errData = try Data(contentsOf: URL(fileURLWithPath: errPath))
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self), stdoutData: outData)
    }

    /// Runs `densekit arguments` and kills it with SIGKILL as soon as `condition` holds (checked
    /// every `poll` seconds, for up to `timeout` seconds). Returns whether the kill landed
    /// before the run ended.
    static func killWhen(_ arguments: [String], poll: TimeInterval = 0.01, timeout: TimeInterval = 300, when condition: () -> Bool) throws -> Bool {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline && !condition() {
            Thread.sleep(forTimeInterval: poll)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal
    }

    /// Kills `densekit arguments` while the refresh in the folder `refresh` encodes (its index
    /// store exists, its negatives not yet): a training run killed mid-encode.
    static func killWhileEncoding(_ arguments: [String], refresh: String) throws -> Bool {
        try killWhen(arguments) {
            FileManager.default.fileExists(atPath: refresh + "/index/store") && !FileManager.default.fileExists(atPath: refresh + "/negatives.tsv")
        }
    }

    static func temporaryFile(_ contents: [UInt8], name: String = "input.txt") throws -> String {
        let folder = try TestScratch.folder("cli")
        let url = folder.appendingPathComponent(name)
        try Data(contents).write(to: url)
        return url.path
    }

    /// Writes a retrieval task (collection.tsv, queries.tsv, qrels.tsv) into a fresh folder and
    /// returns the three paths.
    static func writeTask(collection: String, queries: String, qrels: String) throws -> (collection: String, queries: String, qrels: String) {
        let c = try temporaryFile(Array(collection.utf8), name: "collection.tsv")
        let folder = URL(fileURLWithPath: c).deletingLastPathComponent()
        try queries.write(to: folder.appendingPathComponent("queries.tsv"), atomically: true, encoding: .utf8)
        try qrels.write(to: folder.appendingPathComponent("qrels.tsv"), atomically: true, encoding: .utf8)
        return (c, folder.appendingPathComponent("queries.tsv").path, folder.appendingPathComponent("qrels.tsv").path)
    }
}
