import DensekitTestSupport
import Foundation
import Testing

/// Inputs that used to crash densekit or lose data (issue 10), run as a user runs them, on a
/// tiny random model: each ends with an exit status and a message naming the problem, never a
/// signal, and what was stored stays usable.
@Suite(.serialized) struct ReliabilityCommandTests {
    /// A tiny model folder and a 40-passage corpus of its words, in a fresh folder.
    func setUp() throws -> (folder: String, model: String, corpus: String) {
        let folder = try TinyModel.temporaryFolder()
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("model"), withIntermediateDirectories: true)
        let model = try TinyModel.writeFolder(at: folder.appendingPathComponent("model"), parameters: TinyModel.parameters(seed: 5))
        var random = SeededGenerator(seed: 8)
        let lines = (0..<40).map { i in
            "p\(i)\t" + (0..<6).map { _ in TinyModel.words[Int.random(in: 0..<10, using: &random)] }.joined(separator: " ")
        }
        let corpus = folder.appendingPathComponent("corpus.tsv").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: corpus, atomically: true, encoding: .utf8)
        return (folder.path, model.path, corpus)
    }

    func build(_ index: String, _ s: (folder: String, model: String, corpus: String), _ extra: [String] = []) throws -> CommandRunner.Result {
        try CommandRunner.run(["index", "build", "--model", s.model, "--index", index, "--collection", s.corpus, "--commit-every", "16", "--quiet"] + extra)
    }

    /// Exited (no signal), with `status`, saying `text` on stderr.
    func expectRefusal(_ result: CommandRunner.Result, status: Int32 = 1, saying text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == status, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(text), "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(!result.stderr.contains("crashed"), sourceLocation: sourceLocation)
    }

    /// Runs densekit as a user without write access to files it does not own: itself when not
    /// root, else `nobody` through setpriv (root ignores file permissions), with a copy of the
    /// binary that `nobody` can execute.
    func runUnprivileged(_ arguments: [String]) throws -> CommandRunner.Result {
        guard getuid() == 0 else { return try CommandRunner.run(arguments) }
        let copy = try TinyModel.temporaryFolder().appendingPathComponent("densekit")
        try FileManager.default.copyItem(at: CommandRunner.executable, to: copy)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: copy.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: copy.deletingLastPathComponent().path)
        return try CommandRunner.run(arguments, executable: URL(fileURLWithPath: "/usr/bin/setpriv"),
                                     prefix: ["--reuid=65534", "--regid=65534", "--clear-groups", copy.path])
    }

    /// Every file and folder under `path`: readable by all, writable by none.
    func makeReadOnly(_ path: String) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        _ = manager.fileExists(atPath: path, isDirectory: &isDirectory)
        try manager.setAttributes([.posixPermissions: isDirectory.boolValue ? 0o555 : 0o444], ofItemAtPath: path)
        if isDirectory.boolValue {
            for name in try manager.contentsOfDirectory(atPath: path) { try makeReadOnly(path + "/" + name) }
        }
    }

    @Test func aReadOnlyIndexServesEveryReadingCommand() throws {
        let s = try setUp()
        let index = s.folder + "/index"
        #expect(try build(index, s).status == 0)
        try makeReadOnly(index)
        try makeReadOnly(s.model)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: s.folder)
        let outputs = try TinyModel.temporaryFolder().path
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: outputs)

        let search = try runUnprivileged(["search", "--index", index, "--model", s.model, "-k", "3", "--json", "the cat sat"])
        #expect(search.status == 0, "\(search.stderr)")
        #expect(search.stdout.contains("\"hits\""))
        #expect(try runUnprivileged(["index", "info", "--index", index]).stdout.contains("passages  40"))
        let verify = try runUnprivileged(["index", "verify", "--index", index, "--quiet"])
        #expect(verify.status == 0 && verify.stdout.contains("no problem found"), "\(verify.stdout)\(verify.stderr)")
        #expect(try runUnprivileged(["index", "export", "--index", index, "-o", outputs + "/v.npy"]).status == 0)
        // Writing is refused with a message; nothing crashes.
        let write = try runUnprivileged(["index", "build", "--model", s.model, "--index", index, "--collection", s.corpus, "--quiet"])
        #expect(write.status == 1 && write.stderr.contains(index), "\(write.stderr)")
    }

    @Test func aDamagedOrTruncatedStoreIsReportedNotCrashedOn() throws {
        let s = try setUp()
        let index = s.folder + "/index"
        #expect(try build(index, s).status == 0)
        let data = index + "/store/data.mdb"
        let original = try Data(contentsOf: URL(fileURLWithPath: data))

        try Data(count: 200).write(to: URL(fileURLWithPath: data))
        expectRefusal(try CommandRunner.run(["search", "--index", index, "--model", s.model, "cat"]), saying: "damaged")
        expectRefusal(try CommandRunner.run(["index", "info", "--index", index]), saying: "damaged")

        var garbled = original
        garbled.replaceSubrange(0..<64, with: [UInt8](repeating: 0xA5, count: 64))
        try garbled.write(to: URL(fileURLWithPath: data))
        expectRefusal(try CommandRunner.run(["search", "--index", index, "--model", s.model, "cat"]), saying: "damaged")

        try original.prefix(original.count / 2).write(to: URL(fileURLWithPath: data))
        expectRefusal(try CommandRunner.run(["search", "--index", index, "--model", s.model, "cat"]), saying: "truncated")
        expectRefusal(try CommandRunner.run(["index", "verify", "--index", index]), saying: "truncated")

        try original.write(to: URL(fileURLWithPath: data))
        #expect(try CommandRunner.run(["index", "verify", "--index", index, "--quiet"]).status == 0)
    }

    @Test func hugeKAndFactoriesFaissCannotRunAreRefusedBeforeWork() throws {
        let s = try setUp()
        let index = s.folder + "/index"
        #expect(try build(index, s).status == 0)
        for k in ["10000000000", "4611686018427387904", "9223372036854775807", "100001", "-1", "0"] {
            let result = try CommandRunner.run(["search", "--index", index, "--model", s.model, "-k", k, "cat"])
            expectRefusal(result, status: 64, saying: "-k must be between 1 and 100000")
        }
        for factory in ["IVF0,Flat", "HNSW0", "HNSW1", "IVF16,PQ0"] {
            let fresh = s.folder + "/index-\(factory)"
            expectRefusal(try build(fresh, s, ["--factory", factory]), saying: "out of range")
            // Refused before the folder was created, so nothing ties it to this attempt.
            #expect(!FileManager.default.fileExists(atPath: fresh))
        }
    }

    /// A corpus from a pipe is read once (no line count consumes it); an empty input is an
    /// error, not an empty index with exit 0.
    @Test func aCorpusFromAPipeIsReadWhole() throws {
        let s = try setUp()
        let piped = try CommandRunner.run(["/bin/sh", "-c", "cat '\(s.corpus)' | '\(CommandRunner.executable.path)' index build --model '\(s.model)' --index '\(s.folder)/piped' --collection /dev/stdin --format msmarco"],
                                          executable: URL(fileURLWithPath: "/usr/bin/env"))
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(try CommandRunner.run(["index", "info", "--index", s.folder + "/piped"]).stdout.contains("passages  40"))
        let empty = try CommandRunner.run(["index", "build", "--model", s.model, "--index", s.folder + "/empty", "--collection", "-", "--format", "msmarco"], stdin: "")
        expectRefusal(empty, saying: "no passage was stored")
    }

    /// With stderr or stdin closed, LMDB's lock file does not become descriptor 2 or 0: no
    /// progress text lands in it, and `--collection -` does not read it as the corpus.
    @Test func closedStandardDescriptorsAreNotHandedToTheStore() throws {
        let s = try setUp()
        let binary = CommandRunner.executable.path
        let index = s.folder + "/index"
        let closedErr = try CommandRunner.run(["/bin/sh", "-c", "'\(binary)' index build --model '\(s.model)' --index '\(index)' --collection '\(s.corpus)' --commit-every 8 2>&-"],
                                              executable: URL(fileURLWithPath: "/usr/bin/env"))
        #expect(closedErr.status == 0)
        let lock = try Data(contentsOf: URL(fileURLWithPath: index + "/store/lock.mdb"))
        #expect(!String(decoding: lock, as: UTF8.self).contains("index build"))
        let closedIn = try CommandRunner.run(["/bin/sh", "-c", "'\(binary)' index build --model '\(s.model)' --index '\(s.folder)/from-stdin' --collection - --format msmarco <&-"],
                                             executable: URL(fileURLWithPath: "/usr/bin/env"))
        expectRefusal(closedIn, saying: "-: no passage was stored (the input holds no passage)")
        #expect(try CommandRunner.run(["index", "verify", "--index", index, "--quiet"]).status == 0)
    }

    /// A training output the user cannot write is refused before any data is read or any step
    /// trained (it used to fail only when the first checkpoint was saved).
    @Test func anUnwritableTrainingOutputIsRefusedBeforeTraining() throws {
        let s = try setUp()
        let queries = s.folder + "/queries.tsv", qrels = s.folder + "/qrels.tsv"
        try (0..<8).map { "q\($0)\tthe cat\n" }.joined().write(toFile: queries, atomically: true, encoding: .utf8)
        try (0..<8).map { "q\($0)\t0\tp\($0)\t1\n" }.joined().write(toFile: qrels, atomically: true, encoding: .utf8)
        let locked = try TinyModel.temporaryFolder().path
        for path in [s.folder, s.model, s.model + "/1_Pooling"] { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path) }
        for file in try FileManager.default.subpathsOfDirectory(atPath: s.model) + ["../corpus.tsv", "../queries.tsv", "../qrels.tsv"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: s.model + "/" + file)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: locked)
        let result = try runUnprivileged(["train", "dual", "--model", s.model, "--collection", s.corpus, "--queries", queries, "--qrels", qrels,
                                          "--batch-size", "4", "--steps", "2", "--out", locked + "/out"])
        expectRefusal(result, saying: "cannot create the output folder")
        #expect(!result.stderr.contains("train: reading"), "\(result.stderr)")
    }

    @Test func argumentErrorsSayWhatWasMeant() throws {
        let typo = try CommandRunner.run(["serach", "cat"])
        expectRefusal(typo, status: 64, saying: "unknown subcommand 'serach' of 'densekit', did you mean 'search'?")
        expectRefusal(try CommandRunner.run(["index", "biuld"]), status: 64, saying: "did you mean 'build'?")
        expectRefusal(try CommandRunner.run(["train", "duel"]), status: 64, saying: "did you mean 'dual'?")
    }
}
