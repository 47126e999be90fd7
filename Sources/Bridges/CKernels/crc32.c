// CRC-32 (IEEE 802.3, reflected, as zlib) by carry-less multiplication: the bulk of a buffer is
// folded 64 bytes at a time with PCLMULQDQ, then reduced to 32 bits with a Barrett reduction
// (Gopal et al., "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ Instruction",
// Intel, 2009; the constants are those of Linux's crc32-pclmul_asm.S). It gives the same CRC as
// the table-driven loop in DensekitTensor.CRC32, which does the tail of the buffer and runs
// wherever PCLMULQDQ is missing.

#include "ckernels.h"

#include <immintrin.h>
#include <stdint.h>

#define CLMUL __attribute__((target("pclmul,sse4.1")))

// x^(4*128+32) mod P and x^(4*128-32) mod P (folding across 64 bytes), bit-reflected, << 1.
static const uint64_t k1 = 0x154442bd4, k2 = 0x1c6e41596;
// The same across 16 bytes.
static const uint64_t k3 = 0x1751997d0, k4 = 0x0ccaa009e;
// x^64 mod P, for the last 64 -> 32 bit fold.
static const uint64_t k5 = 0x163cd6124;
// Barrett reduction: P (reflected, with its x^32 term) and mu = floor(x^64 / P), reflected.
static const uint64_t poly = 0x1db710641, mu = 0x1f7011641;

// One 128-bit lane folded forward over `distance` bytes (its low and high halves multiplied by
// the constants for that distance) and added to the data there.
CLMUL static inline __m128i fold(__m128i lane, __m128i constants, __m128i data) {
    __m128i low = _mm_clmulepi64_si128(lane, constants, 0x00);
    __m128i high = _mm_clmulepi64_si128(lane, constants, 0x11);
    return _mm_xor_si128(_mm_xor_si128(low, high), data);
}

CLMUL static size_t crc32_clmul(uint32_t *state, const uint8_t *data, size_t length) {
    size_t blocks = length / 16;
    const __m128i *p = (const __m128i *)data;
    __m128i x1 = _mm_loadu_si128(p), x2 = _mm_loadu_si128(p + 1), x3 = _mm_loadu_si128(p + 2), x4 = _mm_loadu_si128(p + 3);
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)*state));
    p += 4;
    size_t left = blocks - 4;
    const __m128i k12 = _mm_set_epi64x((long long)k2, (long long)k1);
    for (; left >= 4; left -= 4, p += 4) {
        x1 = fold(x1, k12, _mm_loadu_si128(p));
        x2 = fold(x2, k12, _mm_loadu_si128(p + 1));
        x3 = fold(x3, k12, _mm_loadu_si128(p + 2));
        x4 = fold(x4, k12, _mm_loadu_si128(p + 3));
    }
    const __m128i k34 = _mm_set_epi64x((long long)k4, (long long)k3);
    x1 = fold(x1, k34, x2);
    x1 = fold(x1, k34, x3);
    x1 = fold(x1, k34, x4);
    for (; left > 0; left--, p++) x1 = fold(x1, k34, _mm_loadu_si128(p));

    // 128 -> 64 bits: the low half times x^64 mod P into the high half.
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(x1, k34, 0x10), _mm_srli_si128(x1, 8));
    // 64 -> 32 bits (appending the 32 zero bits a CRC's message is multiplied by).
    const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, mask32), _mm_set_epi64x(0, (long long)k5), 0x00), _mm_srli_si128(x1, 4));
    // Barrett: q = (x mod x^32) * mu, then x - (q mod x^32) * P; the remainder is bits 32..63.
    const __m128i barrett = _mm_set_epi64x((long long)mu, (long long)poly);
    __m128i q = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), barrett, 0x10);
    q = _mm_clmulepi64_si128(_mm_and_si128(q, mask32), barrett, 0x00);
    *state = (uint32_t)_mm_extract_epi32(_mm_xor_si128(x1, q), 1);
    return blocks * 16;
}

size_t ckernels_crc32_fold(uint32_t *state, const void *data, size_t length) {
    if (length < 64 || !__builtin_cpu_supports("pclmul") || !__builtin_cpu_supports("sse4.1")) return 0;
    return crc32_clmul(state, (const uint8_t *)data, length);
}
