// densekit's flat float storage for FAISS indexes: an IndexFlat (written to files as one)
// whose distances run on the SIMD kernels of cfaiss_kernels.hpp.
#pragma once

#include "cfaiss_kernels.hpp"

#include <faiss/IndexFlat.h>

namespace cfaiss {

struct SimdFlat final : faiss::IndexFlat {
    int kernel;      // CFAISS_DISTANCES_SCALAR, _AVX2 or _AVX512
    Kernels kernels; // for this index's metric

    // Takes over the vectors of `flat` (which is left empty).
    SimdFlat(faiss::IndexFlat &flat, int kernel);

    // The distance computer IndexHNSW uses for search and build.
    faiss::FlatCodesDistanceComputer *get_FlatCodesDistanceComputer() const override;

    // Up to this many inner-product queries are scanned together (`scan_together`); more go
    // to FAISS's BLAS path, whose packing of the stored vectors then pays for itself.
    static constexpr idx_t together_max = 64;

    // Few queries: FAISS scans with its scalar fvec_* loops (below its BLAS threshold); scan
    // with the SIMD kernel instead, and 2..together_max inner-product queries in one pass over
    // the stored vectors. Many queries with k = 1 (k-means, IVF list choice) go to
    // cfaiss::nearest; other many-query searches (and id selectors) stay with FAISS's BLAS path.
    void search(idx_t n, const float *x, idx_t k, float *distances, idx_t *labels,
                const faiss::SearchParameters *params) const override;

  private:
    template <class C>
    void scan(const float *query, idx_t k, float *dis, idx_t *ids) const;
    void scan_together(idx_t n, const float *x, idx_t k, float *dis, idx_t *ids) const;
};

} // namespace cfaiss
