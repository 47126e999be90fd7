#include "cfaiss_internal.hpp"

#include <faiss/IVFlib.h>
#include <faiss/IndexIVF.h>
#include <faiss/index_io.h>
#include <faiss/invlists/OnDiskInvertedLists.h>

#include <cstdio>
#include <sys/mman.h>
#include <unistd.h>

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
        cfaiss::quiet_stdout quiet;
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

bool cfaiss::lists_on_disk(const faiss::Index &index) { return mapped_lists(&index) != nullptr; }

extern "C" int cfaiss_index_lists_on_disk(const cfaiss_index_t *handle) {
    return handle != nullptr && handle->index != nullptr && cfaiss::lists_on_disk(*handle->index) ? 1 : 0;
}

extern "C" int64_t cfaiss_index_list_count(const cfaiss_index_t *handle) {
    if (handle == nullptr || handle->index == nullptr) return 0;
    const faiss::IndexIVF *ivf = faiss::ivflib::try_extract_index_ivf(const_cast<faiss::Index *>(handle->index.get()));
    return ivf == nullptr ? 0 : int64_t(ivf->nlist);
}

extern "C" int cfaiss_index_is_mapped(const cfaiss_index_t *handle) {
    if (handle == nullptr || handle->index == nullptr) return 0;
    const faiss::OnDiskInvertedLists *lists = mapped_lists(handle->index.get());
    return lists != nullptr && lists->read_only ? 1 : 0;
}

// Moves an empty, trained IVF index's inverted lists into a new file at `path` (FAISS's
// OnDiskInvertedLists): vectors added later go to the file's memory map, not to the heap. The
// file grows by doubling; cfaiss_index_write_on_disk compacts it.
extern "C" int cfaiss_index_lists_to_disk(cfaiss_index_t *handle, const char *path) {
    return cfaiss::guarded(__func__, [&] {
        faiss::Index &index = cfaiss::checked(handle);
        cfaiss::require(path != nullptr, "path is NULL");
        faiss::IndexIVF *ivf = faiss::ivflib::try_extract_index_ivf(&index);
        if (ivf == nullptr) throw cfaiss::unsupported("inverted lists on disk need an IVF index");
        cfaiss::require(ivf->is_trained && index.ntotal == 0, "the index must be trained and empty");
        auto *lists = new faiss::OnDiskInvertedLists(ivf->nlist, ivf->code_size, path);
        lists->prefetch_nthread = 0; // no background reader threads (see cfaiss_index_read_mapped)
        ivf->replace_invlists(lists, /*own=*/true);
        return CFAISS_OK;
    });
}

// Writes an index whose lists are on disk: the lists are first compacted into a new file at
// `data_path` (the growing file has power-of-two slots), synced, and the index (quantizer,
// list offsets and `data_path`'s name) is written to `index_path` and synced. The growing file
// is deleted. FAISS's merge_from leaves the whole file recorded as free space (a bug in 1.7.3):
// the slot list is cleared, so the compacted lists are never handed out again.
extern "C" int cfaiss_index_write_on_disk(cfaiss_index_t *handle, const char *index_path, const char *data_path) {
    return cfaiss::guarded(__func__, [&] {
        faiss::Index &index = cfaiss::checked(handle);
        cfaiss::require(index_path != nullptr && data_path != nullptr, "path is NULL");
        faiss::IndexIVF *ivf = faiss::ivflib::try_extract_index_ivf(&index);
        auto *growing = ivf == nullptr ? nullptr : dynamic_cast<faiss::OnDiskInvertedLists *>(ivf->invlists);
        if (growing == nullptr || growing->read_only) throw cfaiss::unsupported("the index has no writable on-disk lists");
        cfaiss::require(index.ntotal > 0, "an empty index has no lists to write");
        const std::string old_path = growing->filename;
        cfaiss::quiet_stdout quiet;
        auto *compact = new faiss::OnDiskInvertedLists(ivf->nlist, ivf->code_size, data_path);
        compact->merge_from_1(growing);
        compact->slots.clear();
        compact->prefetch_nthread = 0;
        if (compact->ptr != nullptr && msync(compact->ptr, compact->totsize, MS_SYNC) != 0) {
            delete compact;
            throw std::runtime_error(std::string("msync ") + data_path + " failed");
        }
        ivf->replace_invlists(compact, /*own=*/true); // deletes (unmaps) the growing lists
        if (!old_path.empty() && old_path != data_path) unlink(old_path.c_str());
        FILE *file = fopen(index_path, "wb");
        if (file == nullptr) throw std::runtime_error(std::string("cannot create ") + index_path);
        try {
            faiss::write_index(&index, file);
        } catch (...) {
            fclose(file);
            throw;
        }
        const bool written = fflush(file) == 0 && fsync(fileno(file)) == 0;
        if (fclose(file) != 0 || !written) throw std::runtime_error(std::string("cannot write ") + index_path);
        return CFAISS_OK;
    });
}
