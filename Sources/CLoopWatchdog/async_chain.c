// The awaiting callers of a blocked async function: its chain of async contexts.
//
// A Swift async function that awaits another does not stay on the thread's stack: the call
// is a tail call, and what runs after the callee returns is a separate "resume" function
// that the runtime reaches through the callee's async context. Each context starts with
//     +0  Parent        the awaiting caller's context (NULL for a task's first function)
//     +8  ResumeParent  the caller's resume function, where it goes on after the await
// (swift/ABI/Task.h, AsyncContext). So the callers of the function a job runs now are
// found by following Parent from its own context, and named by each ResumeParent.
//
// Finding that first context (Swift 6.3 on Linux x86_64, measured in debug and release):
//   - the function a job runs is called by swift::runJobInEstablishedExecutorContext, on
//     the cooperative pool, an actor, the main queue and NIO's executor alike: its frame
//     is the one just inside the innermost frame in that runtime function;
//   - with a frame pointer (SwiftPM keeps them in debug and release builds) the function's
//     prologue is `push %rbp; push %r14; lea 8(%rsp),%rbp`: its context is the word just
//     below the saved frame pointer, at rbp - 8 (a resume function stores its projected
//     own context there first thing). Swift on Linux does not set bit 60 of the saved
//     frame pointer, as it does on Darwin, so frames cannot be told async by that bit;
//   - without one (swiftc -O run by hand), the context arrives in R14, which the function
//     keeps there; only a capture by signal knows R14 (from the unwinder).
// runJobInEstablishedExecutorContext is not exported. Its range is learned from the first
// stack that shows it below swift_job_run (or the other exported job entries, which call
// it directly), through the unwinder's procedure table (.eh_frame, present in stripped
// libraries too), and then kept.
//
// The contexts live in task-allocator memory that the task frees as its functions return,
// possibly on another thread by the time we look: every read goes through
// process_vm_readv (text_ranges.h), which fails instead of faulting. A context must be
// 16-byte aligned (the task allocator's alignment), its ResumeParent must point into
// loaded code, and the chain must not loop; the walk stops at the first link that does
// not look like a context, and after LWD_MAX_ASYNC_FRAMES links.
//
// Thread model: called on the watchdog thread after a capture (never in a signal handler);
// the learned range is guarded by a mutex.
#include "CLoopWatchdog.h"
#include "fork_safety.h"
#include "text_ranges.h"

#include <libunwind.h>
#include <pthread.h>
#include <string.h>

// The exported job entries of the Swift runtime; weak, so that a binary without Swift
// Concurrency still links (the chain is then never found).
extern void swift_job_run(void) __attribute__((weak));
extern void swift_job_run_on_task_executor(void) __attribute__((weak));
extern void swift_job_run_on_serial_and_task_executor(void) __attribute__((weak));

typedef struct {
    uintptr_t start;
    uintptr_t end;
} code_range;

#define JOB_ENTRY_COUNT 3

static pthread_mutex_t ranges_lock = PTHREAD_MUTEX_INITIALIZER;
static int ranges_loaded;
static code_range job_entries[JOB_ENTRY_COUNT];
// swift::runJobInEstablishedExecutorContext, once learned (start 0 until then).
static code_range job_runner;

// The procedure holding `address`, from the unwinder's tables. 0 when it has none.
static int procedure_range(uintptr_t address, code_range *range) {
    unw_proc_info_t info;
    memset(&info, 0, sizeof info);
    if (unw_get_proc_info_by_ip(unw_local_addr_space, (unw_word_t)address, &info, NULL) < 0) return 0;
    if (info.start_ip == 0 || info.end_ip <= info.start_ip) return 0;
    if (address < info.start_ip || address >= info.end_ip) return 0;
    range->start = (uintptr_t)info.start_ip;
    range->end = (uintptr_t)info.end_ip;
    return 1;
}

static void load_job_entries(void) {
    if (ranges_loaded) return;
    ranges_loaded = 1;
    uintptr_t entries[JOB_ENTRY_COUNT] = {
        (uintptr_t)&swift_job_run,
        (uintptr_t)&swift_job_run_on_task_executor,
        (uintptr_t)&swift_job_run_on_serial_and_task_executor,
    };
    for (int i = 0; i < JOB_ENTRY_COUNT; i++) {
        if (entries[i] == 0 || !procedure_range(entries[i], &job_entries[i])) {
            job_entries[i] = (code_range){0, 0};
        }
    }
}

static int in_range(const code_range *range, uintptr_t address) {
    return range->start != 0 && address >= range->start && address < range->end;
}

static int in_job_entry(uintptr_t address) {
    for (int i = 0; i < JOB_ENTRY_COUNT; i++) {
        if (in_range(&job_entries[i], address)) return 1;
    }
    return 0;
}

// The address a frame is in: frame 0's program counter, else one byte before the return
// address (which may already be the next function).
static uintptr_t frame_address(const uintptr_t *frames, int32_t index) {
    return index == 0 ? frames[0] : frames[index] - 1;
}

// Learns the job runner's range from a stack with a job entry: the frame just inside the
// innermost job entry frame, when it lies in the same library. Caller holds ranges_lock
// and the text table's lock.
static void learn_job_runner(const uintptr_t *frames, int32_t count) {
    for (int32_t index = 1; index < count; index++) {
        uintptr_t address = frame_address(frames, index);
        if (!in_job_entry(address)) continue;
        if (index < 2) return;
        uintptr_t inner = frame_address(frames, index - 1);
        int32_t object = lwd_text_object(address);
        if (object < 0 || lwd_text_object(inner) != object || in_job_entry(inner)) return;
        code_range range;
        if (procedure_range(inner, &range)) job_runner = range;
        return;
    }
}

// The pages a walk has read. A task allocates its contexts from a few slabs, callers
// before callees, so most links of a chain lie on a page already read: one
// process_vm_readv per page instead of one per link (about 1 µs each).
#define CACHED_PAGES 8
#define PAGE_BYTES 4096

typedef struct {
    uintptr_t base[CACHED_PAGES];
    int32_t count;
    int32_t next;
    uint8_t bytes[CACHED_PAGES][PAGE_BYTES];
} page_cache;

// Copies the 16 bytes at `address` (16-byte aligned, so within one page) through the
// cache. Returns 0, or -1 when the page is not readable.
static int read_link(page_cache *cache, uintptr_t address, uintptr_t link[2]) {
    uintptr_t base = address & ~(uintptr_t)(PAGE_BYTES - 1);
    for (int32_t i = 0; i < cache->count; i++) {
        if (cache->base[i] == base) {
            memcpy(link, &cache->bytes[i][address - base], 2 * sizeof(uintptr_t));
            return 0;
        }
    }
    int32_t slot = cache->count < CACHED_PAGES ? cache->count++ : cache->next++ % CACHED_PAGES;
    if (lwd_read_memory(base, cache->bytes[slot], PAGE_BYTES) != 0) {
        cache->base[slot] = 0;
        // A page that cannot be read whole (the end of a mapping) is read link by link.
        return lwd_read_memory(address, link, 2 * sizeof(uintptr_t));
    }
    cache->base[slot] = base;
    memcpy(link, &cache->bytes[slot][address - base], 2 * sizeof(uintptr_t));
    return 0;
}

// Follows the chain from `context`, writing each ResumeParent (tagged) to `resume`.
// Returns how many were written; *ended says why the walk stopped. Caller holds the text
// table's lock.
static int32_t walk(uintptr_t context, uintptr_t *resume, int32_t max, int32_t *ended) {
    static page_cache cache;  // walks are serialised by the text table's lock, which callers hold
    uintptr_t visited[LWD_MAX_ASYNC_FRAMES];
    int32_t count = 0;
    cache.count = 0;
    cache.next = 0;
    if (max > LWD_MAX_ASYNC_FRAMES) max = LWD_MAX_ASYNC_FRAMES;
    *ended = LWD_ASYNC_TOO_DEEP;
    while (count < max) {
        uintptr_t link[2];
        if (context == 0 || context % 16 != 0 || read_link(&cache, context, link) != 0 ||
            lwd_text_object(link[1]) < 0) {
            *ended = LWD_ASYNC_INVALID;
            return count;
        }
        for (int32_t i = 0; i < count; i++) {
            if (visited[i] == context) {
                *ended = LWD_ASYNC_INVALID;
                return count;
            }
        }
        visited[count] = context;
        resume[count++] = link[1] | LWD_ASYNC_FRAME_TAG;
        if (link[0] == 0) {
            *ended = LWD_ASYNC_ROOT;
            return count;
        }
        context = link[0];
    }
    return count;
}

int32_t lwd_async_chain_read(uintptr_t context, uintptr_t *resume, int32_t max, int32_t *ended) {
    if (max < 0) max = 0;
    lwd_text_ranges_begin();
    int32_t count = walk(context, resume, max, ended);
    lwd_text_ranges_end();
    return count;
}

int32_t lwd_async_callers_insert(uintptr_t *frames, const lwd_frame_registers *registers,
                                 int32_t count, int32_t capacity, lwd_async_chain *chain) {
    chain->anchor = -1;
    chain->count = 0;
    chain->ended = LWD_ASYNC_NOT_A_JOB;
    if (count < 2 || registers == NULL) return count;

    pthread_mutex_lock(&ranges_lock);
    load_job_entries();
    if (job_runner.start == 0) {
        lwd_text_ranges_begin();
        learn_job_runner(frames, count);
        lwd_text_ranges_end();
    }
    code_range runner = job_runner;

    // The function a job runs: just inside the innermost frame in the job runner.
    int32_t anchor = -1;
    for (int32_t index = 1; index < count && runner.start != 0; index++) {
        if (in_range(&runner, frame_address(frames, index))) {
            anchor = index - 1;
            break;
        }
    }
    uintptr_t found[LWD_MAX_ASYNC_FRAMES];
    int32_t found_count = 0;
    if (anchor >= 0) {
        // Only a stack that runs a job reads the text table (and the loader's counts).
        lwd_text_ranges_begin();
        chain->anchor = anchor;
        chain->ended = LWD_ASYNC_NO_CONTEXT;
        // With its own frame pointer (the runner's differs), the context is just below the
        // saved one; without, it is in R14.
        uintptr_t frame_pointer = registers[anchor].frame_pointer;
        uintptr_t candidates[2] = {0, registers[anchor].r14};
        if (frame_pointer > 8 && frame_pointer % 8 == 0 && frame_pointer != registers[anchor + 1].frame_pointer) {
            uintptr_t slot = 0;
            if (lwd_read_memory(frame_pointer - 8, &slot, sizeof slot) == 0) candidates[0] = slot;
        }
        int32_t room = capacity - count;
        if (room > LWD_MAX_ASYNC_FRAMES) room = LWD_MAX_ASYNC_FRAMES;
        for (int c = 0; c < 2 && found_count == 0 && room > 0; c++) {
            if (candidates[c] == 0) continue;
            int32_t ended = LWD_ASYNC_NO_CONTEXT;
            found_count = walk(candidates[c], found, room, &ended);
            if (found_count > 0) chain->ended = ended;
        }
        lwd_text_ranges_end();
    }
    pthread_mutex_unlock(&ranges_lock);
    if (found_count == 0) return count;

    // Callers go right after the function they called, before the job runner's frames.
    int32_t after = anchor + 1;
    memmove(&frames[after + found_count], &frames[after], (size_t)(count - after) * sizeof(uintptr_t));
    memcpy(&frames[after], found, (size_t)found_count * sizeof(uintptr_t));
    frames[anchor] |= LWD_ASYNC_RUNNING_TAG;
    chain->count = found_count;
    return count + found_count;
}

void lwd_async_job_runner(uintptr_t *start, uintptr_t *end) {
    pthread_mutex_lock(&ranges_lock);
    *start = job_runner.start;
    *end = job_runner.end;
    pthread_mutex_unlock(&ranges_lock);
}

void lwd_async_chain_reset_after_fork(void) {
    static const pthread_mutex_t initial = PTHREAD_MUTEX_INITIALIZER;
    memcpy(&ranges_lock, &initial, sizeof initial);
}
