// OpenBLAS from Debian (libopenblas-dev) through its CBLAS interface: dgemm, the thread count and
// the core type, called by Sources/SNNCReference/BLAS.swift only.
#include <cblas.h>
#include <strings.h>

// OpenBLAS 0.3.21 picks its kernels by CPU model at load time and falls back to the generic
// "Prescott" (SSE3) kernels on models it does not know (seen on a Sapphire Rapids VM), at half
// the speed. Then this names the kernels the CPU's features can run, for OPENBLAS_CORETYPE;
// NULL when OpenBLAS's own choice stands.
static inline const char *snnc_openblas_suggested_core(void) {
    const char *name = openblas_get_corename();
    if (name == 0 || strcasecmp(name, "prescott") != 0) return 0;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
    return 0;
}
