import CLMDB
import Foundation

/// A thin, typed layer over the LMDB C API: environments, named databases, transactions.
///
/// LMDB gives the store its crash safety: a write transaction is all-or-nothing and durable
/// once `commit` returns, so a killed build leaves exactly the batches it committed.
public final class LMDBEnvironment: @unchecked Sendable {
    let handle: OpaquePointer
    /// The folder holding data.mdb and lock.mdb.
    public let path: String

    /// Opened without LMDB's lock file because the folder is not writable (a shared, read-only
    /// index): readers then cannot see a writer, which a read-only copy does not have.
    public let withoutLock: Bool

    /// How a process will read the data file, told to the kernel for its memory map.
    public enum ReadPattern: Sendable {
        /// The kernel's default: a page missing from memory is read with its neighbours
        /// (read-ahead), which suits scans (building, rebuilding an index, merging, exporting).
        case sequential
        /// Look-ups at scattered places (a search's hits, vectors to re-score): only the page
        /// asked for is read (LMDB's `MDB_NORDAHEAD`, `madvise(MADV_RANDOM)` on Linux). With
        /// read-ahead each miss reads the block device's whole window
        /// (`/sys/block/DEV/queue/read_ahead_kb`: 8 MiB on some virtual disks), and a store
        /// larger than memory thrashes the page cache.
        case random
    }

    /// Opens (creating when asked) an environment in folder `path`.
    ///
    /// - Parameters:
    ///   - mapSize: the largest the data file may grow; only address space is reserved, the
    ///     file grows as data arrives.
    ///   - readOnly: open without write access (searching needs no more). When the lock file
    ///     cannot be opened for writing (read-only folder or file system), the environment is
    ///     opened without it.
    ///   - reads: how this process will read the data file.
    public init(path: String, maxDatabases: Int = 8, mapSize: Int = 1 << 38, create: Bool = true, readOnly: Bool = false,
                reads: ReadPattern = .sequential) throws(StoreError) {
        self.path = path
        if create && !readOnly {
            do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                throw StoreError.io(path: path, reason: "cannot create folder: \(error.localizedDescription)")
            }
        }
        guard FileManager.default.fileExists(atPath: path + "/data.mdb") || (create && !readOnly) else {
            throw StoreError.io(path: path, reason: "no store here (data.mdb missing)")
        }
        // The lock file is opened with O_CLOEXEC on the lowest free descriptor: with stdin,
        // stdout or stderr closed it would become one of them, and text meant for the terminal
        // would be written into it. Taking 0-2 first keeps LMDB's files above them.
        StandardDescriptors.reserve()
        var opened: OpaquePointer?
        let readFlags = reads == .random ? UInt32(MDB_NORDAHEAD) : 0
        do {
            opened = try Self.open(path: path, maxDatabases: maxDatabases, mapSize: mapSize, flags: (readOnly ? UInt32(MDB_RDONLY) : 0) | readFlags)
            withoutLock = false
        } catch let error where readOnly && (error.code == EACCES || error.code == EROFS) {
            opened = try Self.open(path: path, maxDatabases: maxDatabases, mapSize: mapSize, flags: UInt32(MDB_RDONLY) | UInt32(MDB_NOLOCK) | readFlags)
            withoutLock = true
        }
        guard let opened else { throw StoreError.lmdb(path: path, code: -1, message: "mdb_env_create returned no environment") }
        handle = opened
        // From here on deinit closes the environment.
        try checkFileCoversMap()
    }

    /// Creates and opens an environment; on failure it is closed here (the caller never owns it).
    private static func open(path: String, maxDatabases: Int, mapSize: Int, flags: UInt32) throws(StoreError) -> OpaquePointer {
        var env: OpaquePointer?
        try check(mdb_env_create(&env), path)
        guard let env else { throw StoreError.lmdb(path: path, code: -1, message: "mdb_env_create returned no environment") }
        do {
            try check(mdb_env_set_maxdbs(env, MDB_dbi(maxDatabases)), path)
            try check(mdb_env_set_mapsize(env, mapSize), path)
            // NOTLS: read transactions may move between threads (Swift concurrency, worker pools).
            try check(mdb_env_open(env, path, flags | UInt32(MDB_NOTLS), 0o644), path)
        } catch {
            mdb_env_close(env)
            if let code = error.code, code == MDB_INVALID || code == MDB_CORRUPTED || code == MDB_PAGE_NOTFOUND {
                throw StoreError.corrupt(path: path, reason: "data.mdb is damaged (\(String(cString: mdb_strerror(code)))); restore it or build the index again")
            }
            throw error
        }
        return env
    }

    /// A data file shorter than the pages its meta page names (a truncated copy, a full disk
    /// during a copy) would make LMDB read mapped pages past the end of the file, which the
    /// kernel answers with SIGBUS. Such a store is reported as damaged instead.
    private func checkFileCoversMap() throws(StoreError) {
        var info = MDB_envinfo(), stat = MDB_stat()
        try check(mdb_env_info(handle, &info), path, "environment info")
        try check(mdb_env_stat(handle, &stat), path, "environment stat")
        let needed = (info.me_last_pgno + 1) * Int(stat.ms_psize)
        let file = path + "/data.mdb"
        let size: Int
        do { size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue ?? 0 } catch {
            throw StoreError.io(path: file, reason: "cannot read its size: \(error.localizedDescription)")
        }
        guard size >= needed else {
            throw StoreError.corrupt(path: path, reason: "data.mdb is \(size) bytes but its pages need \(needed) (truncated copy?); restore it or build the index again")
        }
    }

    deinit { mdb_env_close(handle) }

    /// Drops this process's mapping of the data file's pages (`madvise(MADV_DONTNEED)` over the
    /// memory map); the pages stay in the kernel's page cache and are mapped again when read.
    /// A scan over the whole store (adding every vector to a FAISS index) would otherwise keep
    /// every page it read in the process's resident set: 19 GB for 8.8M passages, which the
    /// kernel could reclaim but `top` and memory limits on RSS count. LMDB's map is shared and
    /// read-only (writes go through `write`), so nothing is lost.
    public func releaseMappedPages() {
        guard let map = try? mapRange() else { return }
        _ = madvise(map.start, map.length, MADV_DONTNEED)
    }

    /// The memory map's address range. LMDB names it only with `MDB_FIXEDMAP`, so it is the
    /// mapping in /proc/self/maps that holds a page LMDB hands out (the first record of its
    /// main database); nil for an empty environment.
    func mapRange() throws -> (start: UnsafeMutableRawPointer, length: Int)? {
        let inside: UInt = try read { txn in
            var cursor: OpaquePointer?
            try check(mdb_cursor_open(txn.handle, 1, &cursor), path, "cursor on the main database")
            defer { mdb_cursor_close(cursor) }
            var key = MDB_val(), value = MDB_val()
            guard mdb_cursor_get(cursor, &key, &value, MDB_FIRST) == 0, let address = key.mv_data else { return 0 }
            return UInt(bitPattern: address)
        }
        guard inside != 0, let handle = FileHandle(forReadingAtPath: "/proc/self/maps") else { return nil }
        defer { try? handle.close() }
        // Read to the end: /proc files report a size of 0.
        let maps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        for line in maps.split(separator: "\n") {
            let bounds = line.prefix { $0 != " " }.split(separator: "-")
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16),
                  start <= inside, inside < end, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { continue }
            return (pointer, Int(end - start))
        }
        return nil
    }

    /// Runs `body` in a read-only transaction.
    public func read<R>(_ body: (LMDBTransaction) throws -> R) throws -> R {
        let txn = try LMDBTransaction(environment: self, readOnly: true)
        defer { txn.abort() }
        return try body(txn)
    }

    /// Runs `body` in a write transaction, committed when `body` returns and aborted when it throws.
    public func write<R>(_ body: (LMDBTransaction) throws -> R) throws -> R {
        let txn = try LMDBTransaction(environment: self, readOnly: false)
        do {
            let result = try body(txn)
            try txn.commit()
            return result
        } catch {
            txn.abort()
            throw error
        }
    }

    /// Opens (creating when writable) the named database.
    /// - Parameter fixedDuplicates: a key holds many values of one size, kept sorted (posting
    ///   lists: LMDB's DUPSORT | DUPFIXED).
    public func database(_ name: String, create: Bool = true, fixedDuplicates: Bool = false) throws -> LMDBDatabase {
        try write { txn in
            var dbi = MDB_dbi()
            let flags = (create ? UInt32(MDB_CREATE) : 0) | (fixedDuplicates ? UInt32(MDB_DUPSORT) | UInt32(MDB_DUPFIXED) : 0)
            try check(mdb_dbi_open(txn.handle, name, flags, &dbi), path, "database \(name)")
            return LMDBDatabase(handle: dbi, name: name)
        }
    }

    /// Opens an existing named database inside a read-only environment.
    public func existingDatabase(_ name: String, fixedDuplicates: Bool = false) throws -> LMDBDatabase {
        // A handle opened in a transaction that is aborted is closed with it, so this read-only
        // transaction is committed (LMDB allows that) to keep the handle for later ones.
        let txn = try LMDBTransaction(environment: self, readOnly: true)
        var dbi = MDB_dbi()
        do {
            try check(mdb_dbi_open(txn.handle, name, fixedDuplicates ? UInt32(MDB_DUPSORT) | UInt32(MDB_DUPFIXED) : 0, &dbi), path, "database \(name)")
        } catch {
            txn.abort()
            throw error
        }
        try txn.commit()
        return LMDBDatabase(handle: dbi, name: name)
    }
}

/// A named database (table) inside an environment.
public struct LMDBDatabase: Sendable {
    let handle: MDB_dbi
    public let name: String
}

/// A transaction; valid only inside the closure it was handed to.
public final class LMDBTransaction {
    let handle: OpaquePointer
    let environment: LMDBEnvironment
    private var finished = false

    init(environment: LMDBEnvironment, readOnly: Bool) throws(StoreError) {
        self.environment = environment
        var txn: OpaquePointer?
        try check(mdb_txn_begin(environment.handle, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn), environment.path, "begin transaction")
        guard let txn else { throw StoreError.lmdb(path: environment.path, code: -1, message: "no transaction") }
        handle = txn
    }

    func commit() throws(StoreError) {
        finished = true
        try check(mdb_txn_commit(handle), environment.path, "commit")
    }

    func abort() {
        guard !finished else { return }
        finished = true
        mdb_txn_abort(handle)
    }

    /// The value stored under `key`, handed to `body` without copying; nil when absent.
    public func withValue<R>(_ key: some ContiguousBytes, in db: LMDBDatabase, _ body: (UnsafeRawBufferPointer?) throws -> R) throws -> R {
        try key.withUnsafeBytes { keyBytes in
            var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            var v = MDB_val()
            let rc = mdb_get(handle, db.handle, &k, &v)
            if rc == MDB_NOTFOUND { return try body(nil) }
            try check(rc, environment.path, "get in \(db.name)")
            return try body(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
        }
    }

    /// The bytes stored under `key`, copied; nil when absent.
    public func get(_ key: some ContiguousBytes, in db: LMDBDatabase) throws -> [UInt8]? {
        try withValue(key, in: db) { $0.map { Array($0) } }
    }

    /// Stores `value` under `key`, replacing any previous value.
    /// - Parameter append: the key sorts after every key in the database (bulk loads of
    ///   increasing big-endian ids); LMDB then fills pages sequentially.
    public func put(_ key: some ContiguousBytes, _ value: some ContiguousBytes, in db: LMDBDatabase, append: Bool = false) throws {
        try key.withUnsafeBytes { keyBytes in
            try value.withUnsafeBytes { valueBytes in
                var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
                var v = MDB_val(mv_size: valueBytes.count, mv_data: UnsafeMutableRawPointer(mutating: valueBytes.baseAddress))
                try check(mdb_put(handle, db.handle, &k, &v, append ? UInt32(MDB_APPEND) : 0), environment.path, "put in \(db.name)")
            }
        }
    }

    /// Calls `body` with each (key, value) in key order, starting at `start` (or the first key),
    /// until it returns false.
    public func scan(_ db: LMDBDatabase, from start: [UInt8]? = nil, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, db.handle, &cursor), environment.path, "cursor on \(db.name)")
        defer { mdb_cursor_close(cursor) }
        var k = MDB_val(), v = MDB_val()
        var startBytes = start ?? []
        var rc: Int32 = startBytes.withUnsafeMutableBytes { bytes in
            if start != nil {
                k = MDB_val(mv_size: bytes.count, mv_data: bytes.baseAddress)
                return mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE)
            }
            return mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
        }
        while rc == MDB_SUCCESS {
            guard try body(UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size), UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)) else { return }
            rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
        }
        if rc != MDB_NOTFOUND { try check(rc, environment.path, "scan \(db.name)") }
    }

    /// Adds `count` values of `size` bytes each, laid end to end in `values`, under `key` of a
    /// DUPFIXED database in one call (LMDB's MDB_MULTIPLE): a term's postings of a whole batch.
    public func putDuplicates(_ key: some ContiguousBytes, _ values: UnsafeRawBufferPointer, size: Int, in db: LMDBDatabase) throws {
        guard size > 0, values.count >= size else { return }
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, db.handle, &cursor), environment.path, "cursor on \(db.name)")
        defer { mdb_cursor_close(cursor) }
        try key.withUnsafeBytes { keyBytes in
            var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            var data = [MDB_val(mv_size: size, mv_data: UnsafeMutableRawPointer(mutating: values.baseAddress)),
                        MDB_val(mv_size: values.count / size, mv_data: nil)]
            try check(mdb_cursor_put(cursor, &k, &data, UInt32(MDB_MULTIPLE)), environment.path, "put postings in \(db.name)")
        }
    }

    /// Removes one value of `key` from a database with duplicates (or the key, when `value` is nil).
    public func delete(_ key: some ContiguousBytes, value: [UInt8]?, in db: LMDBDatabase) throws {
        try key.withUnsafeBytes { keyBytes in
            var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            var rc: Int32
            if var value {
                rc = value.withUnsafeMutableBytes { valueBytes in
                    var v = MDB_val(mv_size: valueBytes.count, mv_data: valueBytes.baseAddress)
                    return mdb_del(handle, db.handle, &k, &v)
                }
            } else {
                rc = mdb_del(handle, db.handle, &k, nil)
            }
            if rc != MDB_NOTFOUND { try check(rc, environment.path, "delete in \(db.name)") }
        }
    }

    /// Hands every value of `key` in a DUPFIXED database to `body`, a page of values at a time
    /// (consecutive fixed-size values, in sorted order), after telling `begin` how many there
    /// are; neither is called when the key is absent.
    public func forEachDuplicatePage(_ key: some ContiguousBytes, in db: LMDBDatabase, begin: (Int) throws -> Void = { _ in },
                                     _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, db.handle, &cursor), environment.path, "cursor on \(db.name)")
        defer { mdb_cursor_close(cursor) }
        try key.withUnsafeBytes { keyBytes in
            var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            var v = MDB_val()
            var rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_KEY)
            if rc == MDB_NOTFOUND { return }
            try check(rc, environment.path, "postings in \(db.name)")
            var count = 0
            try check(mdb_cursor_count(cursor, &count), environment.path, "postings in \(db.name)")
            try begin(count)
            rc = mdb_cursor_get(cursor, &k, &v, MDB_GET_MULTIPLE)
            while rc == MDB_SUCCESS {
                try body(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
                rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT_MULTIPLE)
            }
            if rc != MDB_NOTFOUND { try check(rc, environment.path, "postings in \(db.name)") }
        }
    }

    /// Empties `db` (keeps the database itself).
    public func clear(_ db: LMDBDatabase) throws {
        try check(mdb_drop(handle, db.handle, 0), environment.path, "clear \(db.name)")
    }

    /// Number of entries in `db`.
    public func count(_ db: LMDBDatabase) throws -> Int {
        var stat = MDB_stat()
        try check(mdb_stat(handle, db.handle, &stat), environment.path, "stat \(db.name)")
        return stat.ms_entries
    }
}

/// Turns an LMDB return code into a `StoreError` naming the store folder.
func check(_ rc: Int32, _ path: String, _ what: String = "") throws(StoreError) {
    guard rc != MDB_SUCCESS else { return }
    let message = String(cString: mdb_strerror(rc))
    throw StoreError.lmdb(path: path, code: rc, message: what.isEmpty ? message : "\(what): \(message)")
}
