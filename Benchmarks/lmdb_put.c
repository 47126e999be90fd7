/* The plain LMDB C baseline for Benchmarks/store.sh: N values of BYTES bytes under 8-byte
 * big-endian keys, BATCH puts per write transaction with MDB_APPEND, as densekit's store
 * writes its vectors. Prints one JSON line.
 *   cc -O2 -o lmdb_put lmdb_put.c -llmdb && ./lmdb_put DIR N BYTES BATCH */
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void check(int rc, const char *what) {
    if (rc) { fprintf(stderr, "%s: %s\n", what, mdb_strerror(rc)); exit(1); }
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: %s DIR N BYTES BATCH\n", argv[0]); return 2; }
    const char *dir = argv[1];
    long n = atol(argv[2]), bytes = atol(argv[3]), batch = atol(argv[4]);
    mkdir(dir, 0755);
    MDB_env *env; MDB_txn *txn; MDB_dbi dbi;
    check(mdb_env_create(&env), "create");
    check(mdb_env_set_mapsize(env, (size_t)1 << 36), "mapsize");
    check(mdb_env_open(env, dir, 0, 0644), "open");
    char *value = malloc(bytes);
    for (long i = 0; i < bytes; i++) value[i] = (char)(i * 31);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long start = 0; start < n; start += batch) {
        check(mdb_txn_begin(env, NULL, 0, &txn), "begin");
        check(mdb_dbi_open(txn, NULL, 0, &dbi), "dbi");
        for (long i = start; i < start + batch && i < n; i++) {
            uint8_t key[8];
            for (int b = 0; b < 8; b++) key[b] = (uint8_t)((uint64_t)i >> (56 - 8 * b));
            MDB_val k = {8, key}, v = {(size_t)bytes, value};
            check(mdb_put(txn, dbi, &k, &v, MDB_APPEND), "put");
        }
        check(mdb_txn_commit(txn), "commit");
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("{\"values\":%ld,\"bytes\":%ld,\"batch\":%ld,\"seconds\":%.4f,\"puts_per_second\":%.0f}\n", n, bytes, batch, seconds, n / seconds);
    mdb_env_close(env);
    return 0;
}
