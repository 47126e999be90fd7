// Distance kernels between float vectors, scalar, AVX2/FMA and AVX-512, chosen at run time.
#pragma once

#include <faiss/MetricType.h>

#include <cstddef>

namespace cfaiss {

// The distance of x to y: the inner product, or the squared L2 distance.
using Distance = float (*)(const float *x, const float *y, size_t d);
// The distances of x to y0..y3 into out[0..3], each bit for bit what Distance gives: one
// pass over x serves four stored vectors (HNSW's neighbour lists come in such groups).
using Distance4 = void (*)(const float *x, const float *y0, const float *y1, const float *y2, const float *y3,
                           size_t d, float *out);

struct Kernels {
    Distance one;
    Distance4 four;
};

// CFAISS_DISTANCES_SCALAR, _AVX2 or _AVX512 for the metric (inner product, else squared L2).
Kernels kernels_for(int kernel, faiss::MetricType metric);

// Whether this processor runs `kernel` (CFAISS_DISTANCES_*).
bool kernel_supported(int kernel);

} // namespace cfaiss
