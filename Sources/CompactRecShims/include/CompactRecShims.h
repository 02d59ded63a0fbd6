// Tiny C helpers for the kernels: things Swift cannot express directly.
#ifndef COMPACTREC_SHIMS_H
#define COMPACTREC_SHIMS_H

/// Asks the CPU to start loading the cache line at `address` for writing, so a random access
/// a few iterations later does not stall (hash-table probes, embedding-row gathers).
static inline void compactrec_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

/// Asks the CPU to start loading the cache line at `address` for reading (an embedding row a few
/// samples ahead of a gather).
static inline void compactrec_prefetch_for_read(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// 1 when the including code is compiled for a CPU with AVX2 and FMA (the package's
/// `-march=x86-64-v3` on x86-64), else 0. Swift sees the same target as its Clang importer, so
/// this tells tests whether SIMD fused multiply-adds become `vfmadd` (1) or libm calls (0).
static inline int compactrec_target_has_avx2_fma(void) {
#if defined(__AVX2__) && defined(__FMA__)
    return 1;
#else
    return 0;
#endif
}

/// Atomically adds `value` to `*counter` and returns the previous value. Relaxed ordering: for
/// handing out work items of a parallel region whose inputs were written before it began.
static inline long compactrec_atomic_fetch_add(long *counter, long value) {
    return __atomic_fetch_add(counter, value, __ATOMIC_RELAXED);
}

/// Eight floats, imported into Swift as `SIMD8<Float>`.
typedef float compactrec_float8 __attribute__((ext_vector_type(8)));

/// The square roots of eight floats: one `vsqrtps` with AVX (two `sqrtps` with SSE). Swift's
/// `SIMD8<Float>.squareRoot()` compiles to eight calls of `sqrtf` instead, which dominated the
/// Adam updates. Each lane is correctly rounded, as `sqrtf` is, so it has the bits of
/// `Float.squareRoot()`.
static inline compactrec_float8 compactrec_sqrt8(compactrec_float8 x) {
#if __has_builtin(__builtin_elementwise_sqrt)
    return __builtin_elementwise_sqrt(x);
#else
    compactrec_float8 r;
    for (int i = 0; i < 8; i++) r[i] = __builtin_sqrtf(x[i]);
    return r;
#endif
}

#endif
