// Capture without a signal: unwinding a thread that is parked in a system call.
//
// /proc/self/task/TID/syscall gives only the user PC and SP of a parked thread, not its
// frame pointer. We copy the top of its stack with process_vm_readv (which fails cleanly,
// never faults, if the thread wakes or exits meanwhile), then:
//  1. frame 0 is the PC (the instruction after `syscall`);
//  2. scan upward from SP: a word that points into executable code right after a call
//     instruction is a return address of a frame-pointer-less library frame (libc's
//     usleep -> nanosleep -> clock_nanosleep, for instance) or of the first caller;
//  3. the first (saved RBP, return address) pair that starts a valid frame-pointer chain
//     hands over to the chain, which Swift code keeps in release builds too.
// A pair whose return address lies in the same library as the PC is a frame-pointer-less
// function saving RBP as an ordinary register, not a real frame record: the scan goes on
// past it so the caller's return address is not lost.
#include "CLoopWatchdog.h"
#include "fork_safety.h"
#include "text_ranges.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

// MARK: executable ranges of every loaded object

#define MAX_TEXT_RANGES 2048

typedef struct {
    uintptr_t start;
    uintptr_t end;
    uint32_t object;
} text_range;

static struct {
    pthread_mutex_t lock;
    text_range ranges[MAX_TEXT_RANGES];
    int32_t count;
    uint64_t adds;
    uint64_t subs;
    int loaded;
} text = {.lock = PTHREAD_MUTEX_INITIALIZER};

typedef struct {
    uint64_t adds;
    uint64_t subs;
} load_counts;

static int read_load_counts(struct dl_phdr_info *info, size_t size, void *data) {
    load_counts *counts = data;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs)) {
        counts->adds = info->dlpi_adds;
        counts->subs = info->dlpi_subs;
    }
    return 1;
}

typedef struct {
    uint32_t object;
} collect_state;

static int collect_ranges(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    collect_state *state = data;
    for (int i = 0; i < info->dlpi_phnum && text.count < MAX_TEXT_RANGES; i++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[i];
        if (header->p_type != PT_LOAD || !(header->p_flags & PF_X)) continue;
        text_range *range = &text.ranges[text.count++];
        range->start = info->dlpi_addr + header->p_vaddr;
        range->end = range->start + header->p_memsz;
        range->object = state->object;
    }
    state->object++;
    return 0;
}

// Reloads the table when a library was loaded or unloaded since the last look.
static void refresh_text_ranges(void) {
    load_counts counts = {0, 0};
    dl_iterate_phdr(read_load_counts, &counts);
    if (text.loaded && counts.adds == text.adds && counts.subs == text.subs) return;
    text.count = 0;
    collect_state state = {0};
    dl_iterate_phdr(collect_ranges, &state);
    text.adds = counts.adds;
    text.subs = counts.subs;
    text.loaded = 1;
}

// The range holding `address`, or NULL.
static const text_range *find_text(uintptr_t address) {
    for (int32_t i = 0; i < text.count; i++) {
        if (address >= text.ranges[i].start && address < text.ranges[i].end) return &text.ranges[i];
    }
    return NULL;
}

int32_t lwd_text_ranges_begin(void) {
    pthread_mutex_lock(&text.lock);
    refresh_text_ranges();
    return text.count;
}

void lwd_text_ranges_end(void) {
    pthread_mutex_unlock(&text.lock);
}

int32_t lwd_text_object(uintptr_t address) {
    const text_range *range = find_text(address);
    return range == NULL ? -1 : (int32_t)range->object;
}

// MARK: reading memory that may vanish

int lwd_read_memory(uintptr_t address, void *buffer, size_t length) {
    struct iovec local = {buffer, length};
    struct iovec remote = {(void *)address, length};
    ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    return n == (ssize_t)length ? 0 : -1;
}

#define WINDOW_BYTES (64 * 1024)

typedef struct {
    uintptr_t base;
    size_t length;
    uint64_t words[WINDOW_BYTES / 8];
} stack_window;

static int read_word(const stack_window *window, uintptr_t address, uint64_t *value) {
    if (address % 8 != 0) return -1;
    if (address >= window->base && address + 8 <= window->base + window->length) {
        *value = window->words[(address - window->base) / 8];
        return 0;
    }
    return lwd_read_memory(address, value, 8);
}

// True when the bytes just before `address` encode a call instruction.
static int follows_call(uintptr_t address, const text_range *range) {
    if (address < range->start + 7) return 0;
    uint8_t bytes[7];
    if (lwd_read_memory(address - 7, bytes, sizeof bytes) != 0) return 0;
    if (bytes[2] == 0xE8) return 1; // call rel32
    // call r/m64: FF /2, two to seven bytes long (with ModRM, SIB, displacement, REX).
    for (int length = 2; length <= 7; length++) {
        uint8_t opcode = bytes[7 - length];
        uint8_t modrm = bytes[7 - length + 1];
        if (opcode == 0xFF && ((modrm >> 3) & 7) == 2) return 1;
    }
    return 0;
}

static const text_range *return_address_range(uint64_t value) {
    const text_range *range = find_text((uintptr_t)value);
    if (range == NULL || !follows_call((uintptr_t)value, range)) return NULL;
    return range;
}

static int plausible_frame_pointer(uint64_t next, uintptr_t at, uintptr_t stack_high) {
    if (next <= at || next % 16 != 0) return 0;
    if (stack_high != 0 ? next >= stack_high : next - at > WINDOW_BYTES * 16) return 0;
    return 1;
}

// True when `at` holds (saved RBP, return address) and the chain goes on validly once more.
static int starts_frame_chain(const stack_window *window, uintptr_t at, uintptr_t stack_high) {
    uint64_t saved = 0, returning = 0;
    if (at % 16 != 0) return 0;
    if (read_word(window, at, &saved) || read_word(window, at + 8, &returning)) return 0;
    if (!plausible_frame_pointer(saved, at, stack_high)) return 0;
    if (return_address_range(returning) == NULL) return 0;
    uint64_t next_saved = 0, next_returning = 0;
    if (read_word(window, (uintptr_t)saved, &next_saved) ||
        read_word(window, (uintptr_t)saved + 8, &next_returning)) return 0;
    if (next_saved == 0 && next_returning == 0) return 1; // the outermost frame
    return plausible_frame_pointer(next_saved, (uintptr_t)saved, stack_high) &&
           find_text((uintptr_t)next_returning) != NULL;
}

// One capture at a time: callers hold parked_lock.
static pthread_mutex_t parked_lock = PTHREAD_MUTEX_INITIALIZER;
static stack_window window;

void lwd_parked_unwind_reset_after_fork(void) {
    static const pthread_mutex_t initial = PTHREAD_MUTEX_INITIALIZER;
    memcpy(&parked_lock, &initial, sizeof initial);
    memcpy(&text.lock, &initial, sizeof initial);
}

int lwd_unwind_parked_thread(uint64_t program_counter, uint64_t stack_pointer,
                             uintptr_t stack_high, uintptr_t *frames, lwd_frame_registers *registers,
                             int32_t max_frames) {
    if (max_frames < 1) return -EINVAL;
    pthread_mutex_lock(&parked_lock);
    pthread_mutex_lock(&text.lock);
    refresh_text_ranges();

    uintptr_t sp = (uintptr_t)stack_pointer & ~(uintptr_t)7;
    size_t length = WINDOW_BYTES;
    if (stack_high != 0) {
        if (sp >= stack_high) length = 0;
        else if (stack_high - sp < length) length = stack_high - sp;
    }
    window.base = sp;
    window.length = 0;
    if (length > 0) {
        struct iovec local = {window.words, length};
        struct iovec remote = {(void *)sp, length};
        ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
        window.length = n > 0 ? (size_t)n & ~(size_t)7 : 0;
    }

    int32_t count = 0;
    if (registers != NULL) registers[count] = (lwd_frame_registers){0, 0};
    frames[count++] = (uintptr_t)program_counter;
    const text_range *pc_range = find_text((uintptr_t)program_counter);

    // Scan for library frames until a frame-pointer chain starts.
    uintptr_t chain = 0;
    for (uintptr_t at = sp; at + 16 <= sp + window.length && count < max_frames; at += 8) {
        if (starts_frame_chain(&window, at, stack_high)) {
            uint64_t returning = window.words[(at + 8 - sp) / 8];
            const text_range *range = find_text((uintptr_t)returning);
            if (pc_range == NULL || range == NULL || range->object != pc_range->object) {
                chain = at;
                break;
            }
        }
        uint64_t value = window.words[(at - sp) / 8];
        if (return_address_range(value) != NULL) {
            if (registers != NULL) registers[count] = (lwd_frame_registers){0, 0};
            frames[count++] = (uintptr_t)value;
        }
    }

    // Follow the frame-pointer chain.
    uintptr_t at = chain;
    while (at != 0 && count < max_frames) {
        uint64_t saved = 0, returning = 0;
        if (read_word(&window, at, &saved) || read_word(&window, at + 8, &returning)) break;
        if (returning == 0 || find_text((uintptr_t)returning) == NULL) break;
        // The record at `at` is the frame of the function the last frame is in; the
        // caller's frame pointer is the one it saved.
        if (registers != NULL) {
            registers[count - 1].frame_pointer = at;
            registers[count] = (lwd_frame_registers){(uintptr_t)saved, 0};
        }
        frames[count++] = (uintptr_t)returning;
        if (!plausible_frame_pointer(saved, at, stack_high)) break;
        at = (uintptr_t)saved;
    }
    pthread_mutex_unlock(&text.lock);
    pthread_mutex_unlock(&parked_lock);
    return count;
}
