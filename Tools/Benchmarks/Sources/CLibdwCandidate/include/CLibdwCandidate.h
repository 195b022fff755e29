// elfutils' libdwfl as a symbolication candidate for the benchmarks: the modules of this
// process reported from /proc/self/maps, names from the symbol tables, file:line from the
// DWARF line tables (libdw, the library perf and systemtap use).
#ifndef CLIBDW_CANDIDATE_H
#define CLIBDW_CANDIDATE_H

#include <stddef.h>
#include <stdint.h>

typedef struct lwd_bench_dwfl lwd_bench_dwfl;

/// A session over this process's modules; NULL on failure.
lwd_bench_dwfl *lwd_bench_dwfl_open(void);
void lwd_bench_dwfl_close(lwd_bench_dwfl *session);
/// The raw symbol name (NULL when none), and file:line (file NULL when none), of the code at
/// `address` (a program counter: callers pass return addresses minus one).
void lwd_bench_dwfl_lookup(lwd_bench_dwfl *session, uintptr_t address, const char **symbol,
                           const char **file, int *line, const char **module);

#endif
