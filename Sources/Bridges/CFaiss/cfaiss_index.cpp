#include "cfaiss_internal.hpp"

#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexPQ.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/index_factory.h>

#include <climits>
#include <string>

namespace {

// add_with_ids works natively on an IDMap and on IVF (IndexPreTransform forwards it to the
// index underneath). Flat, HNSW, PQ, LSH, ... throw "add_with_ids not implemented".
bool takes_ids(const faiss::Index *index) {
    if (dynamic_cast<const faiss::IndexIDMap *>(index)) return true; // IndexIDMap2 derives from it
    while (auto pre = dynamic_cast<const faiss::IndexPreTransform *>(index)) index = pre->index;
    return dynamic_cast<const faiss::IndexIVF *>(index) != nullptr;
}

// FAISS's factory turns on polysemous training for "PQ<M>" codes (IVF-PQ, PQ, HNSW over PQ)
// unless the string ends in "np": after k-means it reorders each sub-quantizer's centroids by
// simulated annealing so that Hamming distances between codes follow the centroids' distances.
// Only polysemous search (a polysemous_ht threshold) reads that order, and densekit never runs
// it: ADC search ranks the same with the centroids in any order. It is most of PQ training:
// "IVF256,PQ48" on 131,072 vectors of 384 dimensions trained in 221 s with it and 124 s without
// in Debian's baseline build (whose annealing counts bits with libgcc's software popcount), and
// in 109.7 s with it and 12.3 s without in the faiss-cpu 1.15.1 wheel (2-core AMD EPYC,
// 2026-12-02), so it is switched off.
void no_polysemous_training(faiss::Index *index) {
    for (;;) {
        if (auto *map = dynamic_cast<faiss::IndexIDMap *>(index)) index = map->index;
        else if (auto *pre = dynamic_cast<faiss::IndexPreTransform *>(index)) index = pre->index;
        else if (auto *hnsw = dynamic_cast<faiss::IndexHNSW *>(index)) index = hnsw->storage;
        else break;
    }
    if (auto *ivfpq = dynamic_cast<faiss::IndexIVFPQ *>(index)) ivfpq->do_polysemous_training = false;
    if (auto *pq = dynamic_cast<faiss::IndexPQ *>(index)) pq->do_polysemous_training = false;
}

} // namespace

void cfaiss::check_vectors(const faiss::Index &index, int64_t n, int64_t dimension, const void *x) {
    require(n >= 0, "vector count is negative");
    if (dimension != index.d) {
        throw invalid_argument("vector dimension " + std::to_string(dimension) +
                               " does not match the index dimension " + std::to_string(index.d));
    }
    require(n == 0 || x != nullptr, "vector buffer is NULL");
}

extern "C" int cfaiss_index_create(const char *factory, int64_t dimension, int metric,
                                   cfaiss_index_t **out) {
    return cfaiss::guarded(__func__, [&] {
        cfaiss::require(out != nullptr, "out is NULL");
        *out = nullptr;
        cfaiss::require(factory != nullptr, "factory string is NULL");
        cfaiss::require(dimension > 0 && dimension <= INT_MAX, "dimension must be in 1...INT_MAX");
        cfaiss::require(metric == CFAISS_METRIC_INNER_PRODUCT || metric == CFAISS_METRIC_L2,
                        "metric must be CFAISS_METRIC_INNER_PRODUCT or CFAISS_METRIC_L2");

        std::unique_ptr<faiss::Index> index(faiss::index_factory(
            int(dimension), factory, faiss::MetricType(metric)));
        no_polysemous_training(index.get());
        if (!takes_ids(index.get())) {
            auto map = std::make_unique<faiss::IndexIDMap2>(index.get());
            map->own_fields = true;
            index.release(); // now owned by map
            index = std::move(map);
        }
        cfaiss::attach_best_distances(index.get());
        *out = new cfaiss_index{std::move(index)};
        return CFAISS_OK;
    });
}

extern "C" void cfaiss_index_free(cfaiss_index_t *index) {
    delete index; // FAISS destructors do not throw
}

extern "C" int64_t cfaiss_index_dimension(const cfaiss_index_t *index) {
    return index && index->index ? index->index->d : 0;
}

extern "C" int64_t cfaiss_index_ntotal(const cfaiss_index_t *index) {
    return index && index->index ? index->index->ntotal : 0;
}

extern "C" int cfaiss_index_is_trained(const cfaiss_index_t *index) {
    return index && index->index && index->index->is_trained ? 1 : 0;
}

extern "C" int cfaiss_index_metric(const cfaiss_index_t *index) {
    return index && index->index ? int(index->index->metric_type) : -1;
}

extern "C" int cfaiss_index_train(cfaiss_index_t *handle, int64_t n, int64_t dimension,
                                  const float *x) {
    return cfaiss::guarded(__func__, [&] {
        faiss::Index &index = cfaiss::checked(handle);
        cfaiss::check_vectors(index, n, dimension, x);
        cfaiss::train(index, n, x);
        return CFAISS_OK;
    });
}

extern "C" int cfaiss_index_add_with_ids(cfaiss_index_t *handle, int64_t n, int64_t dimension,
                                         const float *x, const int64_t *ids) {
    return cfaiss::guarded(__func__, [&] {
        faiss::Index &index = cfaiss::checked(handle);
        cfaiss::check_vectors(index, n, dimension, x);
        cfaiss::require(n == 0 || ids != nullptr, "ids buffer is NULL");
        if (!handle->faiss_hnsw && cfaiss::hnsw_add_with_ids(index, n, x, ids)) return CFAISS_OK;
        if (cfaiss::lists_on_disk(index)) {
            cfaiss::quiet_stdout quiet; // the list file's growth is announced on stdout
            if (!cfaiss::ivfpq_add_with_ids(index, n, x, ids)) index.add_with_ids(n, x, ids);
            return CFAISS_OK;
        }
        if (!cfaiss::ivfpq_add_with_ids(index, n, x, ids)) index.add_with_ids(n, x, ids);
        return CFAISS_OK;
    });
}

extern "C" int cfaiss_index_search(const cfaiss_index_t *handle, int64_t n, int64_t dimension,
                                   const float *x, int64_t k, float *distances, int64_t *labels) {
    return cfaiss::guarded(__func__, [&] {
        const faiss::Index &index = cfaiss::checked(handle);
        cfaiss::check_vectors(index, n, dimension, x);
        cfaiss::require(k > 0, "k must be positive");
        cfaiss::require(n == 0 || (distances != nullptr && labels != nullptr),
                        "distances or labels buffer is NULL");
        if (!handle->faiss_hnsw && cfaiss::hnsw_search(index, n, x, k, distances, labels)) return CFAISS_OK;
        index.search(n, x, k, distances, labels);
        return CFAISS_OK;
    });
}

extern "C" int cfaiss_index_reset(cfaiss_index_t *handle) {
    return cfaiss::guarded(__func__, [&] {
        cfaiss::checked(handle).reset();
        return CFAISS_OK;
    });
}

extern "C" int cfaiss_index_set_faiss_hnsw(cfaiss_index_t *handle, int faiss_code) {
    return cfaiss::guarded(__func__, [&] {
        cfaiss::checked(handle);
        handle->faiss_hnsw = faiss_code != 0;
        return CFAISS_OK;
    });
}
