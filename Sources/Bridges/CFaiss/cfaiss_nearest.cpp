// The 1-nearest search of k-means and IVF list assignment (see cfaiss_nearest.hpp).
//
// Small dimension (PQ sub-vectors): the stored vectors are transposed into blocks of 8, block b
// holding t[b][j][l] = xb[8b + l][j]; a query then scores 8 stored vectors per step,
//   L2: s_l = sum_j (x_j - t[b][j][l])^2,   IP: s_l = sum_j x_j t[b][j][l],
// and each of the 8 lanes keeps its best score and that vector's index. The lanes are reduced
// at the end, ties to the lower index; the stored vectors past the last full block are scored
// one by one.
//
// Large dimension (IVF centroids): for blocks of queries and stored vectors, OpenBLAS computes
// ip = x xb^T; then one pass per row picks
//   L2: argmin_j (|xb_j|^2 - 2 ip_j), distance |x|^2 + that (at least 0),   IP: argmax_j ip_j,
// carrying each row's best across the blocks of stored vectors.

#include "cfaiss_nearest.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

extern "C" int sgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k, const float *alpha,
                      const float *a, const int *lda, const float *b, const int *ldb, const float *beta, float *c,
                      const int *ldc);

namespace {

constexpr float inf = std::numeric_limits<float>::infinity();

// Whether `value` beats `best` (strictly: an equal score later in the scan does not).
template <bool IP>
inline bool better(float value, float best) { return IP ? value > best : value < best; }

// The best of 8 lanes (score, index), ties to the lower index.
template <bool IP>
inline void reduce_lanes(const float *score, const int32_t *index, float &best, int64_t &label) {
    for (int l = 0; l < 8; l++) {
        if (better<IP>(score[l], best) || (score[l] == best && index[l] < label)) {
            best = score[l];
            label = index[l];
        }
    }
}

// MARK: small dimension

// Stored vectors transposed into blocks of 8 (see the file comment); the full blocks only.
std::vector<float> transpose_blocks(size_t d, size_t nb, const float *xb) {
    size_t blocks = nb / 8;
    std::vector<float> t(blocks * d * 8);
    for (size_t b = 0; b < blocks; b++)
        for (size_t j = 0; j < d; j++)
            for (size_t l = 0; l < 8; l++) t[(b * d + j) * 8 + l] = xb[(b * 8 + l) * d + j];
    return t;
}

template <bool IP>
inline float score_one(const float *x, const float *y, size_t d) {
    float s = 0;
    for (size_t j = 0; j < d; j++) {
        float t = IP ? y[j] : x[j] - y[j];
        s = std::fma(IP ? x[j] : t, t, s);
    }
    return s;
}

// The stored vectors past the full blocks, one by one.
template <bool IP>
inline void scan_tail(const float *x, size_t d, size_t nb, const float *xb, float &best, int64_t &label) {
    for (size_t i = nb / 8 * 8; i < nb; i++) {
        float s = score_one<IP>(x, xb + i * d, d);
        if (better<IP>(s, best)) {
            best = s;
            label = int64_t(i);
        }
    }
}

template <bool IP>
void small_plain(size_t d, size_t nb, const float *t, const float *xb, size_t q0, size_t q1, const float *x, float *dis,
                 int64_t *labels) {
    size_t blocks = nb / 8;
    for (size_t q = q0; q < q1; q++) {
        const float *xq = x + q * d;
        float lane[8];
        int32_t index[8];
        std::fill(lane, lane + 8, IP ? -inf : inf);
        std::fill(index, index + 8, 0);
        for (size_t b = 0; b < blocks; b++) {
            float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            for (size_t j = 0; j < d; j++) {
                const float *c = t + (b * d + j) * 8;
                for (int l = 0; l < 8; l++) {
                    float u = IP ? c[l] : xq[j] - c[l];
                    s[l] = std::fma(IP ? xq[j] : u, u, s[l]);
                }
            }
            for (int l = 0; l < 8; l++) {
                if (better<IP>(s[l], lane[l])) {
                    lane[l] = s[l];
                    index[l] = int32_t(b * 8 + l);
                }
            }
        }
        float best = IP ? -inf : inf;
        int64_t label = -1;
        reduce_lanes<IP>(lane, index, best, label);
        scan_tail<IP>(xq, d, nb, xb, best, label);
        dis[q] = best;
        labels[q] = label;
    }
}

#define AVX2 __attribute__((target("avx2,fma")))

// acc += the term of dimension j for the 8 stored vectors at c: x_j c or (x_j - c)^2.
template <bool IP>
AVX2 inline __m256 small_step(__m256 xj, const float *c, __m256 acc) {
    __m256 cj = _mm256_loadu_ps(c);
    if (IP) return _mm256_fmadd_ps(xj, cj, acc);
    __m256 u = _mm256_sub_ps(xj, cj);
    return _mm256_fmadd_ps(u, u, acc);
}

// Keeps, per lane, the better of (lane, index) and (s, current); current moves to the next block.
template <bool IP>
AVX2 inline void keep_lanes(__m256 s, __m256 &lane, __m256i &index, __m256i &current) {
    __m256 wins = _mm256_cmp_ps(s, lane, IP ? _CMP_GT_OQ : _CMP_LT_OQ);
    lane = _mm256_blendv_ps(lane, s, wins);
    index = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(index), _mm256_castsi256_ps(current), wins));
    current = _mm256_add_epi32(current, _mm256_set1_epi32(8));
}

// The best of the 8 lanes, ties to the lower index, into best/label if it beats them.
template <bool IP>
AVX2 inline void reduce_avx2(__m256 lane, __m256i index, float &best, int64_t &label) {
    alignas(32) float lanes[8];
    alignas(32) int32_t indexes[8];
    _mm256_store_ps(lanes, lane);
    _mm256_store_si256(reinterpret_cast<__m256i *>(indexes), index);
    reduce_lanes<IP>(lanes, indexes, best, label);
}

// D: the dimension when known at compile time (the common PQ sub-vector sizes), 0 for `d`.
// Four blocks of 8 stored vectors are scored together: four independent sums, so the FMAs
// overlap instead of each waiting for the last (one sum per block was latency-bound). The
// query's coordinates are broadcast once per query.
template <bool IP, size_t D>
AVX2 void small_avx2(size_t d, size_t nb, const float *t, const float *xb, size_t q0, size_t q1, const float *x, float *dis,
                     int64_t *labels) {
    const size_t dim = D ? D : d;
    const size_t blocks = nb / 8, stride = dim * 8;
    __m256 xs[cfaiss::small_dimension_max];
    for (size_t q = q0; q < q1; q++) {
        const float *xq = x + q * dim;
        for (size_t j = 0; j < dim; j++) xs[j] = _mm256_set1_ps(xq[j]);
        __m256 lane = _mm256_set1_ps(IP ? -inf : inf);
        __m256i index = _mm256_setzero_si256();
        __m256i current = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        size_t b = 0;
        for (; b + 4 <= blocks; b += 4) {
            const float *c = t + b * stride;
            __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
            for (size_t j = 0; j < dim; j++) {
                s0 = small_step<IP>(xs[j], c + j * 8, s0);
                s1 = small_step<IP>(xs[j], c + stride + j * 8, s1);
                s2 = small_step<IP>(xs[j], c + 2 * stride + j * 8, s2);
                s3 = small_step<IP>(xs[j], c + 3 * stride + j * 8, s3);
            }
            keep_lanes<IP>(s0, lane, index, current);
            keep_lanes<IP>(s1, lane, index, current);
            keep_lanes<IP>(s2, lane, index, current);
            keep_lanes<IP>(s3, lane, index, current);
        }
        for (; b < blocks; b++) {
            const float *c = t + b * stride;
            __m256 s0 = _mm256_setzero_ps();
            for (size_t j = 0; j < dim; j++) s0 = small_step<IP>(xs[j], c + j * 8, s0);
            keep_lanes<IP>(s0, lane, index, current);
        }
        float best = IP ? -inf : inf;
        int64_t label = -1;
        if (blocks > 0) reduce_avx2<IP>(lane, index, best, label);
        scan_tail<IP>(xq, dim, nb, xb, best, label);
        dis[q] = best;
        labels[q] = label;
    }
}

template <bool IP>
void small_avx2_any(size_t d, size_t nb, const float *t, const float *xb, size_t q0, size_t q1, const float *x, float *dis,
                    int64_t *labels) {
    switch (d) {
    case 4: small_avx2<IP, 4>(d, nb, t, xb, q0, q1, x, dis, labels); break;
    case 8: small_avx2<IP, 8>(d, nb, t, xb, q0, q1, x, dis, labels); break;
    case 16: small_avx2<IP, 16>(d, nb, t, xb, q0, q1, x, dis, labels); break;
    default: small_avx2<IP, 0>(d, nb, t, xb, q0, q1, x, dis, labels); break;
    }
}

// MARK: large dimension

// Over one block of stored vectors [c0, c0 + cn): row r of ip holds the query's inner products
// with them; best/label carry the row's best so far (for L2 the score |xb_j|^2 - 2 ip_j).
template <bool IP>
void pick_plain(size_t rows, size_t cn, size_t c0, const float *ip, const float *norms, float *best, int64_t *label) {
    for (size_t r = 0; r < rows; r++) {
        const float *row = ip + r * cn;
        for (size_t j = 0; j < cn; j++) {
            float s = IP ? row[j] : norms[c0 + j] - 2 * row[j];
            if (better<IP>(s, best[r])) {
                best[r] = s;
                label[r] = int64_t(c0 + j);
            }
        }
    }
}

template <bool IP>
AVX2 void pick_avx2(size_t rows, size_t cn, size_t c0, const float *ip, const float *norms, float *best, int64_t *label) {
    const __m256 two = _mm256_set1_ps(2);
    size_t full = cn / 8 * 8;
    for (size_t r = 0; r < rows; r++) {
        const float *row = ip + r * cn;
        __m256 lane = _mm256_set1_ps(IP ? -inf : inf);
        __m256i index = _mm256_setzero_si256();
        __m256i current = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        for (size_t j = 0; j < full; j += 8) {
            __m256 s = _mm256_loadu_ps(row + j);
            if (!IP) s = _mm256_fnmadd_ps(two, s, _mm256_loadu_ps(norms + c0 + j));
            keep_lanes<IP>(s, lane, index, current);
        }
        // This block's best (ties to its lower index), then the block's tail, then against the
        // earlier blocks' best, which wins ties (lower index).
        float block_best = IP ? -inf : inf;
        int64_t block_label = -1;
        if (full > 0) reduce_avx2<IP>(lane, index, block_best, block_label);
        for (size_t j = full; j < cn; j++) {
            float s = IP ? row[j] : norms[c0 + j] - 2 * row[j];
            if (better<IP>(s, block_best)) {
                block_best = s;
                block_label = int64_t(j);
            }
        }
        if (block_label >= 0 && better<IP>(block_best, best[r])) {
            best[r] = block_best;
            label[r] = int64_t(c0) + block_label;
        }
    }
}

template <bool IP>
void large(bool simd, size_t d, size_t nb, const float *xb, size_t n, const float *x, float *dis, int64_t *labels) {
    const size_t query_block = 4096, stored_block = 1024;
    std::vector<float> norms;
    if (!IP) {
        norms.resize(nb);
        for (size_t i = 0; i < nb; i++) norms[i] = score_one<true>(xb + i * d, xb + i * d, d);
    }
    std::vector<float> ip(query_block * stored_block);
    for (size_t q0 = 0; q0 < n; q0 += query_block) {
        size_t rows = std::min(query_block, n - q0);
        float *best = dis + q0;
        int64_t *label = labels + q0;
        std::fill(best, best + rows, IP ? -inf : inf);
        std::fill(label, label + rows, int64_t(-1));
        for (size_t c0 = 0; c0 < nb; c0 += stored_block) {
            size_t cn = std::min(stored_block, nb - c0);
            // Column-major BLAS: ip^T (cn x rows) = xb_block (cn x d) x^T (d x rows).
            int m = int(cn), k = int(d), nn = int(rows), lda = int(d), ldb = int(d), ldc = int(cn);
            float one = 1, zero = 0;
            sgemm_("T", "N", &m, &nn, &k, &one, xb + c0 * d, &lda, x + q0 * d, &ldb, &zero, ip.data(), &ldc);
            if (simd) {
                pick_avx2<IP>(rows, cn, c0, ip.data(), norms.data(), best, label);
            } else {
                pick_plain<IP>(rows, cn, c0, ip.data(), norms.data(), best, label);
            }
        }
        if (!IP) {
            for (size_t r = 0; r < rows; r++) {
                const float *xr = x + (q0 + r) * d;
                best[r] = std::max(0.0f, score_one<true>(xr, xr, d) + best[r]);
            }
        }
    }
}

template <bool IP>
void small(bool simd, int threads, size_t d, size_t nb, const float *xb, size_t n, const float *x, float *dis,
           int64_t *labels) {
    std::vector<float> t = transpose_blocks(d, nb, xb);
    auto run = [&](size_t q0, size_t q1) {
        if (simd) {
            small_avx2_any<IP>(d, nb, t.data(), xb, q0, q1, x, dis, labels);
        } else {
            small_plain<IP>(d, nb, t.data(), xb, q0, q1, x, dis, labels);
        }
    };
    // A thread is worth starting for about a million multiply-adds.
    size_t work = n * nb * d;
    size_t count = std::max<size_t>(1, std::min<size_t>(size_t(std::max(1, threads)), work / (1 << 20)));
    if (count == 1) {
        run(0, n);
        return;
    }
    std::vector<std::thread> pool;
    size_t per = (n + count - 1) / count;
    for (size_t i = 0; i < count; i++) {
        size_t q0 = std::min(n, i * per), q1 = std::min(n, q0 + per);
        if (q0 < q1) pool.emplace_back(run, q0, q1);
    }
    for (auto &thread : pool) thread.join();
}

} // namespace

void cfaiss::nearest(faiss::MetricType metric, bool simd, int threads, size_t d, size_t nb, const float *xb, size_t n,
                     const float *x, float *distances, int64_t *labels) {
    bool ip = metric == faiss::METRIC_INNER_PRODUCT;
    if (d <= small_dimension_max) {
        if (ip) small<true>(simd, threads, d, nb, xb, n, x, distances, labels);
        else small<false>(simd, threads, d, nb, xb, n, x, distances, labels);
    } else {
        if (ip) large<true>(simd, d, nb, xb, n, x, distances, labels);
        else large<false>(simd, d, nb, xb, n, x, distances, labels);
    }
}
