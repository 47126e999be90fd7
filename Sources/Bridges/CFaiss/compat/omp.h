// The part of GNU OpenMP's <omp.h> that FAISS's headers (impl/HNSW.h) and the shim use.
//
// GCC installs omp.h in its private include directory (/usr/lib/gcc/x86_64-linux-gnu/12/include),
// which Swift's clang does not search, and a header search path outside the package would need
// unsafe flags. The declarations match libgomp's ABI on Linux x86-64 (omp_lock_t: 4 bytes,
// 4-aligned); libgomp provides the symbols at link time.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    unsigned char _x[4] __attribute__((__aligned__(4)));
} omp_lock_t;

void omp_init_lock(omp_lock_t *);
void omp_destroy_lock(omp_lock_t *);
void omp_set_lock(omp_lock_t *);
void omp_unset_lock(omp_lock_t *);
void omp_set_num_threads(int);
int omp_get_max_threads(void);
int omp_get_thread_num(void);
int omp_get_num_threads(void);

#ifdef __cplusplus
}
#endif
