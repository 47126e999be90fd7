#include "ckernels.h"

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
