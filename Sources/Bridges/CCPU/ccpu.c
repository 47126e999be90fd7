#include "ccpu.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long xgetbv0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

static int bit(unsigned int word, int n) { return (word >> n) & 1u; }

void ccpu_detect(ccpu_features *out) {
    memset(out, 0, sizeof *out);
    unsigned int a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return;
    unsigned int max_leaf = a;
    memcpy(out->vendor + 0, &b, 4);
    memcpy(out->vendor + 4, &d, 4);
    memcpy(out->vendor + 8, &c, 4);

    __get_cpuid(1, &a, &b, &c, &d);
    out->sse3 = bit(c, 0);
    out->ssse3 = bit(c, 9);
    out->sse4_1 = bit(c, 19);
    out->sse4_2 = bit(c, 20);
    int osxsave = bit(c, 27);
    int cpu_avx = bit(c, 28), cpu_fma = bit(c, 12);

    // The OS must save the vector registers: XCR0 bits 1-2 (XMM, YMM) for AVX, and also
    // 5-7 (opmask, ZMM upper halves, ZMM16-31) for AVX-512; 17-18 (tile config, data) for AMX.
    unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
    int os_avx = (xcr0 & 0x6) == 0x6;
    int os_avx512 = os_avx && (xcr0 & 0xE0) == 0xE0;
    int os_amx = (xcr0 & 0x60000) == 0x60000;
    out->avx = cpu_avx && os_avx;
    out->fma = cpu_fma && os_avx;

    if (max_leaf >= 7) {
        __get_cpuid_count(7, 0, &a, &b, &c, &d);
        unsigned int sub_leaves = a;
        out->avx2 = bit(b, 5) && os_avx;
        out->avx512f = bit(b, 16) && os_avx512;
        out->avx512dq = bit(b, 17) && os_avx512;
        out->avx512bw = bit(b, 30) && os_avx512;
        out->avx512vl = bit(b, 31) && os_avx512;
        out->avx512_fp16 = bit(d, 23) && os_avx512;
        out->amx_bf16 = bit(d, 22) && os_amx;
        out->amx_tile = bit(d, 24) && os_amx;
        if (sub_leaves >= 1) {
            __get_cpuid_count(7, 1, &a, &b, &c, &d);
            out->avx512_bf16 = bit(a, 5) && os_avx512;
        }
    }

    if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000004) {
        unsigned int words[12];
        for (unsigned int leaf = 0; leaf < 3; leaf++) {
            __get_cpuid(0x80000002 + leaf, &words[4 * leaf], &words[4 * leaf + 1],
                        &words[4 * leaf + 2], &words[4 * leaf + 3]);
        }
        memcpy(out->brand, words, 48);
        out->brand[48] = 0;
    }
}

#else

void ccpu_detect(ccpu_features *out) { memset(out, 0, sizeof *out); }

#endif
