// Distance kernels. Each vector's sum is accumulated in the same order by the one-vector and
// the four-vector form of a kernel, so both give the same float, bit for bit: HNSW search then
// finds the same neighbours whichever form computed a distance.
//
// AVX2: two 8-wide accumulators over blocks of 16, one more block of 8, a scalar tail.
// AVX-512: four 16-wide accumulators over blocks of 64, blocks of 16, a masked tail.
// Scalar: one running sum (what FAISS's generic build computes, up to its own order).

#include "cfaiss_kernels.hpp"
#include "cfaiss.h"

#include <immintrin.h>

namespace {

// One coordinate's term: x y for the inner product, (x - y)^2 for squared L2. Inlined into
// every level (a function without target attributes may be); the add stays a separate step.
template <bool IP>
inline __attribute__((always_inline)) float term(float x, float y) {
    if (IP) return x * y;
    float t = x - y;
    return t * t;
}

// MARK: scalar

template <bool IP>
inline float scalar_one(const float *x, const float *y, size_t d) {
    float sum = 0;
    for (size_t i = 0; i < d; i++) sum += term<IP>(x[i], y[i]);
    return sum;
}

template <bool IP>
float scalar(const float *x, const float *y, size_t d) { return scalar_one<IP>(x, y, d); }

template <bool IP>
void scalar4(const float *x, const float *y0, const float *y1, const float *y2, const float *y3, size_t d, float *out) {
    out[0] = scalar_one<IP>(x, y0, d);
    out[1] = scalar_one<IP>(x, y1, d);
    out[2] = scalar_one<IP>(x, y2, d);
    out[3] = scalar_one<IP>(x, y3, d);
}

// MARK: AVX2 + FMA

#define AVX2 __attribute__((target("avx2,fma")))

AVX2 inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// acc += term(x, y), term = x * y or (x - y)^2.
template <bool IP>
AVX2 inline __m256 step256(__m256 x, const float *y, __m256 acc) {
    __m256 v = _mm256_loadu_ps(y);
    if (IP) return _mm256_fmadd_ps(x, v, acc);
    __m256 t = _mm256_sub_ps(x, v);
    return _mm256_fmadd_ps(t, t, acc);
}

template <bool IP>
AVX2 inline float tail(const float *x, const float *y, size_t i, size_t d, float sum) {
    for (; i < d; i++) sum += term<IP>(x[i], y[i]);
    return sum;
}

template <bool IP>
AVX2 float avx2(const float *x, const float *y, size_t d) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0;
    size_t i = 0;
    for (; i + 16 <= d; i += 16) {
        a0 = step256<IP>(_mm256_loadu_ps(x + i), y + i, a0);
        a1 = step256<IP>(_mm256_loadu_ps(x + i + 8), y + i + 8, a1);
    }
    if (i + 8 <= d) {
        a0 = step256<IP>(_mm256_loadu_ps(x + i), y + i, a0);
        i += 8;
    }
    return tail<IP>(x, y, i, d, hsum256(_mm256_add_ps(a0, a1)));
}

template <bool IP>
AVX2 void avx2_4(const float *x, const float *y0, const float *y1, const float *y2, const float *y3, size_t d, float *out) {
    __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
    size_t i = 0;
    for (; i + 16 <= d; i += 16) {
        __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + 8);
        a00 = step256<IP>(x0, y0 + i, a00);
        a01 = step256<IP>(x1, y0 + i + 8, a01);
        a10 = step256<IP>(x0, y1 + i, a10);
        a11 = step256<IP>(x1, y1 + i + 8, a11);
        a20 = step256<IP>(x0, y2 + i, a20);
        a21 = step256<IP>(x1, y2 + i + 8, a21);
        a30 = step256<IP>(x0, y3 + i, a30);
        a31 = step256<IP>(x1, y3 + i + 8, a31);
    }
    size_t i0 = i;
    if (i + 8 <= d) {
        __m256 x0 = _mm256_loadu_ps(x + i);
        a00 = step256<IP>(x0, y0 + i, a00);
        a10 = step256<IP>(x0, y1 + i, a10);
        a20 = step256<IP>(x0, y2 + i, a20);
        a30 = step256<IP>(x0, y3 + i, a30);
        i0 += 8;
    }
    out[0] = tail<IP>(x, y0, i0, d, hsum256(_mm256_add_ps(a00, a01)));
    out[1] = tail<IP>(x, y1, i0, d, hsum256(_mm256_add_ps(a10, a11)));
    out[2] = tail<IP>(x, y2, i0, d, hsum256(_mm256_add_ps(a20, a21)));
    out[3] = tail<IP>(x, y3, i0, d, hsum256(_mm256_add_ps(a30, a31)));
}

#undef AVX2

// MARK: AVX-512

#define AVX512 __attribute__((target("avx512f")))

template <bool IP>
AVX512 inline __m512 step512(__m512 x, __m512 y, __m512 acc) {
    if (IP) return _mm512_fmadd_ps(x, y, acc);
    __m512 t = _mm512_sub_ps(x, y);
    return _mm512_fmadd_ps(t, t, acc);
}

template <bool IP>
AVX512 float avx512(const float *x, const float *y, size_t d) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 64 <= d; i += 64) {
        a0 = step512<IP>(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), a0);
        a1 = step512<IP>(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16), a1);
        a2 = step512<IP>(_mm512_loadu_ps(x + i + 32), _mm512_loadu_ps(y + i + 32), a2);
        a3 = step512<IP>(_mm512_loadu_ps(x + i + 48), _mm512_loadu_ps(y + i + 48), a3);
    }
    for (; i + 16 <= d; i += 16) a0 = step512<IP>(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), a0);
    if (i < d) {
        __mmask16 m = __mmask16((1u << (d - i)) - 1);
        a1 = step512<IP>(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i), a1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

template <bool IP>
AVX512 void avx512_4(const float *x, const float *y0, const float *y1, const float *y2, const float *y3, size_t d, float *out) {
    const float *y[4] = {y0, y1, y2, y3};
    __m512 a[4][4];
    for (int j = 0; j < 4; j++)
        for (int r = 0; r < 4; r++) a[j][r] = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= d; i += 64) {
        __m512 x0 = _mm512_loadu_ps(x + i), x1 = _mm512_loadu_ps(x + i + 16);
        __m512 x2 = _mm512_loadu_ps(x + i + 32), x3 = _mm512_loadu_ps(x + i + 48);
        for (int j = 0; j < 4; j++) {
            a[j][0] = step512<IP>(x0, _mm512_loadu_ps(y[j] + i), a[j][0]);
            a[j][1] = step512<IP>(x1, _mm512_loadu_ps(y[j] + i + 16), a[j][1]);
            a[j][2] = step512<IP>(x2, _mm512_loadu_ps(y[j] + i + 32), a[j][2]);
            a[j][3] = step512<IP>(x3, _mm512_loadu_ps(y[j] + i + 48), a[j][3]);
        }
    }
    for (; i + 16 <= d; i += 16) {
        __m512 x0 = _mm512_loadu_ps(x + i);
        for (int j = 0; j < 4; j++) a[j][0] = step512<IP>(x0, _mm512_loadu_ps(y[j] + i), a[j][0]);
    }
    if (i < d) {
        __mmask16 m = __mmask16((1u << (d - i)) - 1);
        __m512 x0 = _mm512_maskz_loadu_ps(m, x + i);
        for (int j = 0; j < 4; j++) a[j][1] = step512<IP>(x0, _mm512_maskz_loadu_ps(m, y[j] + i), a[j][1]);
    }
    for (int j = 0; j < 4; j++) {
        out[j] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a[j][0], a[j][1]), _mm512_add_ps(a[j][2], a[j][3])));
    }
}

#undef AVX512

} // namespace

bool cfaiss::kernel_supported(int kernel) {
    switch (kernel) {
    case CFAISS_DISTANCES_FAISS:
    case CFAISS_DISTANCES_SCALAR: return true;
    case CFAISS_DISTANCES_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case CFAISS_DISTANCES_AVX512: return __builtin_cpu_supports("avx512f");
    default: return false;
    }
}

cfaiss::Kernels cfaiss::kernels_for(int kernel, faiss::MetricType metric) {
    bool ip = metric == faiss::METRIC_INNER_PRODUCT;
    switch (kernel) {
    case CFAISS_DISTANCES_AVX512: return ip ? Kernels{avx512<true>, avx512_4<true>} : Kernels{avx512<false>, avx512_4<false>};
    case CFAISS_DISTANCES_AVX2: return ip ? Kernels{avx2<true>, avx2_4<true>} : Kernels{avx2<false>, avx2_4<false>};
    default: return ip ? Kernels{scalar<true>, scalar4<true>} : Kernels{scalar<false>, scalar4<false>};
    }
}
