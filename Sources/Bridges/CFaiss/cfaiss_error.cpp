#include "cfaiss_internal.hpp"

#include <cstdarg>
#include <cstdio>

namespace {
// Fixed size so that recording an error can never fail; FAISS messages are one or two lines.
thread_local char last_error[2048] = "";
} // namespace

void cfaiss::set_error(const char *format, ...) noexcept {
    va_list args;
    va_start(args, format);
    std::vsnprintf(last_error, sizeof last_error, format, args);
    va_end(args);
}

extern "C" const char *cfaiss_last_error(void) {
    return last_error;
}
