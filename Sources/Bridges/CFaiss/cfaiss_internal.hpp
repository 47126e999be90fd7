// Shared by the CFaiss translation units; not part of the public C header.
#pragma once

#include "cfaiss.h"

#include <faiss/Index.h>
#include <faiss/impl/FaissException.h>

#include <cstdio>
#include <fcntl.h>
#include <memory>
#include <new>
#include <stdexcept>
#include <unistd.h>

struct cfaiss_index {
    std::unique_ptr<faiss::Index> index;
    // Search and build HNSW with FAISS's own code instead of densekit's (for comparisons).
    bool faiss_hnsw = false;
};

namespace cfaiss {

// Thrown inside the shim for checks FAISS does not make; mapped to status codes by guarded().
struct invalid_argument : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct unsupported : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Formats into the thread-local buffer behind cfaiss_last_error. Never allocates or throws,
// because it runs inside catch handlers, possibly after a bad_alloc.
void set_error(const char *format, ...) noexcept __attribute__((format(printf, 1, 2)));

// Runs body (returning CFAISS_OK) and turns every C++ exception into a status code plus message.
template <class Body>
int guarded(const char *function, Body &&body) noexcept {
    try {
        return body();
    } catch (const invalid_argument &e) {
        set_error("%s: %s", function, e.what());
        return CFAISS_ERR_INVALID_ARGUMENT;
    } catch (const unsupported &e) {
        set_error("%s: %s", function, e.what());
        return CFAISS_ERR_UNSUPPORTED;
    } catch (const faiss::FaissException &e) {
        set_error("%s: %s", function, e.what());
        return CFAISS_ERR_FAISS;
    } catch (const std::bad_alloc &) {
        set_error("%s: out of memory", function);
        return CFAISS_ERR_OUT_OF_MEMORY;
    } catch (const std::exception &e) {
        set_error("%s: %s", function, e.what());
        return CFAISS_ERR_UNKNOWN;
    } catch (...) {
        set_error("%s: unknown C++ exception", function);
        return CFAISS_ERR_UNKNOWN;
    }
}

// FAISS's on-disk inverted lists print to standard output ("resizing FILE to N bytes" as a
// list file grows; the data file's new name when it is looked up beside the index file), where
// densekit writes results. While one of these lives, file descriptor 1 points at /dev/null.
// Process-wide: only for calls that print nothing of densekit's own.
struct quiet_stdout {
    int saved = -1;
    quiet_stdout() {
        fflush(stdout);
        saved = dup(1);
        const int null = open("/dev/null", O_WRONLY);
        if (saved >= 0 && null >= 0) dup2(null, 1);
        if (null >= 0) close(null);
    }
    ~quiet_stdout() {
        fflush(stdout);
        if (saved >= 0) {
            dup2(saved, 1);
            close(saved);
        }
    }
    quiet_stdout(const quiet_stdout &) = delete;
    quiet_stdout &operator=(const quiet_stdout &) = delete;
};

// Whether the index's inverted lists live in a file (FAISS's OnDiskInvertedLists).
bool lists_on_disk(const faiss::Index &index);

inline void require(bool condition, const char *message) {
    if (!condition) throw invalid_argument(message);
}

// The handle check every call makes; returns the FAISS index.
inline faiss::Index &checked(const cfaiss_index_t *handle) {
    require(handle != nullptr && handle->index != nullptr, "index handle is NULL");
    return *handle->index;
}

// FAISS reads n * d floats from x without knowing the buffer; a wrong d reads out of bounds.
void check_vectors(const faiss::Index &index, int64_t n, int64_t dimension, const void *x);

// Puts densekit's SIMD distance storage (the best kernel this processor runs) under an HNSW or
// flat index, if it has flat float storage; other indexes are left as they are.
void attach_best_distances(faiss::Index *index);

// Searches an HNSW index (bare or under an IDMap) whose storage is densekit's, as
// IndexHNSW::search would with efSearch `ef_search` (0: the index's own), and returns true;
// returns false, having done nothing, for any other index. Threads: FAISS's OpenMP thread
// count of the calling thread.
bool hnsw_search(const faiss::Index &index, faiss::Index::idx_t n, const float *x, faiss::Index::idx_t k, float *distances,
                 faiss::Index::idx_t *labels, int ef_search = 0);

// Adds vectors to an IDMap over an HNSW index whose storage is densekit's, as
// IndexIDMap(2)::add_with_ids and IndexHNSW::add would, and returns true; returns false, having
// done nothing, for any other index. Threads: FAISS's OpenMP thread count of the calling thread.
bool hnsw_add_with_ids(faiss::Index &index, faiss::Index::idx_t n, const float *x, const faiss::Index::idx_t *ids);

// Trains the index, its product quantizer's k-means (IVF-PQ, PQ) on densekit's nearest search
// (cfaiss_pq.cpp) unless its distances are FAISS's own.
void train(faiss::Index &index, faiss::Index::idx_t n, const float *x);

// Adds vectors to an IndexIVFPQ whose quantizer is densekit's SimdFlat, computing lists,
// residuals and codes with densekit's nearest search, as IndexIVFPQ::add_with_ids would, and
// returns true; returns false, having done nothing, for any other index.
bool ivfpq_add_with_ids(faiss::Index &index, faiss::Index::idx_t n, const float *x, const faiss::Index::idx_t *ids);

} // namespace cfaiss
