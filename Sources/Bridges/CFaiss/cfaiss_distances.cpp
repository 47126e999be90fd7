// SIMD distances for FAISS's flat float storage.
//
// Debian's libfaiss 1.7.3 is compiled for the x86-64 baseline: fvec_inner_product and
// fvec_L2sqr are scalar SSE loops, and IndexHNSW computes every distance through them (one
// query against one stored vector at a time), so HNSW search and build ran at 0.4x and 0.2x
// the faiss-cpu wheel. FAISS lets the storage supply its own distance computer
// (IndexFlatCodes::get_FlatCodesDistanceComputer, virtual, used by IndexHNSW through
// Index::get_distance_computer), so densekit replaces an HNSW index's IndexFlat storage, and an
// IDMap's plain IndexFlat, with SimdFlat: the same class to write_index (it is an IndexFlat and
// is written as "IxFI"/"IxF2", so the file stays standard), whose distance computer and
// small-batch search use AVX2/FMA or AVX-512 kernels chosen at run time.

#include "cfaiss_internal.hpp"
#include "cfaiss_kernels.hpp"
#include "cfaiss_nearest.hpp"
#include "cfaiss_simd_flat.hpp"

#include <ckernels.h>
#include <faiss/IndexFlat.h>
#include <faiss/utils/Heap.h>
#include <omp.h>

#include <algorithm>
#include <thread>
#include <vector>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/utils/Heap.h>
#include <faiss/utils/distances.h>


#include <typeinfo>

namespace {

using cfaiss::Distance;

// MARK: storage.

// The distance of the current query to stored vectors: the inner product (IndexHNSW negates
// it itself for METRIC_INNER_PRODUCT) or the squared L2 distance.
struct SimdFlatDistanceComputer final : faiss::FlatCodesDistanceComputer {
    const float *base;
    size_t d;
    Distance distance;
    const float *query = nullptr;

    SimdFlatDistanceComputer(const faiss::IndexFlat &storage, Distance distance)
            : faiss::FlatCodesDistanceComputer(storage.codes.data(), storage.code_size),
              base(storage.get_xb()), d(size_t(storage.d)), distance(distance) {}

    void set_query(const float *x) override { query = x; }

    float distance_to_code(const uint8_t *code) override {
        return distance(query, reinterpret_cast<const float *>(code), d);
    }

    float symmetric_dis(idx_t i, idx_t j) override {
        return distance(base + i * d, base + j * d, d);
    }
};

} // namespace

cfaiss::SimdFlat::SimdFlat(faiss::IndexFlat &flat, int kernel)
        : faiss::IndexFlat(flat.d, flat.metric_type), kernel(kernel), kernels(kernels_for(kernel, flat.metric_type)) {
    metric_arg = flat.metric_arg;
    codes.swap(flat.codes);
    ntotal = flat.ntotal;
    is_trained = flat.is_trained;
    verbose = flat.verbose;
    flat.ntotal = 0;
}

faiss::FlatCodesDistanceComputer *cfaiss::SimdFlat::get_FlatCodesDistanceComputer() const {
    return new SimdFlatDistanceComputer(*this, kernels.one);
}

void cfaiss::SimdFlat::search(idx_t n, const float *x, idx_t k, float *distances, idx_t *labels,
                              const faiss::SearchParameters *params) const {
    bool small = n < idx_t(faiss::distance_compute_blas_threshold);
    bool plain = metric_type == faiss::METRIC_INNER_PRODUCT || metric_type == faiss::METRIC_L2;
    if (plain && params == nullptr && k > 0 && metric_type == faiss::METRIC_INNER_PRODUCT && n >= 2 && n <= together_max &&
        kernel != CFAISS_DISTANCES_SCALAR) {
        scan_together(n, x, k, distances, labels);
        return;
    }
    if (!small && plain && params == nullptr && k == 1 && ntotal > 0) {
        // Many queries, one neighbour each: k-means assignment and IVF list choice.
        cfaiss::nearest(metric_type, kernel != CFAISS_DISTANCES_SCALAR, std::max(1, omp_get_max_threads()), size_t(d),
                        size_t(ntotal), get_xb(), size_t(n), x, distances, labels);
        return;
    }
    if (!small || !plain || params != nullptr || k <= 0) {
        faiss::IndexFlat::search(n, x, k, distances, labels, params);
        return;
    }
    for (idx_t q = 0; q < n; q++) {
        if (metric_type == faiss::METRIC_INNER_PRODUCT) {
            scan<faiss::CMin<float, idx_t>>(x + q * d, k, distances + q * k, labels + q * k);
        } else {
            scan<faiss::CMax<float, idx_t>>(x + q * d, k, distances + q * k, labels + q * k);
        }
    }
}

template <class C>
void cfaiss::SimdFlat::scan(const float *query, idx_t k, float *dis, idx_t *ids) const {
    const float *xb = get_xb();
    size_t dim = size_t(d);
    faiss::heap_heapify<C>(size_t(k), dis, ids);
    for (idx_t j = 0; j < ntotal; j++) {
        float v = kernels.one(query, xb + j * dim, dim);
        if (C::cmp(dis[0], v)) faiss::heap_replace_top<C>(size_t(k), dis, ids, v, j);
    }
    faiss::heap_reorder<C>(size_t(k), dis, ids);
}

// A few inner-product queries against every stored vector in one pass: the stored vectors
// are cut into blocks, each block's scores for all the queries come from one call of
// ckernels_gemm_nt_rows (it loads each stored vector once and uses it for every query, where
// OpenBLAS would first copy all of them into its packed layout: for a handful of queries that
// copy cost more than the products, and was most of `densekit serve`'s time under load), and
// each query keeps its k best in a heap. Blocks are shared among FAISS's thread count of
// std::threads (the shim is not compiled with OpenMP), each with its own heaps, merged at the end.
void cfaiss::SimdFlat::scan_together(idx_t n, const float *x, idx_t k, float *dis, idx_t *ids) const {
    using C = faiss::CMin<float, idx_t>;
    const idx_t block = 1024;
    const float *xb = get_xb();
    size_t dim = size_t(d);
    idx_t blocks = (ntotal + block - 1) / block;
    idx_t threads = std::max<idx_t>(1, std::min<idx_t>(blocks, std::max(1, omp_get_max_threads())));
    std::vector<float> heapDis(size_t(threads * n * k));
    std::vector<idx_t> heapIds(size_t(threads * n * k));
    auto work = [&](idx_t t) {
        float *tdis = heapDis.data() + t * n * k;
        idx_t *tids = heapIds.data() + t * n * k;
        for (idx_t q = 0; q < n; q++) faiss::heap_heapify<C>(size_t(k), tdis + q * k, tids + q * k);
        std::vector<float> scores(size_t(n * block));
        for (idx_t b = t; b < blocks; b += threads) {
            idx_t start = b * block, count = std::min(block, ntotal - start);
            ckernels_gemm_nt_rows(CKERNELS_BEST, size_t(n), 0, size_t(count), dim, 1.0f, x, dim, xb + size_t(start) * dim, dim, 0.0f,
                                  scores.data(), size_t(block));
            for (idx_t q = 0; q < n; q++) {
                float *qdis = tdis + q * k;
                idx_t *qids = tids + q * k;
                const float *row = scores.data() + q * block;
                for (idx_t j = 0; j < count; j++) {
                    if (C::cmp(qdis[0], row[j])) faiss::heap_replace_top<C>(size_t(k), qdis, qids, row[j], start + j);
                }
            }
        }
    };
    if (threads == 1) {
        work(0);
    } else {
        std::vector<std::thread> pool;
        for (idx_t t = 0; t < threads; t++) pool.emplace_back(work, t);
        for (auto &thread : pool) thread.join();
    }
    // Merge: thread 0's heaps, then every other thread's entries; ties go to the lower id, so
    // that the result does not depend on which thread saw which block.
    for (idx_t q = 0; q < n; q++) {
        float *qdis = dis + q * k;
        idx_t *qids = ids + q * k;
        faiss::heap_heapify<C>(size_t(k), qdis, qids);
        for (idx_t t = 0; t < threads; t++) {
            const float *tdis = heapDis.data() + (t * n + q) * k;
            const idx_t *tids = heapIds.data() + (t * n + q) * k;
            for (idx_t e = 0; e < k; e++) {
                if (tids[e] < 0) continue;
                if (C::cmp(qdis[0], tdis[e]) || (qdis[0] == tdis[e] && qids[0] > tids[e])) {
                    faiss::heap_replace_top<C>(size_t(k), qdis, qids, tdis[e], tids[e]);
                }
            }
        }
        faiss::heap_reorder<C>(size_t(k), qdis, qids);
    }
}

namespace {

using cfaiss::SimdFlat;

// A plain IndexFlat (or its IP/L2 subclasses), which SimdFlat can stand in for.
bool is_plain_flat(const faiss::Index *index) {
    if (!index) return false;
    const std::type_info &t = typeid(*index);
    return t == typeid(faiss::IndexFlat) || t == typeid(faiss::IndexFlatIP) || t == typeid(faiss::IndexFlatL2) ||
           t == typeid(SimdFlat);
}

// Puts the storage for `kernel` in *slot (a SimdFlat, or a plain IndexFlat for
// CFAISS_DISTANCES_FAISS), taking over the vectors of the index there. Returns whether the
// slot held flat float storage.
bool replace_storage(faiss::Index *&slot, bool &owned, int kernel) {
    if (!is_plain_flat(slot)) return false;
    auto *flat = static_cast<faiss::IndexFlat *>(slot);
    if (auto *simd = dynamic_cast<SimdFlat *>(flat); simd && simd->kernel == kernel) return true;
    faiss::IndexFlat *replacement;
    if (kernel == CFAISS_DISTANCES_FAISS) {
        auto *plain = new faiss::IndexFlat(flat->d, flat->metric_type);
        plain->metric_arg = flat->metric_arg;
        plain->codes.swap(flat->codes);
        plain->ntotal = flat->ntotal;
        flat->ntotal = 0;
        replacement = plain;
    } else {
        replacement = new SimdFlat(*flat, kernel);
    }
    if (owned) delete flat;
    slot = replacement;
    owned = true;
    return true;
}

// Finds the flat storage under the wrappers densekit builds (IDMap, PreTransform) and HNSW.
bool attach(faiss::Index *index, int kernel) {
    if (auto *map = dynamic_cast<faiss::IndexIDMap *>(index)) {
        if (replace_storage(map->index, map->own_fields, kernel)) return true;
        return attach(map->index, kernel);
    }
    if (auto *pre = dynamic_cast<faiss::IndexPreTransform *>(index)) {
        if (replace_storage(pre->index, pre->own_fields, kernel)) return true;
        return attach(pre->index, kernel);
    }
    if (auto *hnsw = dynamic_cast<faiss::IndexHNSW *>(index)) {
        return replace_storage(hnsw->storage, hnsw->own_fields, kernel);
    }
    if (auto *ivf = dynamic_cast<faiss::IndexIVF *>(index)) {
        // The coarse quantizer: its centroids are searched for every vector added and every
        // k-means iteration of training (IVF with an HNSW quantizer keeps FAISS's).
        return replace_storage(ivf->quantizer, ivf->own_fields, kernel);
    }
    return false;
}

int best_kernel() {
    if (cfaiss::kernel_supported(CFAISS_DISTANCES_AVX512)) return CFAISS_DISTANCES_AVX512;
    if (cfaiss::kernel_supported(CFAISS_DISTANCES_AVX2)) return CFAISS_DISTANCES_AVX2;
    return CFAISS_DISTANCES_FAISS;
}

} // namespace

void cfaiss::attach_best_distances(faiss::Index *index) { attach(index, best_kernel()); }

extern "C" int cfaiss_distances_best(void) { return best_kernel(); }

extern "C" int cfaiss_distances_supported(int kernel) { return cfaiss::kernel_supported(kernel) ? 1 : 0; }

extern "C" int cfaiss_index_set_distances(cfaiss_index_t *handle, int kernel) {
    return cfaiss::guarded(__func__, [&] {
        faiss::Index &index = cfaiss::checked(handle);
        cfaiss::require(kernel >= CFAISS_DISTANCES_FAISS && kernel <= CFAISS_DISTANCES_AVX512, "unknown distance kernel");
        if (!cfaiss::kernel_supported(kernel)) throw cfaiss::unsupported("this processor cannot run that distance kernel");
        if (!attach(&index, kernel)) throw cfaiss::unsupported("the index has no flat float storage to compute distances on");
        return CFAISS_OK;
    });
}

extern "C" int cfaiss_index_distances(const cfaiss_index_t *handle) {
    if (!handle || !handle->index) return -1;
    const faiss::Index *index = handle->index.get();
    for (;;) {
        if (auto *map = dynamic_cast<const faiss::IndexIDMap *>(index)) index = map->index;
        else if (auto *pre = dynamic_cast<const faiss::IndexPreTransform *>(index)) index = pre->index;
        else if (auto *hnsw = dynamic_cast<const faiss::IndexHNSW *>(index)) index = hnsw->storage;
        else if (auto *ivf = dynamic_cast<const faiss::IndexIVF *>(index)) index = ivf->quantizer;
        else break;
    }
    if (auto *simd = dynamic_cast<const SimdFlat *>(index)) return simd->kernel;
    return is_plain_flat(index) ? CFAISS_DISTANCES_FAISS : -1;
}
