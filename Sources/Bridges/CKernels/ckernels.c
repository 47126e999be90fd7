#include "ckernels.h"

#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

// MARK: the math, as in VectorMath.swift (always inlined into each instruction level).

#define INLINE static inline __attribute__((always_inline))

INLINE float bits_to_float(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

INLINE uint32_t float_to_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

// e^x, Cephes-style: x = n ln2 + r, polynomial in r, scaled by 2^n (n read from the bits of
// x/ln2 + 1.5 * 2^23, no float-to-int conversion).
INLINE float fast_exp(float input) {
    float x = input < -87.3f ? -87.3f : (input > 88.7f ? 88.7f : input);
    const float shifter = 12582912.0f;
    float shifted = x * 1.4426950408889634f + shifter;
    float n = shifted - shifter;
    float r = x - n * 0.693359375f;
    r = r + n * 2.1219444005469058e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    uint32_t exponent = (float_to_bits(shifted) - float_to_bits(shifter) + 127u) << 23;
    return p * bits_to_float(exponent);
}

// erf(x), rational minimax form (Eigen's fast erf), max error ~1e-7.
INLINE float fast_erf(float input) {
    float x = input < -4.0f ? -4.0f : (input > 4.0f ? 4.0f : input);
    float x2 = x * x;
    float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
    p = p * x2 + -2.10102402082508e-06f;
    p = p * x2 + -5.69250639462346e-05f;
    p = p * x2 + -7.34990630326855e-04f;
    p = p * x2 + -2.95459980854025e-03f;
    p = p * x2 + -1.60960333262415e-02f;
    p = p * x;
    float q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
    q = q * x2 + -1.68282697438203e-03f;
    q = q * x2 + -7.37332916720468e-03f;
    q = q * x2 + -1.42647390514189e-02f;
    return p / q;
}

INLINE float gelu(float x) { return 0.5f * x * (1.0f + fast_erf(x * 0.7071067811865475f)); }

INLINE float gelu_derivative(float x) {
    float cdf = 0.5f * (1.0f + fast_erf(x * 0.7071067811865475f));
    float pdf = 0.3989422804014327f * fast_exp(-0.5f * x * x);
    return cdf + x * pdf;
}

// MARK: loops, one body per level.
//
// Every pointer is `restrict`, and in-place calls (out == in, dx == dy) get loops of their own:
// with possibly overlapping pointers LLVM guards the vector loop with an overlap check, which
// an in-place call fails, and the whole call then runs the scalar remainder loop.

#define GELU_BODY                                                                                   \
    for (size_t r = 0; r < rows; r++) {                                                             \
        const float *restrict row = in + r * width;                                                 \
        float *restrict o = out + r * width;                                                        \
        if (bias) {                                                                                 \
            for (size_t j = 0; j < width; j++) o[j] = gelu(row[j] + bias[j]);                       \
        } else {                                                                                    \
            for (size_t j = 0; j < width; j++) o[j] = gelu(row[j]);                                 \
        }                                                                                           \
    }

#define GELU_INPLACE_BODY                                                                           \
    for (size_t r = 0; r < rows; r++) {                                                             \
        float *restrict o = x + r * width;                                                          \
        if (bias) {                                                                                 \
            for (size_t j = 0; j < width; j++) o[j] = gelu(o[j] + bias[j]);                         \
        } else {                                                                                    \
            for (size_t j = 0; j < width; j++) o[j] = gelu(o[j]);                                   \
        }                                                                                           \
    }

#define GELU_BACKWARD_BODY for (size_t i = 0; i < count; i++) dx[i] = dy[i] * gelu_derivative(x[i]);
#define GELU_BACKWARD_INPLACE_BODY for (size_t i = 0; i < count; i++) g[i] *= gelu_derivative(x[i]);

#define LEVELS(name, params, body)                                                                  \
    static void name##_baseline params { body }                                                     \
    __attribute__((target("avx2,fma"))) static void name##_avx2 params { body }                     \
    __attribute__((target("avx512f"))) static void name##_avx512 params { body }

LEVELS(gelu, (const float *restrict in, const float *restrict bias, float *restrict out, size_t rows, size_t width), GELU_BODY)
LEVELS(gelu_inplace, (float *restrict x, const float *restrict bias, size_t rows, size_t width), GELU_INPLACE_BODY)
LEVELS(gelu_backward, (const float *restrict dy, const float *restrict x, float *restrict dx, size_t count), GELU_BACKWARD_BODY)
LEVELS(gelu_backward_inplace, (float *restrict g, const float *restrict x, size_t count), GELU_BACKWARD_INPLACE_BODY)

static void softmax_baseline(float *restrict x, size_t rows, size_t width, size_t stride) {
    for (size_t r = 0; r < rows; r++) {
        float *restrict row = x + r * stride;
        float maximum = -INFINITY;
        for (size_t j = 0; j < width; j++) maximum = row[j] > maximum ? row[j] : maximum;
        float sum = 0;
        for (size_t j = 0; j < width; j++) {
            row[j] = fast_exp(row[j] - maximum);
            sum += row[j];
        }
        float inverse = 1.0f / sum;
        for (size_t j = 0; j < width; j++) row[j] *= inverse;
    }
}

// MARK: x W^T for few rows.

// C = alpha * sum + beta * C, where beta 0 ignores C's old contents (NaN included), as BLAS does.
#define STORE(at, value) (*(at) = beta == 0.0f ? alpha * (value) : alpha * (value) + beta * *(at))

static void gemm_nt_baseline(size_t m, size_t j0, size_t j1, size_t k, float alpha, const float *restrict a, size_t lda,
                             const float *restrict b, size_t ldb, float beta, float *restrict c, size_t ldc) {
    for (size_t j = j0; j < j1; j++) {
        const float *restrict w = b + j * ldb;
        for (size_t i = 0; i < m; i++) {
            const float *restrict x = a + i * lda;
            float sum = 0;
            for (size_t p = 0; p < k; p++) sum += x[p] * w[p];
            STORE(&c[i * ldc + j], sum);
        }
    }
}

#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// One row of A against two rows of W (w0, w1), k in blocks of 8 then a scalar tail.
AVX2 static inline void dot1x2(const float *x, const float *w0, const float *w1, size_t k, float alpha, float beta, float *out0, float *out1) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    size_t p = 0;
    for (; p + 8 <= k; p += 8) {
        __m256 xv = _mm256_loadu_ps(x + p);
        s0 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w0 + p), s0);
        s1 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w1 + p), s1);
    }
    float r0 = hsum8(s0), r1 = hsum8(s1);
    for (; p < k; p++) {
        r0 += x[p] * w0[p];
        r1 += x[p] * w1[p];
    }
    STORE(out0, r0);
    STORE(out1, r1);
}

// Four rows of A against two rows of W: eight accumulators, each W load used four times.
AVX2 static void gemm_nt_avx2(size_t m, size_t j0, size_t j1, size_t k, float alpha, const float *restrict a, size_t lda,
                              const float *restrict b, size_t ldb, float beta, float *restrict c, size_t ldc) {
    size_t j = j0;
    for (; j + 2 <= j1; j += 2) {
        const float *w0 = b + j * ldb, *w1 = w0 + ldb;
        size_t i = 0;
        for (; i + 4 <= m; i += 4) {
            const float *x0 = a + i * lda, *x1 = x0 + lda, *x2 = x1 + lda, *x3 = x2 + lda;
            __m256 s00 = _mm256_setzero_ps(), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
            size_t p = 0;
            for (; p + 8 <= k; p += 8) {
                __m256 b0 = _mm256_loadu_ps(w0 + p), b1 = _mm256_loadu_ps(w1 + p);
                __m256 v = _mm256_loadu_ps(x0 + p);
                s00 = _mm256_fmadd_ps(v, b0, s00);
                s01 = _mm256_fmadd_ps(v, b1, s01);
                v = _mm256_loadu_ps(x1 + p);
                s10 = _mm256_fmadd_ps(v, b0, s10);
                s11 = _mm256_fmadd_ps(v, b1, s11);
                v = _mm256_loadu_ps(x2 + p);
                s20 = _mm256_fmadd_ps(v, b0, s20);
                s21 = _mm256_fmadd_ps(v, b1, s21);
                v = _mm256_loadu_ps(x3 + p);
                s30 = _mm256_fmadd_ps(v, b0, s30);
                s31 = _mm256_fmadd_ps(v, b1, s31);
            }
            float r[8] = {hsum8(s00), hsum8(s01), hsum8(s10), hsum8(s11), hsum8(s20), hsum8(s21), hsum8(s30), hsum8(s31)};
            for (; p < k; p++) {
                r[0] += x0[p] * w0[p]; r[1] += x0[p] * w1[p];
                r[2] += x1[p] * w0[p]; r[3] += x1[p] * w1[p];
                r[4] += x2[p] * w0[p]; r[5] += x2[p] * w1[p];
                r[6] += x3[p] * w0[p]; r[7] += x3[p] * w1[p];
            }
            for (size_t q = 0; q < 4; q++) {
                STORE(&c[(i + q) * ldc + j], r[2 * q]);
                STORE(&c[(i + q) * ldc + j + 1], r[2 * q + 1]);
            }
        }
        for (; i < m; i++) dot1x2(a + i * lda, w0, w1, k, alpha, beta, &c[i * ldc + j], &c[i * ldc + j + 1]);
    }
    if (j < j1) {
        const float *w = b + j * ldb;
        for (size_t i = 0; i < m; i++) {
            float unused = 0;
            dot1x2(a + i * lda, w, w, k, alpha, beta, &c[i * ldc + j], &unused);
        }
    }
}

#define AVX512 __attribute__((target("avx512f")))

// R rows of A (R <= 12) against two rows of W in one pass over k: each element has one 16-wide
// accumulator (a masked last step for k % 16), reduced at the end. 24 accumulators fit AVX-512's
// 32 registers, so W is loaded once per block; `next` (or NULL) is the start of the next two rows
// of W, prefetched meanwhile: a single query's product waits on streaming W from memory.
AVX512 static inline __attribute__((always_inline)) void block_avx512(const int R, size_t k, float alpha, float beta,
                                                                       const float *a, size_t lda, const float *w0, const float *w1,
                                                                       size_t ldb, float *c, size_t ldc, const float *next) {
    __m512 s0[12], s1[12];
    for (int r = 0; r < R; r++) s0[r] = s1[r] = _mm512_setzero_ps();
    size_t p = 0;
    for (; p + 16 <= k; p += 16) {
        if (next) {
            _mm_prefetch((const char *)(next + p), _MM_HINT_T0);
            _mm_prefetch((const char *)(next + ldb + p), _MM_HINT_T0);
        }
        __m512 b0 = _mm512_loadu_ps(w0 + p), b1 = _mm512_loadu_ps(w1 + p);
        for (int r = 0; r < R; r++) {
            __m512 v = _mm512_loadu_ps(a + r * lda + p);
            s0[r] = _mm512_fmadd_ps(v, b0, s0[r]);
            s1[r] = _mm512_fmadd_ps(v, b1, s1[r]);
        }
    }
    if (p < k) {
        __mmask16 mask = (__mmask16)((1u << (k - p)) - 1);
        __m512 b0 = _mm512_maskz_loadu_ps(mask, w0 + p), b1 = _mm512_maskz_loadu_ps(mask, w1 + p);
        for (int r = 0; r < R; r++) {
            __m512 v = _mm512_maskz_loadu_ps(mask, a + r * lda + p);
            s0[r] = _mm512_fmadd_ps(v, b0, s0[r]);
            s1[r] = _mm512_fmadd_ps(v, b1, s1[r]);
        }
    }
    for (int r = 0; r < R; r++) {
        STORE(&c[r * ldc], _mm512_reduce_add_ps(s0[r]));
        STORE(&c[r * ldc + 1], _mm512_reduce_add_ps(s1[r]));
    }
}

#define BLOCK_AVX512(R)                                                                             \
    case R: block_avx512(R, k, al, be, a + i * lda, lda, w0, w1, ldb, out, ldo, i == 0 ? next : NULL); break;

// Columns in pairs, rows in blocks of 12. A last, odd column runs the same block on its one row
// of W twice into a scratch pair (alpha 1, beta 0), then takes alpha and beta as every other
// column does: each element is computed the same way wherever the column range starts.
AVX512 static void gemm_nt_avx512(size_t m, size_t j0, size_t j1, size_t k, float alpha, const float *restrict a, size_t lda,
                                  const float *restrict b, size_t ldb, float beta, float *restrict c, size_t ldc) {
    float scratch[12 * 2];
    for (size_t j = j0; j < j1; j += 2) {
        const int pair = j + 1 < j1;
        const float *w0 = b + j * ldb, *w1 = pair ? w0 + ldb : w0;
        const float *next = j + 3 < j1 ? b + (j + 2) * ldb : NULL;
        const float al = pair ? alpha : 1, be = pair ? beta : 0;
        for (size_t i = 0; i < m; i += 12) {
            float *out = pair ? c + i * ldc + j : scratch;
            const size_t ldo = pair ? ldc : 2;
            switch (m - i < 12 ? (int)(m - i) : 12) {
                BLOCK_AVX512(1) BLOCK_AVX512(2) BLOCK_AVX512(3) BLOCK_AVX512(4) BLOCK_AVX512(5) BLOCK_AVX512(6)
                BLOCK_AVX512(7) BLOCK_AVX512(8) BLOCK_AVX512(9) BLOCK_AVX512(10) BLOCK_AVX512(11) BLOCK_AVX512(12)
            }
            if (!pair) {
                for (size_t r = 0; r < 12 && i + r < m; r++) STORE(&c[(i + r) * ldc + j], scratch[r * 2]);
            }
        }
    }
}

#undef BLOCK_AVX512
#undef AVX512

// Attention's softmax, one row at a time: max, exp (vectorised by the compiler), sum, scale.
AVX2 static void softmax_avx2(float *restrict x, size_t rows, size_t width, size_t stride) {
    for (size_t r = 0; r < rows; r++) {
        float *restrict row = x + r * stride;
        __m256 mv = _mm256_set1_ps(-INFINITY);
        size_t j = 0;
        for (; j + 8 <= width; j += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(row + j));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mv), _mm256_extractf128_ps(mv, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        float maximum = _mm_cvtss_f32(m4);
        for (; j < width; j++) maximum = row[j] > maximum ? row[j] : maximum;
        for (size_t q = 0; q < width; q++) row[q] = fast_exp(row[q] - maximum);
        __m256 sv = _mm256_setzero_ps();
        j = 0;
        for (; j + 8 <= width; j += 8) sv = _mm256_add_ps(sv, _mm256_loadu_ps(row + j));
        float sum = hsum8(sv);
        for (; j < width; j++) sum += row[j];
        float inverse = 1.0f / sum;
        for (size_t q = 0; q < width; q++) row[q] *= inverse;
    }
}

#undef AVX2

// MARK: dispatch.

int ckernels_best_level(void) {
#if defined(__x86_64__)
    static int best = -1;
    if (best >= 0) return best;
    int level = CKERNELS_BASELINE;
    if (__builtin_cpu_supports("avx512f")) level = CKERNELS_AVX512;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) level = CKERNELS_AVX2;
    best = level; // the same value from every thread: a benign race
    return best;
#else
    return CKERNELS_BASELINE;
#endif
}

static int resolve(int level) {
    int best = ckernels_best_level();
    return (level == CKERNELS_BEST || level > best) ? best : level;
}

#define DISPATCH(level, name, ...)                                                                  \
    switch (resolve(level)) {                                                                       \
    case CKERNELS_AVX512: name##_avx512(__VA_ARGS__); break;                                        \
    case CKERNELS_AVX2: name##_avx2(__VA_ARGS__); break;                                            \
    default: name##_baseline(__VA_ARGS__); break;                                                   \
    }

void ckernels_gelu(int level, const float *in, const float *bias, float *out, size_t rows, size_t width) {
    if (in == out) {
        DISPATCH(level, gelu_inplace, out, bias, rows, width)
    } else {
        DISPATCH(level, gelu, in, bias, out, rows, width)
    }
}

void ckernels_gelu_backward(int level, const float *dy, const float *x, float *dx, size_t count) {
    if (dy == dx) {
        DISPATCH(level, gelu_backward_inplace, dx, x, count)
    } else {
        DISPATCH(level, gelu_backward, dy, x, dx, count)
    }
}

void ckernels_gemm_nt_rows(int level, size_t m, size_t j0, size_t j1, size_t k, float alpha, const float *a, size_t lda,
                           const float *b, size_t ldb, float beta, float *c, size_t ldc) {
    // AVX-512: one pass over W for up to 12 rows, W prefetched (measured on a Sapphire Rapids-class
    // Xeon: 8.0 against the AVX2 form's 10.2 ms for a 10-row query's six layers, one thread).
    if (resolve(level) == CKERNELS_AVX512) {
        gemm_nt_avx512(m, j0, j1, k, alpha, a, lda, b, ldb, beta, c, ldc);
    } else if (resolve(level) >= CKERNELS_AVX2) {
        gemm_nt_avx2(m, j0, j1, k, alpha, a, lda, b, ldb, beta, c, ldc);
    } else {
        gemm_nt_baseline(m, j0, j1, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
}

void ckernels_softmax(int level, float *x, size_t rows, size_t width, size_t stride) {
    if (resolve(level) >= CKERNELS_AVX2) {
        softmax_avx2(x, rows, width, stride);
    } else {
        softmax_baseline(x, rows, width, stride);
    }
}
