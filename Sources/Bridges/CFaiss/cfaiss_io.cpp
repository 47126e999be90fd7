#include "cfaiss_internal.hpp"

#include <faiss/IVFlib.h>
#include <faiss/IndexIVF.h>
#include <faiss/index_io.h>
#include <faiss/invlists/OnDiskInvertedLists.h>

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

// The inverted lists of an IVF index, when they are FAISS's OnDiskInvertedLists (memory-mapped).
static faiss::OnDiskInvertedLists *mapped_lists(const faiss::Index *index) {
    faiss::IndexIVF *ivf = faiss::ivflib::try_extract_index_ivf(const_cast<faiss::Index *>(index));
    return ivf == nullptr ? nullptr : dynamic_cast<faiss::OnDiskInvertedLists *>(ivf->invlists);
}

// IO_FLAG_MMAP on a normally written IVF file ("ilar" lists) maps the lists inside the index
// file itself, read-only; an index whose lists are already on disk ("ilod") has its mapping
// skipped by the same flag (bit IO_FLAG_SKIP_IVF_DATA), so it is mapped here. FAISS's list
// prefetching starts up to 32 threads per search: turned off (densekit keeps its threads to the
// cores; the page cache reads ahead). Other index types are read into memory as usual.
extern "C" int cfaiss_index_read_mapped(const char *path, cfaiss_index_t **out) {
    return cfaiss::guarded(__func__, [&] {
        cfaiss::require(out != nullptr, "out is NULL");
        *out = nullptr;
        cfaiss::require(path != nullptr, "path is NULL");
        const int flags = faiss::IO_FLAG_MMAP | faiss::IO_FLAG_READ_ONLY | faiss::IO_FLAG_ONDISK_SAME_DIR;
        std::unique_ptr<faiss::Index> index(faiss::read_index(path, flags));
        if (faiss::OnDiskInvertedLists *lists = mapped_lists(index.get())) {
            if (lists->ptr == nullptr && lists->totsize > 0) lists->do_mmap();
            lists->prefetch_nthread = 0;
        }
        cfaiss::attach_best_distances(index.get());
        *out = new cfaiss_index{std::move(index)};
        return CFAISS_OK;
    });
}

extern "C" int cfaiss_index_is_mapped(const cfaiss_index_t *handle) {
    if (handle == nullptr || handle->index == nullptr) return 0;
    const faiss::OnDiskInvertedLists *lists = mapped_lists(handle->index.get());
    return lists != nullptr && lists->read_only ? 1 : 0;
}
