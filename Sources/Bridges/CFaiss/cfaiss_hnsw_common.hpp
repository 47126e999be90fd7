// What densekit's HNSW search and build share: FAISS's visited table and batched distances
// from one query to stored vectors.
#pragma once

#include "cfaiss_simd_flat.hpp"

#include <faiss/IndexHNSW.h>

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace cfaiss {

// faiss::VisitedTable: one byte per vector, cleared lazily by advancing a generation number.
struct Visited {
    std::vector<uint8_t> marks;
    uint8_t generation = 1;

    explicit Visited(size_t n) : marks(n, 0) {}
    bool get(int i) const { return marks[size_t(i)] == generation; }
    void set(int i) { marks[size_t(i)] = generation; }
    void advance() {
        if (generation < 250) {
            generation++;
        } else {
            std::fill(marks.begin(), marks.end(), uint8_t(0));
            generation = 1;
        }
    }
};

// Distances from one query to stored vectors, negated for the inner product (HNSW minimises).
struct QueryDistances {
    const float *base;
    size_t d;
    Kernels kernels;
    bool negate;
    const float *query = nullptr;

    explicit QueryDistances(const SimdFlat &storage)
            : base(storage.get_xb()), d(size_t(storage.d)), kernels(storage.kernels),
              negate(storage.metric_type == faiss::METRIC_INNER_PRODUCT) {}

    const float *vector(int i) const { return base + size_t(i) * d; }

    float operator()(int i) const {
        float v = kernels.one(query, vector(i), d);
        return negate ? -v : v;
    }

    // Between two stored vectors.
    float between(int i, int j) const {
        float v = kernels.one(vector(i), vector(j), d);
        return negate ? -v : v;
    }

    void prefetch(int i) const {
        const char *p = reinterpret_cast<const char *>(vector(i));
        size_t bytes = std::min<size_t>(d * sizeof(float), 256);
        for (size_t offset = 0; offset < bytes; offset += 64) _mm_prefetch(p + offset, _MM_HINT_T0);
    }

    // out[t] = distance to ids[t] for t < m, four at a time (bit for bit what operator() gives).
    void many(const int *ids, size_t m, float *out) const {
        size_t j = 0;
        for (; j + 4 <= m; j += 4) kernels.four(query, vector(ids[j]), vector(ids[j + 1]), vector(ids[j + 2]), vector(ids[j + 3]), d, out + j);
        for (; j < m; j++) out[j] = kernels.one(query, vector(ids[j]), d);
        if (negate)
            for (size_t t = 0; t < m; t++) out[t] = -out[t];
    }
};

// Marks node's unvisited neighbours at `level` visited, prefetches their vectors and writes
// them to out (in list order, as FAISS visits them); returns how many.
inline size_t unvisited_neighbors(const faiss::HNSW &hnsw, const QueryDistances &distance, int node, int level, Visited &visited,
                                  int *out) {
    size_t begin, end, m = 0;
    hnsw.neighbor_range(node, level, &begin, &end);
    for (size_t j = begin; j < end; j++) {
        int v = hnsw.neighbors[j];
        if (v < 0) break;
        if (visited.get(v)) continue;
        visited.set(v);
        distance.prefetch(v);
        out[m++] = v;
    }
    return m;
}

// FAISS's greedy_update_nearest: move to any closer neighbour at `level` until none is closer.
// A neighbour list's distances are computed together, then scanned in FAISS's order.
inline void greedy_update_nearest(const faiss::HNSW &hnsw, const QueryDistances &distance, int level, int &nearest, float &dNearest) {
    constexpr size_t capacity = 512; // M up to 512 at the upper levels, which hold M links
    int ids[capacity];
    float dis[capacity];
    for (;;) {
        int previous = nearest;
        size_t begin, end, m = 0;
        hnsw.neighbor_range(nearest, level, &begin, &end);
        if (end - begin > capacity) { // a graph this wide: one at a time, as FAISS does
            for (size_t i = begin; i < end && hnsw.neighbors[i] >= 0; i++) {
                float d = distance(hnsw.neighbors[i]);
                if (d < dNearest) {
                    nearest = hnsw.neighbors[i];
                    dNearest = d;
                }
            }
            if (nearest == previous) return;
            continue;
        }
        for (size_t i = begin; i < end; i++) {
            int v = hnsw.neighbors[i];
            if (v < 0) break;
            distance.prefetch(v);
            ids[m++] = v;
        }
        distance.many(ids, m, dis);
        for (size_t t = 0; t < m; t++) {
            if (dis[t] < dNearest) {
                nearest = ids[t];
                dNearest = dis[t];
            }
        }
        if (nearest == previous) return;
    }
}

} // namespace cfaiss
