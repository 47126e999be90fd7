import Foundation

extension ModelFolder {
    /// Checks, before any training starts, that `self` can receive a model trained from `base`:
    /// it is neither `base` nor inside it (a base model is never overwritten), it holds no other
    /// model unless `overwrite` (or `resume`, which continues the one there), and it is
    /// writable (created when missing, and a file written and removed in it), so that a
    /// permission problem does not surface only after a training run.
    public func checkTrainingOutput(base: URL, overwrite: Bool, resume: Bool) throws(ModelError) {
        let out = url.standardizedFileURL.resolvingSymlinksInPath().path
        let basePath = base.standardizedFileURL.resolvingSymlinksInPath().path
        if out == basePath || out.hasPrefix(basePath.hasSuffix("/") ? basePath : basePath + "/") {
            throw .output(path: url.path, reason: "is \(out == basePath ? "" : "inside ")the base model folder \(base.path): training would overwrite the model it starts from; choose another --out")
        }
        let manager = FileManager.default
        let holdsModel = ["config.json", Self.weightsFile, "modules.json", DualEncoder.towersFile].contains { manager.fileExists(atPath: file($0).path) }
        if holdsModel && !overwrite && !resume {
            throw .output(path: url.path, reason: "already holds a model; pass --overwrite to replace it, or --resume to continue its training")
        }
        do { try manager.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw .output(path: url.path, reason: "cannot create the output folder (\(Self.reason(error)))")
        }
        let probe = file(".densekit-write-test-\(getpid())")
        guard manager.createFile(atPath: probe.path, contents: Data("x".utf8)) else {
            throw .output(path: url.path, reason: "cannot write in the output folder (\(String(cString: strerror(errno))))")
        }
        try? manager.removeItem(at: probe)
    }

    /// A Foundation error in words a person reads (its POSIX cause when it has one).
    static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return nsError.localizedDescription
    }
}
