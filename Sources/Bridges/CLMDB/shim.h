#ifndef DENSEKIT_CLMDB_SHIM_H
#define DENSEKIT_CLMDB_SHIM_H

// Through a shim rather than naming /usr/include/lmdb.h in the module map, so the
// header is found on the compiler's normal search path (Debian, Homebrew, a custom prefix).
#include <lmdb.h>

#endif
