import CLMDB
import Foundation
import Testing

/// Runs body with key and value as MDB_vals pointing into the strings' UTF-8 bytes.
private func withValues<R>(
    _ key: String, _ value: String, _ body: (inout MDB_val, inout MDB_val) -> R
) -> R {
    var keyBytes = Array(key.utf8)
    var valueBytes = Array(value.utf8)
    return keyBytes.withUnsafeMutableBytes { k in
        valueBytes.withUnsafeMutableBytes { v in
            var keyVal = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
            var valueVal = MDB_val(mv_size: v.count, mv_data: v.baseAddress)
            return body(&keyVal, &valueVal)
        }
    }
}

/// nil when the key is absent; the data is copied out before the transaction ends.
private func get(_ txn: OpaquePointer?, _ dbi: MDB_dbi, _ key: String) -> (Int32, String?) {
    var keyBytes = Array(key.utf8)
    return keyBytes.withUnsafeMutableBytes { k in
        var keyVal = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
        var data = MDB_val()
        let rc = mdb_get(txn, dbi, &keyVal, &data)
        guard rc == MDB_SUCCESS, let pointer = data.mv_data else { return (rc, nil) }
        let bytes = UnsafeRawBufferPointer(start: pointer, count: data.mv_size)
        return (rc, String(decoding: bytes, as: UTF8.self))
    }
}

private func openEnvironment(at url: URL) -> OpaquePointer? {
    var env: OpaquePointer?
    guard mdb_env_create(&env) == MDB_SUCCESS else { return nil }
    guard mdb_env_open(env, url.path, 0, 0o644) == MDB_SUCCESS else {
        mdb_env_close(env)
        return nil
    }
    return env
}

private let pairs = (0..<5).map { ("key-\($0)", "value \($0) " + String(repeating: "x", count: $0 * 100)) }

/// Every stored pair comes back, and an absent key reports MDB_NOTFOUND.
private func expectAllPairs(in env: OpaquePointer?) {
    var txn: OpaquePointer?
    #expect(mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn) == MDB_SUCCESS)
    defer { mdb_txn_abort(txn) }
    var dbi = MDB_dbi()
    #expect(mdb_dbi_open(txn, nil, 0, &dbi) == MDB_SUCCESS)
    for (key, value) in pairs {
        let (rc, stored) = get(txn, dbi, key)
        #expect(rc == MDB_SUCCESS)
        #expect(stored == value)
    }
    #expect(get(txn, dbi, "no-such-key").0 == MDB_NOTFOUND)
}

@Test func lmdbRoundTripAndReopen() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }

    let env = openEnvironment(at: directory)
    #expect(env != nil)
    var txn: OpaquePointer?
    #expect(mdb_txn_begin(env, nil, 0, &txn) == MDB_SUCCESS)
    var dbi = MDB_dbi()
    #expect(mdb_dbi_open(txn, nil, 0, &dbi) == MDB_SUCCESS)
    for (key, value) in pairs {
        #expect(withValues(key, value) { mdb_put(txn, dbi, &$0, &$1, 0) } == MDB_SUCCESS)
    }
    #expect(mdb_txn_commit(txn) == MDB_SUCCESS)

    expectAllPairs(in: env)
    mdb_env_close(env)

    let reopened = openEnvironment(at: directory)
    #expect(reopened != nil)
    expectAllPairs(in: reopened)
    mdb_env_close(reopened)
}
