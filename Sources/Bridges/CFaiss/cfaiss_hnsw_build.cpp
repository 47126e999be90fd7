// Adding vectors to an HNSW index with densekit's storage.
//
// FAISS 1.7.3's IndexHNSW::add, step for step (hnsw_add_vertices: levels drawn by
// HNSW::prepare_level_tab, vertices added level by level in the same shuffled order with the
// same static split over threads; add_with_locks, search_neighbors_to_add, the neighbour
// heuristic and add_link), with what its single-distance DistanceComputer API cannot offer: a
// neighbour list's unvisited vectors are prefetched and their distances computed four at a
// time. Per-vertex locks are std::mutex, FAISS's `omp critical` a mutex too, and the threads
// std::threads (FAISS's OpenMP thread count): the shim is not compiled with OpenMP.

#include "cfaiss_hnsw_common.hpp"
#include "cfaiss_internal.hpp"

#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/utils/random.h>

#include <omp.h> // compat/omp.h

#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace {

using faiss::HNSW;
using NodeDistCloser = HNSW::NodeDistCloser;
using NodeDistFarther = HNSW::NodeDistFarther;
using cfaiss::QueryDistances;
using cfaiss::Visited;

// The DistanceComputer that HNSW::shrink_neighbor_list (FAISS's own heuristic) asks for
// distances between stored vectors.
struct StoredDistances final : faiss::DistanceComputer {
    const QueryDistances &distance;
    explicit StoredDistances(const QueryDistances &distance) : distance(distance) {}
    void set_query(const float *) override {}
    float operator()(idx_t i) override { return distance(int(i)); }
    float symmetric_dis(idx_t i, idx_t j) override { return distance.between(int(i), int(j)); }
};

struct Builder {
    HNSW &hnsw;
    std::vector<std::mutex> &locks;
    std::mutex &entry;
    QueryDistances distance;
    StoredDistances stored;
    Visited visited;
    std::vector<int> batch;
    std::vector<float> batchDistances;

    Builder(HNSW &hnsw, std::vector<std::mutex> &locks, std::mutex &entry, const cfaiss::SimdFlat &storage, size_t ntotal)
            : hnsw(hnsw), locks(locks), entry(entry), distance(storage), stored(distance), visited(ntotal),
              batch(size_t(std::max(hnsw.nb_neighbors(0), 1))), batchDistances(batch.size()) {}

    // HNSW::add_with_locks.
    void add(int ptLevel, int ptId) {
        int nearest;
        {
            std::lock_guard<std::mutex> guard(entry);
            nearest = hnsw.entry_point;
            if (nearest == -1) {
                hnsw.max_level = ptLevel;
                hnsw.entry_point = ptId;
            }
        }
        if (nearest < 0) return;
        locks[size_t(ptId)].lock();
        int level = hnsw.max_level;
        float dNearest = distance(nearest);
        for (; level > ptLevel; level--) cfaiss::greedy_update_nearest(hnsw, distance, level, nearest, dNearest);
        for (; level >= 0; level--) addLinksStartingFrom(ptId, nearest, dNearest, level);
        locks[size_t(ptId)].unlock();
        if (ptLevel > hnsw.max_level) {
            std::lock_guard<std::mutex> guard(entry);
            if (ptLevel > hnsw.max_level) {
                hnsw.max_level = ptLevel;
                hnsw.entry_point = ptId;
            }
        }
    }

    // HNSW::add_links_starting_from (ptId's own list is locked by the caller).
    void addLinksStartingFrom(int ptId, int nearest, float dNearest, int level) {
        std::priority_queue<NodeDistCloser> targets;
        searchNeighborsToAdd(targets, nearest, dNearest, level);
        shrink(targets, hnsw.nb_neighbors(level));
        std::vector<int> neighbors;
        neighbors.reserve(targets.size());
        while (!targets.empty()) {
            int other = targets.top().id;
            addLink(ptId, other, level);
            neighbors.push_back(other);
            targets.pop();
        }
        locks[size_t(ptId)].unlock();
        for (int other : neighbors) {
            std::lock_guard<std::mutex> guard(locks[size_t(other)]);
            addLink(other, ptId, level);
        }
        locks[size_t(ptId)].lock();
    }

    // search_neighbors_to_add, a neighbour list's distances at once.
    void searchNeighborsToAdd(std::priority_queue<NodeDistCloser> &results, int entryPoint, float dEntry, int level) {
        std::priority_queue<NodeDistFarther> candidates;
        candidates.emplace(dEntry, entryPoint);
        results.emplace(dEntry, entryPoint);
        visited.set(entryPoint);
        const size_t ef = size_t(hnsw.efConstruction);
        while (!candidates.empty()) {
            const NodeDistFarther &current = candidates.top();
            if (current.d > results.top().d) break;
            int node = current.id;
            candidates.pop();
            size_t m = cfaiss::unvisited_neighbors(hnsw, distance, node, level, visited, batch.data());
            distance.many(batch.data(), m, batchDistances.data());
            for (size_t t = 0; t < m; t++) {
                float dis = batchDistances[t];
                if (results.size() < ef || results.top().d > dis) {
                    results.emplace(dis, batch[t]);
                    candidates.emplace(dis, batch[t]);
                    if (results.size() > ef) results.pop();
                }
            }
        }
        visited.advance();
    }

    // The file-local shrink_neighbor_list of HNSW.cpp, around FAISS's public heuristic.
    void shrink(std::priority_queue<NodeDistCloser> &results, int maxSize) {
        if (results.size() < size_t(maxSize)) return;
        std::priority_queue<NodeDistFarther> input;
        std::vector<NodeDistFarther> output;
        while (!results.empty()) {
            input.emplace(results.top().d, results.top().id);
            results.pop();
        }
        HNSW::shrink_neighbor_list(stored, input, output, maxSize);
        for (const NodeDistFarther &kept : output) results.emplace(kept.d, kept.id);
    }

    // add_link: append dest to src's list, or let the heuristic choose when it is full.
    void addLink(int src, int dest, int level) {
        size_t begin, end;
        hnsw.neighbor_range(src, level, &begin, &end);
        if (hnsw.neighbors[end - 1] == -1) {
            size_t i = end;
            while (i > begin && hnsw.neighbors[i - 1] == -1) i--;
            hnsw.neighbors[i] = dest;
            return;
        }
        std::priority_queue<NodeDistCloser> results;
        results.emplace(distance.between(src, dest), dest);
        for (size_t i = begin; i < end; i++) {
            int neighbor = hnsw.neighbors[i];
            results.emplace(distance.between(src, neighbor), neighbor);
        }
        shrink(results, int(end - begin));
        size_t i = begin;
        while (!results.empty()) {
            hnsw.neighbors[i++] = results.top().id;
            results.pop();
        }
        while (i < end) hnsw.neighbors[i++] = -1;
    }
};

// hnsw_add_vertices for vectors n0 ..< n0 + n, whose values are x.
void add_vertices(faiss::IndexHNSW &index, const cfaiss::SimdFlat &storage, size_t n0, size_t n, const float *x, bool presetLevels) {
    HNSW &hnsw = index.hnsw;
    size_t ntotal = n0 + n, d = size_t(index.d);
    if (n == 0) return;
    hnsw.prepare_level_tab(n, presetLevels);
    std::vector<std::mutex> locks(ntotal);
    std::mutex entry;

    // Buckets of vertices of the same level.
    std::vector<int> hist, order(n);
    for (size_t i = 0; i < n; i++) {
        size_t level = size_t(hnsw.levels[n0 + i] - 1);
        if (level >= hist.size()) hist.resize(level + 1, 0);
        hist[level]++;
    }
    std::vector<int> offsets(hist.size() + 1, 0);
    for (size_t i = 0; i + 1 < hist.size(); i++) offsets[i + 1] = offsets[i] + hist[i];
    for (size_t i = 0; i < n; i++) {
        int id = int(n0 + i);
        order[size_t(offsets[size_t(hnsw.levels[size_t(id)] - 1)]++)] = id;
    }

    // Highest level first; each level's vertices shuffled, then split statically over threads.
    faiss::RandomGenerator rng(789);
    int maxThreads = std::max(1, omp_get_max_threads());
    std::vector<std::unique_ptr<Builder>> builders;
    for (int t = 0; t < maxThreads; t++) builders.push_back(std::make_unique<Builder>(hnsw, locks, entry, storage, ntotal));
    int i1 = int(n);
    for (int level = int(hist.size()) - 1; level >= 0; level--) {
        int i0 = i1 - hist[size_t(level)];
        for (int j = i0; j < i1; j++) std::swap(order[size_t(j)], order[size_t(j + rng.rand_int(i1 - j))]);
        int threads = i1 > i0 + 100 ? maxThreads : 1;
        int chunk = (i1 - i0 + threads - 1) / threads;
        auto run = [&, level](Builder &builder, int first, int last) noexcept {
            for (int i = first; i < last; i++) {
                int id = order[size_t(i)];
                builder.distance.query = x + size_t(id - int(n0)) * d;
                builder.add(level, id);
            }
        };
        std::vector<std::thread> pool;
        for (int t = 1; t < threads; t++) {
            int first = std::min(i1, i0 + t * chunk), last = std::min(i1, i0 + (t + 1) * chunk);
            if (first < last) pool.emplace_back(run, std::ref(*builders[size_t(t)]), first, last);
        }
        run(*builders[0], i0, std::min(i1, i0 + chunk));
        for (auto &thread : pool) thread.join();
        i1 = i0;
    }
}

} // namespace

bool cfaiss::hnsw_add_with_ids(faiss::Index &index, faiss::Index::idx_t n, const float *x, const faiss::Index::idx_t *ids) {
    auto *map = dynamic_cast<faiss::IndexIDMap *>(&index);
    auto *hnsw = map ? dynamic_cast<faiss::IndexHNSW *>(map->index) : nullptr;
    auto *storage = hnsw ? dynamic_cast<cfaiss::SimdFlat *>(hnsw->storage) : nullptr;
    if (!storage || !hnsw->is_trained || hnsw->hnsw.upper_beam != 1) return false;
    // IndexHNSW::add: the storage first, then the graph.
    size_t n0 = size_t(hnsw->ntotal);
    storage->add(n, x);
    hnsw->ntotal = storage->ntotal;
    add_vertices(*hnsw, *storage, n0, size_t(n), x, hnsw->hnsw.levels.size() == size_t(hnsw->ntotal));
    // IndexIDMap(2)::add_with_ids: the ids, and IDMap2's reverse map.
    for (faiss::Index::idx_t i = 0; i < n; i++) map->id_map.push_back(ids[i]);
    map->ntotal = hnsw->ntotal;
    if (auto *map2 = dynamic_cast<faiss::IndexIDMap2 *>(map)) {
        for (size_t i = n0; i < size_t(map->ntotal); i++) map2->rev_map[map->id_map[i]] = faiss::Index::idx_t(i);
    }
    return true;
}
