// Tiny C helpers for the kernels: things Swift cannot express directly.
#ifndef COMPACTREC_SHIMS_H
#define COMPACTREC_SHIMS_H

/// Asks the CPU to start loading the cache line at `address` for writing, so a random access
/// a few iterations later does not stall (hash-table probes, embedding-row gathers).
static inline void compactrec_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

#endif
