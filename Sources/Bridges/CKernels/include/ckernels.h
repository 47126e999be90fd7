#ifndef DENSEKIT_CKERNELS_H
#define DENSEKIT_CKERNELS_H

#include <stddef.h>

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

#endif
