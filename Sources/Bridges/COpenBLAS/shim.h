#ifndef DENSEKIT_COPENBLAS_SHIM_H
#define DENSEKIT_COPENBLAS_SHIM_H

// Debian resolves <cblas.h> through update-alternatives. With libopenblas-dev selected it is
// OpenBLAS's own header (x86_64-linux-gnu/openblas-pthread/cblas.h), which also declares
// openblas_set_num_threads / openblas_get_num_threads and the bf16 kernels (cblas_sbgemm).
// If the alternative points at netlib's cblas instead, those extras vanish and the build fails
// loudly rather than linking a slow reference BLAS.
#include <cblas.h>

#endif
