// HNSW search over FAISS's graph and densekit's storage.
//
// The algorithm is FAISS 1.7.3's HNSW::search, step for step (greedy descent through the
// upper levels, then a best-first search of level 0 with a bounded candidate heap and the
// same stopping rule), so the same neighbours come back. What differs is what 1.7.3 lacks and
// the faiss-cpu wheel has: a neighbour list's unvisited vectors are prefetched and their
// distances computed four at a time in one pass over the query (bit for bit the distances of
// one at a time), and the candidate heap's linear scans (pop_min, count_below) run on AVX2.

#include "cfaiss_internal.hpp"
#include "cfaiss_hnsw_common.hpp"
#include "cfaiss_simd_flat.hpp"

#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/utils/Heap.h>

#include <immintrin.h>
#include <omp.h> // compat/omp.h

#include <algorithm>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

namespace {

using idx_t = faiss::Index::idx_t;
using cfaiss::Visited;

// faiss::HNSW::MinimaxHeap: a max-heap of (distance, id) of bounded size whose popped
// entries keep their distance and get id -1; pop_min and count_below scan it linearly.
struct Candidates {
    using HC = faiss::CMax<float, int>;
    int n, k = 0, nvalid = 0;
    std::vector<int> ids;
    std::vector<float> dis;
    bool simd;

    Candidates(int n, bool simd) : n(n), ids(n), dis(n), simd(simd) {}

    void clear() { k = nvalid = 0; }

    void push(int i, float v) {
        if (k == n) {
            if (v >= dis[0]) return;
            faiss::heap_pop<HC>(k--, dis.data(), ids.data());
            --nvalid;
        }
        faiss::heap_push<HC>(++k, dis.data(), ids.data(), v, i);
        ++nvalid;
    }

    // The valid entry of least distance; among equal ones the highest position, as FAISS.
    int pop_min(float *out) {
        int top = k - 1;
        while (top >= 0 && ids[top] == -1) top--;
        if (top < 0) return -1;
        int i = simd ? argmin_valid_avx2(top + 1) : argmin_valid(top + 1);
        *out = dis[i];
        int id = ids[i];
        ids[i] = -1;
        --nvalid;
        return id;
    }

    // Entries (popped ones too) closer than `threshold`.
    int count_below(float threshold) const { return simd ? count_below_avx2(threshold) : count_below_scalar(threshold); }

  private:
    // FAISS's scan: from the top down, a strictly smaller distance takes over.
    int argmin_valid(int end) const {
        int best = end - 1;
        for (int i = end - 2; i >= 0; i--)
            if (ids[i] != -1 && dis[i] < dis[best]) best = i;
        return best;
    }

    // One upward pass, eight lanes: `<=` lets the later (higher) position win a tie in a lane,
    // and across lanes the highest position among the least distances wins, as in FAISS.
    // Popped entries count as +infinity; entry end - 1 is valid, so one finite entry exists.
    __attribute__((target("avx2"))) int argmin_valid_avx2(int end) const {
        const __m256 infinity = _mm256_set1_ps(std::numeric_limits<float>::infinity());
        const __m256i popped = _mm256_set1_epi32(-1), eight = _mm256_set1_epi32(8);
        __m256 best = infinity;
        __m256i bestIndex = popped, index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        int i = 0;
        for (; i + 8 <= end; i += 8) {
            __m256i id = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(ids.data() + i));
            __m256 value = _mm256_blendv_ps(_mm256_loadu_ps(dis.data() + i), infinity,
                                            _mm256_castsi256_ps(_mm256_cmpeq_epi32(id, popped)));
            __m256 take = _mm256_cmp_ps(value, best, _CMP_LE_OQ);
            best = _mm256_blendv_ps(best, value, take);
            bestIndex = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(bestIndex), _mm256_castsi256_ps(index), take));
            index = _mm256_add_epi32(index, eight);
        }
        alignas(32) float lanes[8];
        alignas(32) int positions[8];
        _mm256_store_ps(lanes, best);
        _mm256_store_si256(reinterpret_cast<__m256i *>(positions), bestIndex);
        float vmin = std::numeric_limits<float>::infinity();
        int at = -1;
        for (int lane = 0; lane < 8; lane++) {
            if (positions[lane] < 0) continue;
            if (lanes[lane] < vmin || (lanes[lane] == vmin && positions[lane] > at)) {
                vmin = lanes[lane];
                at = positions[lane];
            }
        }
        for (; i < end; i++) {
            if (ids[i] != -1 && (at < 0 || dis[i] <= vmin)) {
                vmin = dis[i];
                at = i;
            }
        }
        return at;
    }

    int count_below_scalar(float threshold) const {
        int below = 0;
        for (int i = 0; i < k; i++) below += dis[i] < threshold;
        return below;
    }

    __attribute__((target("avx2,popcnt"))) int count_below_avx2(float threshold) const {
        const __m256 t = _mm256_set1_ps(threshold);
        int below = 0, i = 0;
        for (; i + 8 <= k; i += 8) {
            below += __builtin_popcount(unsigned(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(dis.data() + i), t, _CMP_LT_OQ))));
        }
        for (; i < k; i++) below += dis[i] < threshold;
        return below;
    }
};

// One thread's search state over one index.
struct Searcher {
    const faiss::HNSW &hnsw;
    int efSearch; // the stopping rule's (the index's efSearch, or the call's)
    cfaiss::QueryDistances distance;
    bool negate; // inner product: HNSW minimises the negated similarity
    Visited visited;
    Candidates candidates;
    std::vector<int> batch;
    std::vector<float> batchDistances;

    Searcher(const faiss::IndexHNSW &index, const cfaiss::SimdFlat &storage, int ef, int efSearch)
            : hnsw(index.hnsw), efSearch(efSearch), distance(storage), negate(distance.negate), visited(size_t(storage.ntotal)),
              candidates(ef, storage.kernel != CFAISS_DISTANCES_SCALAR), batch(size_t(index.hnsw.nb_neighbors(0))),
              batchDistances(batch.size()) {}

    // HNSW::search with upper_beam 1 and a bounded queue; results into the max-heap (D, I).
    void search(const float *x, int k, float *D, idx_t *I) {
        distance.query = x;
        int nearest = hnsw.entry_point;
        float dNearest = distance(nearest);
        for (int level = hnsw.max_level; level >= 1; level--) cfaiss::greedy_update_nearest(hnsw, distance, level, nearest, dNearest);

        candidates.clear();
        candidates.push(nearest, dNearest);
        int nres = 0;
        auto keep = [&](float dis, int id) {
            if (nres < k) {
                faiss::maxheap_push(++nres, D, I, dis, idx_t(id));
            } else if (dis < D[0]) {
                faiss::maxheap_replace_top(nres, D, I, dis, idx_t(id));
            }
        };
        keep(dNearest, nearest);
        visited.set(nearest);

        const bool checkDistance = hnsw.check_relative_distance;
        int steps = 0;
        while (candidates.nvalid > 0) {
            float d0 = 0;
            int v0 = candidates.pop_min(&d0);
            if (checkDistance && candidates.count_below(d0) >= efSearch) break;
            size_t m = cfaiss::unvisited_neighbors(hnsw, distance, v0, 0, visited, batch.data());
            distance.many(batch.data(), m, batchDistances.data());
            for (size_t t = 0; t < m; t++) {
                keep(batchDistances[t], batch[t]);
                candidates.push(batch[t], batchDistances[t]);
            }
            steps++;
            if (!checkDistance && steps > efSearch) break;
        }
        visited.advance();
    }
};

// The HNSW index under densekit's wrappers, when it is in the shape this search handles.
const faiss::IndexHNSW *searchable(const faiss::Index &index, const std::vector<idx_t> **idMap) {
    const faiss::Index *inner = &index;
    *idMap = nullptr;
    if (auto *map = dynamic_cast<const faiss::IndexIDMap *>(inner)) {
        *idMap = &map->id_map;
        inner = map->index;
    }
    auto *hnsw = dynamic_cast<const faiss::IndexHNSW *>(inner);
    if (!hnsw || !dynamic_cast<const cfaiss::SimdFlat *>(hnsw->storage)) return nullptr;
    bool plain = hnsw->hnsw.upper_beam == 1 && hnsw->hnsw.search_bounded_queue && hnsw->reconstruct_from_neighbors == nullptr &&
                 hnsw->hnsw.entry_point >= 0 &&
                 (hnsw->metric_type == faiss::METRIC_INNER_PRODUCT || hnsw->metric_type == faiss::METRIC_L2);
    return plain ? hnsw : nullptr;
}

} // namespace

bool cfaiss::hnsw_search(const faiss::Index &index, idx_t n, const float *x, idx_t k, float *distances, idx_t *labels, int ef_search) {
    const std::vector<idx_t> *idMap = nullptr;
    const faiss::IndexHNSW *hnsw = searchable(index, &idMap);
    if (!hnsw || k > idx_t(std::numeric_limits<int>::max())) return false;
    const auto &storage = *static_cast<const cfaiss::SimdFlat *>(hnsw->storage);
    const int efSearch = ef_search > 0 ? ef_search : hnsw->hnsw.efSearch;
    const int ef = std::max(efSearch, int(k));
    const size_t d = size_t(hnsw->d);

    // FAISS's OpenMP thread count for this thread; queries in contiguous blocks per thread.
    // Every allocation happens here, so that the threads cannot throw.
    idx_t threads = std::min<idx_t>(n, std::max(1, omp_get_max_threads()));
    std::vector<std::unique_ptr<Searcher>> searchers;
    for (idx_t t = 0; t < std::max<idx_t>(threads, 1); t++) {
        searchers.push_back(std::make_unique<Searcher>(*hnsw, storage, ef, efSearch));
    }
    auto run = [&](Searcher &searcher, idx_t first, idx_t last) noexcept {
        for (idx_t q = first; q < last; q++) {
            float *D = distances + q * k;
            idx_t *I = labels + q * k;
            faiss::maxheap_heapify(size_t(k), D, I);
            searcher.search(x + q * d, int(k), D, I);
            faiss::maxheap_reorder(size_t(k), D, I);
            for (idx_t j = 0; j < k; j++) {
                if (searcher.negate) D[j] = -D[j];
                if (idMap && I[j] >= 0) I[j] = (*idMap)[size_t(I[j])];
            }
        }
    };
    if (threads <= 1) {
        run(*searchers[0], 0, n);
        return true;
    }
    std::vector<std::thread> pool;
    for (idx_t t = 1; t < threads; t++) {
        pool.emplace_back(run, std::ref(*searchers[size_t(t)]), n * t / threads, n * (t + 1) / threads);
    }
    run(*searchers[0], 0, n / threads);
    for (auto &thread : pool) thread.join();
    return true;
}
