#ifndef DENSEKIT_CCPU_H
#define DENSEKIT_CCPU_H

// What the processor can run, read with the cpuid instruction (and xgetbv, so that a feature
// the operating system does not save across context switches counts as absent). On a
// processor other than x86-64 every flag is 0 and the strings are empty.
typedef struct {
    char vendor[13];  // "GenuineIntel", "AuthenticAMD", ...
    char brand[49];   // "Intel(R) Xeon(R) Platinum 8488C", "AMD EPYC 7B13", ...
    int sse3, ssse3, sse4_1, sse4_2;
    int avx, avx2, fma;
    int avx512f, avx512dq, avx512bw, avx512vl, avx512_bf16, avx512_fp16;
    int amx_tile, amx_bf16;
} ccpu_features;

void ccpu_detect(ccpu_features *out);

#endif
