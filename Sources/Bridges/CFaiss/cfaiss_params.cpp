#include "cfaiss_internal.hpp"

#include <faiss/AutoTune.h>
#include <faiss/utils/distances.h>

#include <omp.h> // compat/omp.h: GCC's own lives where Swift's clang does not look

#include <climits>

namespace {

// ParameterSpace knows how to reach through IDMap, IndexPreTransform, IndexRefine and
// IndexShards/Replicas wrappers. It throws a FaissException for a parameter the index does
// not have, which is the only way it fails once the value is in range.
int set_parameter(const char *function, cfaiss_index_t *handle, const char *name, int64_t value) {
    return cfaiss::guarded(function, [&] {
        faiss::Index &index = cfaiss::checked(handle);
        cfaiss::require(value >= 1 && value <= INT_MAX, "value must be in 1...INT_MAX");
        try {
            faiss::ParameterSpace().set_index_parameter(&index, name, double(value));
        } catch (const faiss::FaissException &e) {
            throw cfaiss::unsupported(e.what());
        }
        return CFAISS_OK;
    });
}

} // namespace

extern "C" int cfaiss_index_set_nprobe(cfaiss_index_t *index, int64_t nprobe) {
    return set_parameter(__func__, index, "nprobe", nprobe);
}

extern "C" int cfaiss_index_set_ef_search(cfaiss_index_t *index, int64_t ef_search) {
    return set_parameter(__func__, index, "efSearch", ef_search);
}

extern "C" int cfaiss_set_omp_threads(int threads) {
    return cfaiss::guarded(__func__, [&] {
        cfaiss::require(threads >= 1, "thread count must be at least 1");
        omp_set_num_threads(threads);
        return CFAISS_OK;
    });
}

extern "C" int cfaiss_omp_max_threads(void) {
    return omp_get_max_threads();
}

extern "C" void cfaiss_set_blas_threshold(int queries) {
    faiss::distance_compute_blas_threshold = queries < 1 ? 1 : queries;
}
