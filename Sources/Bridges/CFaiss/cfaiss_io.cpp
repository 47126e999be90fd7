#include "cfaiss_internal.hpp"

#include <faiss/index_io.h>

extern "C" int cfaiss_index_write(const cfaiss_index_t *handle, const char *path) {
    return cfaiss::guarded(__func__, [&] {
        const faiss::Index &index = cfaiss::checked(handle);
        cfaiss::require(path != nullptr, "path is NULL");
        faiss::write_index(&index, path);
        return CFAISS_OK;
    });
}

// FAISS checks every fread and throws on a short read, so a truncated file surfaces as
// CFAISS_ERR_FAISS. A corrupted length field can still ask for a huge allocation (FAISS caps
// vectors at 2^40 elements), which ends as CFAISS_ERR_OUT_OF_MEMORY or, under overcommit, the
// OOM killer: only read files this library wrote.
extern "C" int cfaiss_index_read(const char *path, cfaiss_index_t **out) {
    return cfaiss::guarded(__func__, [&] {
        cfaiss::require(out != nullptr, "out is NULL");
        *out = nullptr;
        cfaiss::require(path != nullptr, "path is NULL");
        std::unique_ptr<faiss::Index> index(faiss::read_index(path));
        cfaiss::attach_best_distances(index.get());
        *out = new cfaiss_index{std::move(index)};
        return CFAISS_OK;
    });
}
