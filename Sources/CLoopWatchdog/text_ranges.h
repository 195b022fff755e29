// Private to CLoopWatchdog: the executable ranges of the loaded objects (kept by
// parked_unwind.c) and reads of memory that may vanish, shared with async_chain.c.
#ifndef CLOOPWATCHDOG_TEXT_RANGES_H
#define CLOOPWATCHDOG_TEXT_RANGES_H

#include <stddef.h>
#include <stdint.h>

/// Takes the table's lock and reloads it when a library was loaded or unloaded since the
/// last look. Returns how many ranges it holds. Pair with lwd_text_ranges_end.
int32_t lwd_text_ranges_begin(void);

/// Releases the lock taken by lwd_text_ranges_begin.
void lwd_text_ranges_end(void);

/// Which loaded object's code holds `address` (a small number, the same for every range of
/// one object), or -1 when no executable range does. The caller holds the lock.
int32_t lwd_text_object(uintptr_t address);

/// Copies `length` bytes at `address` of this process with process_vm_readv: never faults,
/// fails (-1) when any byte is unmapped. Returns 0 on success.
int lwd_read_memory(uintptr_t address, void *buffer, size_t length);

#endif
