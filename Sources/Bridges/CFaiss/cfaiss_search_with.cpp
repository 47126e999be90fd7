// Search with per-call parameters (nprobe, efSearch): FAISS 1.7.3's SearchParameters, built
// for the index under densekit's wrappers, so that concurrent searches with different settings
// (a server's requests) never change the shared index or each other's results.
#include "cfaiss_internal.hpp"

#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexPreTransform.h>

#include <climits>
#include <vector>

namespace {

// The parameters for `index` (nullptr: the index's own settings will do), owned by `keep`;
// `used` records which of the asked-for knobs some part of the index took.
faiss::SearchParameters *parameters_for(const faiss::Index *index, int64_t nprobe, int64_t ef_search,
                                        std::vector<std::unique_ptr<faiss::SearchParameters>> &keep, bool &used_nprobe,
                                        bool &used_ef) {
    if (auto *map = dynamic_cast<const faiss::IndexIDMap *>(index)) {
        return parameters_for(map->index, nprobe, ef_search, keep, used_nprobe, used_ef);
    }
    if (auto *transform = dynamic_cast<const faiss::IndexPreTransform *>(index)) {
        faiss::SearchParameters *inner = parameters_for(transform->index, nprobe, ef_search, keep, used_nprobe, used_ef);
        if (!inner) return nullptr;
        auto params = std::make_unique<faiss::SearchParametersPreTransform>();
        params->index_params = inner;
        keep.push_back(std::move(params));
        return keep.back().get();
    }
    if (auto *ivf = dynamic_cast<const faiss::IndexIVF *>(index)) {
        faiss::SearchParameters *quantizer = parameters_for(ivf->quantizer, 0, ef_search, keep, used_nprobe, used_ef);
        if (nprobe == 0 && !quantizer) return nullptr;
        auto params = std::make_unique<faiss::SearchParametersIVF>();
        params->nprobe = nprobe > 0 ? size_t(nprobe) : ivf->nprobe;
        params->max_codes = ivf->max_codes;
        params->quantizer_params = quantizer;
        used_nprobe = used_nprobe || nprobe > 0;
        keep.push_back(std::move(params));
        return keep.back().get();
    }
    if (auto *hnsw = dynamic_cast<const faiss::IndexHNSW *>(index)) {
        if (ef_search == 0) return nullptr;
        auto params = std::make_unique<faiss::SearchParametersHNSW>();
        params->efSearch = int(ef_search);
        params->check_relative_distance = hnsw->hnsw.check_relative_distance;
        used_ef = true;
        keep.push_back(std::move(params));
        return keep.back().get();
    }
    return nullptr;
}

} // namespace

extern "C" int cfaiss_index_search_with(const cfaiss_index_t *handle, int64_t n, int64_t dimension, const float *x, int64_t k,
                                        int64_t nprobe, int64_t ef_search, float *distances, int64_t *labels) {
    return cfaiss::guarded(__func__, [&] {
        const faiss::Index &index = cfaiss::checked(handle);
        cfaiss::check_vectors(index, n, dimension, x);
        cfaiss::require(k > 0, "k must be positive");
        cfaiss::require(nprobe >= 0 && nprobe <= INT_MAX && ef_search >= 0 && ef_search <= INT_MAX,
                        "nprobe and ef_search must be in 0...INT_MAX (0: the index's own)");
        cfaiss::require(n == 0 || (distances != nullptr && labels != nullptr), "distances or labels buffer is NULL");
        std::vector<std::unique_ptr<faiss::SearchParameters>> keep;
        bool used_nprobe = false, used_ef = false;
        faiss::SearchParameters *params = parameters_for(&index, nprobe, ef_search, keep, used_nprobe, used_ef);
        if (nprobe > 0 && !used_nprobe) throw cfaiss::unsupported("nprobe: the index has no inverted lists");
        if (ef_search > 0 && !used_ef) throw cfaiss::unsupported("efSearch: the index has no HNSW graph");
        if (!handle->faiss_hnsw && cfaiss::hnsw_search(index, n, x, k, distances, labels, int(ef_search))) return CFAISS_OK;
        index.search(n, x, k, distances, labels, params);
        return CFAISS_OK;
    });
}
