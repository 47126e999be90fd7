#ifndef DENSEKIT_CKERNELS_H
#define DENSEKIT_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Elementwise kernels of the encoder compiled three times (x86-64 baseline, AVX2 + FMA,
// AVX-512) and chosen at run time for the processor. Swift compiles for the x86-64 baseline
// (SSE2) unless given unsafe flags, so its loops run 4 lanes wide; these run 8 or 16.
// The arithmetic is that of DensekitTensor.VectorMath (the same exp and erf polynomials).

// Instruction levels; CKERNELS_BEST is whatever this processor runs best.
#define CKERNELS_BASELINE 0
#define CKERNELS_AVX2 1
#define CKERNELS_AVX512 2
#define CKERNELS_BEST -1

// The level CKERNELS_BEST resolves to here.
int ckernels_best_level(void);

// out[i] = gelu(in[i] + bias[i % width]) over rows x width (bias may be NULL); may alias.
void ckernels_gelu(int level, const float *in, const float *bias, float *out, size_t rows, size_t width);

// dx[i] = dy[i] * gelu'(x[i]), gelu'(x) = Phi(x) + x phi(x); dx may alias dy.
void ckernels_gelu_backward(int level, const float *dy, const float *x, float *dx, size_t count);

// In place: softmax over the first `width` entries of each of `rows` rows (row stride `stride`).
void ckernels_softmax(int level, float *x, size_t rows, size_t width, size_t stride);

// C[i, j] = alpha * sum_p A[i, p] * B[j, p] + beta * C[i, j] for i < m and j0 <= j < j1 (row-major, strides lda, ldb,
// ldc): a linear layer, x W^T, for few rows. OpenBLAS packs all of W on every call, which for
// a query of ten tokens costs as much as the product; this streams each row of W once and
// reuses it for every row of A.
void ckernels_gemm_nt_rows(int level, size_t m, size_t j0, size_t j1, size_t k, float alpha, const float *a, size_t lda,
                           const float *b, size_t ldb, float beta, float *c, size_t ldc);

// CRC-32 (IEEE, as zlib) of the first bytes of `data`, continuing from the raw register `*state`
// (a CRC's register before its final inversion): folds whole 16-byte blocks with carry-less
// multiplication and returns how many bytes it consumed (a multiple of 16, all but the last
// 0-15), leaving the new register in `*state`; 0 when the processor lacks PCLMULQDQ or `length`
// is under 64 (the caller's table loop does those bytes).
size_t ckernels_crc32_fold(uint32_t *state, const void *data, size_t length);

#ifdef __cplusplus
}
#endif

#endif
