#ifndef DENSEKIT_CFAISS_H
#define DENSEKIT_CFAISS_H

// A plain C face for the FAISS C++ API (libfaiss-dev 1.7.3 ships only the C++ library; the
// archive holds none of FAISS's own C API symbols).
//
// Error model: every function that can fail returns an int status, CFAISS_OK (0) on success.
// No C++ exception ever crosses this boundary (one reaching Swift would abort the process);
// on failure the message is kept per thread and read with cfaiss_last_error().
//
// Vectors are row-major float32, n rows of `dimension` floats. Functions that take vectors also
// take the dimension the caller believes the buffer has; it must equal the index's dimension.
// FAISS itself cannot check this and would read past the buffer.
//
// Threading: concurrent cfaiss_index_search calls on one handle are safe (FAISS search is const).
// Anything that changes the index (train, add, reset, set_*) needs exclusive access to it.

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Status codes. Macros (not an enum) so Swift sees them as Int32 like the return values.
#define CFAISS_OK 0
#define CFAISS_ERR_INVALID_ARGUMENT 1 // NULL pointer, negative count, dimension mismatch, ...
#define CFAISS_ERR_FAISS 2            // FAISS rejected the call (bad factory string, I/O, ...)
#define CFAISS_ERR_UNSUPPORTED 3      // the index has no such parameter or operation
#define CFAISS_ERR_OUT_OF_MEMORY 4
#define CFAISS_ERR_UNKNOWN 5          // any other C++ exception

// Same values as faiss::MetricType, so they pass through unchanged.
#define CFAISS_METRIC_INNER_PRODUCT 0 // cosine when the vectors are L2-normalised
#define CFAISS_METRIC_L2 1            // distances are squared L2

typedef struct cfaiss_index cfaiss_index_t;

// The message of the last failed call on this thread; "" if none failed yet. Never NULL.
// Valid until the next failing call on the same thread, so copy it at once (in Swift: no
// `await` between the failing call and this one, or the task may have moved threads).
const char *cfaiss_last_error(void);

// --- Lifetime -------------------------------------------------------------------------------

// Builds an index with faiss::index_factory (e.g. "Flat", "HNSW32", "IVF16,Flat", "PQ16np").
// Ids rule: unless the factory result is an IVF index (possibly under IndexPreTransform layers,
// such as "PCA64,IVF16,Flat") or already an IDMap ("IDMap,Flat"), it is wrapped in an owning
// IndexIDMap2, so cfaiss_index_add_with_ids works for every index this returns.
// On success *out owns the index; release it with cfaiss_index_free.
int cfaiss_index_create(const char *factory, int64_t dimension, int metric, cfaiss_index_t **out);

// Frees the index and everything it owns. NULL is ignored.
void cfaiss_index_free(cfaiss_index_t *index);

// --- Properties (a NULL handle reads as 0, or -1 for metric) ----------------------------------

int64_t cfaiss_index_dimension(const cfaiss_index_t *index);
// Number of vectors stored.
int64_t cfaiss_index_ntotal(const cfaiss_index_t *index);
// 1 when the index can take vectors: always for Flat and HNSW, after train() for IVF and PQ.
int cfaiss_index_is_trained(const cfaiss_index_t *index);
// One of CFAISS_METRIC_*, or another faiss::MetricType value for a read-in index.
int cfaiss_index_metric(const cfaiss_index_t *index);

// --- Data -----------------------------------------------------------------------------------

// Trains on n vectors. A no-op for indexes that need no training.
int cfaiss_index_train(cfaiss_index_t *index, int64_t n, int64_t dimension, const float *x);

// Adds n vectors with caller-chosen 64-bit ids (n ids; duplicates are not checked). Fails with
// CFAISS_ERR_FAISS when the index is not trained yet, or when a read-in index cannot take ids
// (see cfaiss_index_read).
int cfaiss_index_add_with_ids(cfaiss_index_t *index, int64_t n, int64_t dimension, const float *x,
                              const int64_t *ids);

// k nearest neighbours of each of n queries. distances and labels each hold n * k entries,
// row i for query i, best first: highest score for inner product, smallest for L2. When fewer
// than k vectors are found the missing labels are -1 (their distances are then meaningless).
int cfaiss_index_search(const cfaiss_index_t *index, int64_t n, int64_t dimension, const float *x,
                        int64_t k, float *distances, int64_t *labels);

// cfaiss_index_search with this call's own nprobe (IVF) and ef_search (HNSW, also an IVF's HNSW
// quantizer), 0 for the index's own setting; the index itself is not changed, so concurrent
// calls with different settings are safe. CFAISS_ERR_UNSUPPORTED for a setting the index has
// no part for.
int cfaiss_index_search_with(const cfaiss_index_t *index, int64_t n, int64_t dimension, const float *x, int64_t k,
                             int64_t nprobe, int64_t ef_search, float *distances, int64_t *labels);

// Removes all vectors; keeps the training (IVF centroids, PQ codebooks).
int cfaiss_index_reset(cfaiss_index_t *index);

// --- Search parameters (reach through IDMap and pre-transform wrappers) ----------------------

// IVF: number of inverted lists visited per query (FAISS's default is 1). Higher = better recall,
// slower. CFAISS_ERR_UNSUPPORTED for non-IVF indexes.
int cfaiss_index_set_nprobe(cfaiss_index_t *index, int64_t nprobe);

// HNSW: candidate-list size at search time (FAISS's default is 16). FAISS 1.7.3 does not raise
// it to k: with ef_search < k some of the k labels come back -1, so keep it >= k.
// Also accepted by an IVF index whose coarse quantizer is HNSW. CFAISS_ERR_UNSUPPORTED otherwise.
int cfaiss_index_set_ef_search(cfaiss_index_t *index, int64_t ef_search);

// --- Files ----------------------------------------------------------------------------------

// Writes the whole index (wrapper and ids included) with faiss::write_index.
int cfaiss_index_write(const cfaiss_index_t *index, const char *path);

// Reads an index written by cfaiss_index_write (or by FAISS itself). A missing, truncated or
// corrupt file gives an error, never a crash. The index is used as stored: a bare Flat/HNSW
// written by other tools is not wrapped (FAISS refuses to wrap a non-empty index), so
// add_with_ids on it fails; search and everything else work.
int cfaiss_index_read(const char *path, cfaiss_index_t **out);

// Reads an index for search with its IVF inverted lists memory-mapped read-only from the file
// (FAISS's IO_FLAG_MMAP): the lists are paged in as searches touch them instead of being read
// into memory. Index types without inverted lists are read into memory as by cfaiss_index_read.
// Adding to a mapped index is refused (check cfaiss_index_is_mapped first: FAISS would throw
// inside an OpenMP region for some IVF types, which terminates the process).
int cfaiss_index_read_mapped(const char *path, cfaiss_index_t **out);

// 1 when the index's inverted lists are memory-mapped read-only (cfaiss_index_read_mapped on an IVF index).
int cfaiss_index_is_mapped(const cfaiss_index_t *index);

// The number of inverted lists (nlist) of an IVF index, also inside IDMap or pre-transform
// wrappers; 0 for other index types.
int64_t cfaiss_index_list_count(const cfaiss_index_t *index);

// 1 when the index's inverted lists live in a file (FAISS's OnDiskInvertedLists: built on disk, or mapped).
int cfaiss_index_lists_on_disk(const cfaiss_index_t *index);

// Moves an empty, trained IVF index's inverted lists into a new file at path (FAISS's
// OnDiskInvertedLists), so that added vectors live in that file's memory map. CFAISS_ERR_UNSUPPORTED
// for other index types.
int cfaiss_index_lists_to_disk(cfaiss_index_t *index, const char *path);

// Writes an index whose lists are on disk (after cfaiss_index_lists_to_disk and adds): the lists
// compacted into data_path, then the index file at index_path (which names data_path; read it
// back with cfaiss_index_read_mapped, which looks for the data file beside the index file).
// Both files are synced; the growing lists' file is deleted. The index must not be empty.
int cfaiss_index_write_on_disk(cfaiss_index_t *index, const char *index_path, const char *data_path);

// --- Distance kernels -----------------------------------------------------------------------

// How an HNSW or flat index, or an IVF index's flat coarse quantizer, computes distances on its
// float vectors. Debian's FAISS is built for the x86-64 baseline (scalar loops); densekit's
// storage computes them with SIMD instead. Created and read indexes get the best kernel the
// processor runs; files stay standard FAISS. With a densekit kernel, k-means (IVF and PQ
// training) and IVF-PQ adds also assign vectors with densekit's nearest search; with
// CFAISS_DISTANCES_FAISS they run FAISS's own code throughout.
#define CFAISS_DISTANCES_FAISS 0  // FAISS's own IndexFlat storage and fvec_* functions
#define CFAISS_DISTANCES_SCALAR 1 // densekit's storage, plain C++ loops (for tests)
#define CFAISS_DISTANCES_AVX2 2   // densekit's storage, AVX2 + FMA
#define CFAISS_DISTANCES_AVX512 3 // densekit's storage, AVX-512F

// The kernel created and read indexes get on this processor.
int cfaiss_distances_best(void);

// 1 when this processor runs `kernel`, else 0.
int cfaiss_distances_supported(int kernel);

// Switches an index's storage to `kernel`. CFAISS_ERR_UNSUPPORTED when the processor cannot
// run it or the index has no flat float storage (PQ, IVF over an HNSW quantizer, ...).
int cfaiss_index_set_distances(cfaiss_index_t *index, int kernel);

// The index's current kernel, or -1 when it has no flat float storage.
int cfaiss_index_distances(const cfaiss_index_t *index);

// HNSW indexes with densekit's storage are searched and built by densekit's implementation of
// FAISS 1.7.3's algorithms (the same steps; distances prefetched and computed four at a time).
// A nonzero `faiss_code` makes this index use FAISS's own IndexHNSW::search and ::add instead.
int cfaiss_index_set_faiss_hnsw(cfaiss_index_t *index, int faiss_code);

// --- OpenMP ---------------------------------------------------------------------------------

// omp_set_num_threads: in GNU OpenMP this sets the thread count for parallel regions started
// by the *calling* thread only, so call it on the thread that then calls FAISS. Values < 1 are
// rejected. For the whole process, set OMP_NUM_THREADS before it starts instead.
int cfaiss_set_omp_threads(int threads);

// FAISS's flat search computes distances with one BLAS GEMM when at least this many queries
// come at once (FAISS's default is 20), else query by query; process-wide.
void cfaiss_set_blas_threshold(int queries);

// omp_get_max_threads for the calling thread.
int cfaiss_omp_max_threads(void);

#ifdef __cplusplus
}
#endif

#endif
