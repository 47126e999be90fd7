#ifndef DENSEKIT_CSTEMMER_SHIM_H
#define DENSEKIT_CSTEMMER_SHIM_H

// Snowball's C stemmers (Debian: libstemmer-dev), through a shim so the header is found on the
// compiler's normal search path.
#include <libstemmer.h>

#endif
