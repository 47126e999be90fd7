/// Why the store could not do what was asked. Every case names the store folder or file.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    /// LMDB refused an operation.
    case lmdb(path: String, code: Int32, message: String)
    /// A file-system problem (missing folder, permissions, full disk).
    case io(path: String, reason: String)
    /// The stored data contradicts itself or this version of densekit.
    case corrupt(path: String, reason: String)
    /// The request does not fit what the store holds (another model, another dimension).
    case mismatch(path: String, reason: String)
    /// An external id that is already stored.
    case duplicateId(path: String, id: String, source: String)

    /// LMDB's (or the system's) error number, for `.lmdb`.
    public var code: Int32? {
        if case let .lmdb(_, code, _) = self { code } else { nil }
    }

    public var description: String {
        switch self {
        case let .lmdb(path, code, message): "\(path): LMDB error \(code): \(message)"
        case let .io(path, reason): "\(path): \(reason)"
        case let .corrupt(path, reason): "\(path): store is inconsistent: \(reason)"
        case let .mismatch(path, reason): "\(path): \(reason)"
        case let .duplicateId(path, id, source): "\(source): duplicate id '\(id)', already in the store at \(path) (use --on-duplicate skip or replace)"
        }
    }
}
