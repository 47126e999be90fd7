// The nearest stored vector to each of many queries: the search k-means runs every iteration
// and an IVF index runs to pick each added vector's list.
#pragma once

#include <faiss/MetricType.h>

#include <cstddef>
#include <cstdint>

namespace cfaiss {

// For each of n queries x (row-major, d floats each), the nearest of the nb stored vectors xb:
// the largest inner product, or the smallest squared L2 distance, as
// IndexFlat::search(n, x, 1, distances, labels) finds it (ties go to the lower index; a
// negative rounded L2 distance reads 0). nb must be positive.
//
// Debian's libfaiss 1.7.3 is a baseline x86-64 build: its 1-nearest search takes a BLAS product
// and then keeps a one-entry heap per query in scalar code, and for PQ's 8-dimensional
// sub-vectors the product itself is most of k-means' time (a GEMM with an inner dimension of 8).
// Here, up to small_dimension_max dimensions, each query is compared with 8 stored vectors per
// AVX2 step (stored vectors transposed in blocks of 8) keeping a running minimum per lane; above
// it, OpenBLAS computes the inner products in blocks and one fused pass picks each row's best.
// `simd` false runs the same arithmetic in plain loops (for tests and old processors).
// Threads: up to `threads` for the small-dimension scan (the BLAS product threads itself).
void nearest(faiss::MetricType metric, bool simd, int threads, size_t d, size_t nb, const float *xb, size_t n,
             const float *x, float *distances, int64_t *labels);

// Above this dimension nearest() goes through BLAS.
constexpr size_t small_dimension_max = 32;

} // namespace cfaiss
