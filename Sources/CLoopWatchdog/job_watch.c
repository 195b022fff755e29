// The job watch of the Swift Concurrency global executor (see CLoopWatchdog.h).
//
// Why C: the runtime's hooks are C function pointers with the Swift calling convention, and
// the hot path (one call per job) must not allocate nor read a clock: each job is passed to
// dispatch as the context of dispatch_async_f, exactly as the runtime's own
// DispatchGlobalExecutor does on Linux, and is numbered in its worker's slot with relaxed
// stores. The layout read here (the priority in the job's flags) is the one the toolchain's public <swift/ExecutorImpl.h> documents for
// custom executors; this shim can go once Swift offers a public way to wrap the default
// global executor's jobs.

#include "CLoopWatchdog.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define LWD_SWIFTCALL __attribute__((swiftcall))

// A job's header, as <swift/ExecutorImpl.h> declares it (SwiftJob).
typedef struct {
    const void *metadata;
    uintptr_t ref_counts;
    void *scheduler_private[2];
    uint32_t flags;
} __attribute__((aligned(2 * sizeof(void *)))) lwd_swift_job;
_Static_assert(offsetof(lwd_swift_job, flags) == 32, "SwiftJob flags offset");

// The runtime's hook types (ConcurrencyHooks.def).
typedef LWD_SWIFTCALL void (*enqueue_original)(void *job);
typedef LWD_SWIFTCALL void (*enqueue_hook)(void *job, enqueue_original original);
typedef LWD_SWIFTCALL void (*delay_original)(unsigned long long delay, void *job);
typedef LWD_SWIFTCALL void (*delay_hook)(unsigned long long delay, void *job, delay_original original);
typedef LWD_SWIFTCALL void (*deadline_original)(long long sec, long long nsec, long long tsec, long long tnsec,
                                                int clock, void *job);
typedef LWD_SWIFTCALL void (*deadline_hook)(long long sec, long long nsec, long long tsec, long long tnsec,
                                            int clock, void *job, deadline_original original);

extern _Atomic(enqueue_hook) swift_task_enqueueGlobal_hook;
extern _Atomic(delay_hook) swift_task_enqueueGlobalWithDelay_hook;
extern _Atomic(deadline_hook) swift_task_enqueueGlobalWithDeadline_hook;

// Runs a job on the generic executor, as the global executor does (SerialExecutorRef
// generic: identity NULL, implementation 0, passed as two words).
extern LWD_SWIFTCALL void swift_job_run(void *job, void *executor_identity, uintptr_t executor_implementation);

// The few libdispatch functions used, declared here so that the C target needs no include
// path into the toolchain.
typedef void *lwd_dispatch_queue;
typedef uint64_t lwd_dispatch_time;
extern char _dispatch_queue_attr_concurrent[];
extern void *dispatch_queue_attr_make_with_qos_class(void *attr, unsigned int qos_class, int relative_priority);
extern lwd_dispatch_queue dispatch_queue_create(const char *label, void *attr);
extern void dispatch_queue_set_width(lwd_dispatch_queue queue, long width);
extern void dispatch_async_f(lwd_dispatch_queue queue, void *context, void (*work)(void *));
extern void dispatch_after_f(lwd_dispatch_time when, lwd_dispatch_queue queue, void *context, void (*work)(void *));
extern lwd_dispatch_time dispatch_time(lwd_dispatch_time when, int64_t delta);

// DISPATCH_QUEUE_WIDTH_MAX_LOGICAL_CPUS, the width the runtime gives its queues on Linux.
#define LWD_WIDTH_MAX_LOGICAL_CPUS (-3)
#define LWD_DISPATCH_TIME_FOREVER (~0ULL)
#define LWD_DISPATCH_WALLTIME_MASK (1ULL << 62)
#define LWD_DISPATCH_MONOTONIC_MASK (1ULL << 63)
// Job priorities are 0 ... 0x21 (UserInteractive), as the runtime's queue cache.
#define LWD_PRIORITY_COUNT 0x22
#define LWD_CLOCK_CONTINUOUS 1

// One worker's slot. The worker's fields and the watchdog's flag are on separate cache
// lines, so that flagging a stall never makes the worker's stores miss.
struct lwd_job_slot {
    _Atomic(uint64_t) sequence;
    _Atomic(uint64_t) ended_job;
    _Atomic(int64_t) ended_at;
    _Atomic(uint8_t) priority;
    uint64_t generation;
    _Alignas(64) _Atomic(uint64_t) flagged;
};

static _Atomic(lwd_job_register_callback) register_callback;
// The generation of the active watch, 0 when none.
static _Atomic(uint64_t) active_generation;
// The calling worker's slot (initial-exec: a plain offset from the thread pointer).
static __thread lwd_job_slot *current_slot __attribute__((tls_model("initial-exec")));
static _Atomic(int) watching;
// The hooks found at installation; called for every job while set.
static _Atomic(enqueue_hook) previous_enqueue;
static _Atomic(delay_hook) previous_delay;
static _Atomic(deadline_hook) previous_deadline;
static _Atomic(lwd_dispatch_queue) queues[LWD_PRIORITY_COUNT];

uint8_t lwd_job_priority(const void *job) {
    return (uint8_t)((((const lwd_swift_job *)job)->flags >> 8) & 0xff);
}

// The queue of `priority`, made once, as the runtime makes its own on Linux.
static lwd_dispatch_queue queue_for(uint8_t priority) {
    if (priority >= LWD_PRIORITY_COUNT) return NULL;
    lwd_dispatch_queue queue = atomic_load_explicit(&queues[priority], memory_order_acquire);
    if (queue) return queue;
    void *attributes = dispatch_queue_attr_make_with_qos_class(_dispatch_queue_attr_concurrent, priority, 0);
    lwd_dispatch_queue made = dispatch_queue_create("Swift global concurrent queue", attributes);
    if (!made) return NULL;
    dispatch_queue_set_width(made, LWD_WIDTH_MAX_LOGICAL_CPUS);
    lwd_dispatch_queue expected = NULL;
    if (!atomic_compare_exchange_strong_explicit(&queues[priority], &expected, made, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        // Another thread made it first; an unused queue is a few hundred bytes, kept.
        return expected;
    }
    return made;
}

lwd_job_slot *lwd_job_slot_create(uint64_t generation) {
    lwd_job_slot *slot = aligned_alloc(64, sizeof(lwd_job_slot));
    if (!slot) return NULL;
    atomic_init(&slot->sequence, 0);
    atomic_init(&slot->ended_job, 0);
    atomic_init(&slot->ended_at, 0);
    atomic_init(&slot->priority, 0);
    atomic_init(&slot->flagged, 0);
    slot->generation = generation;
    return slot;
}

void lwd_job_slot_destroy(lwd_job_slot *slot) { free(slot); }

void lwd_job_slot_read(const lwd_job_slot *slot, lwd_job_slot_state *state) {
    state->sequence = atomic_load_explicit(&slot->sequence, memory_order_acquire);
    state->flagged = atomic_load_explicit(&slot->flagged, memory_order_relaxed);
    state->ended_job = atomic_load_explicit(&slot->ended_job, memory_order_acquire);
    state->ended_at = atomic_load_explicit(&slot->ended_at, memory_order_relaxed);
    state->priority = atomic_load_explicit(&slot->priority, memory_order_relaxed);
}

void lwd_job_slot_flag(lwd_job_slot *slot, uint64_t sequence) {
    atomic_store_explicit(&slot->flagged, sequence, memory_order_relaxed);
}

// The hot path: the worker is the only writer of these fields, so a load and a store (no
// read-modify-write) number the job; release stores are plain moves on x86.
static inline __attribute__((always_inline)) uint64_t slot_begin(lwd_job_slot *slot, uint8_t priority) {
    uint64_t sequence = atomic_load_explicit(&slot->sequence, memory_order_relaxed) + 1;
    atomic_store_explicit(&slot->priority, priority, memory_order_relaxed);
    atomic_store_explicit(&slot->sequence, sequence, memory_order_release);
    return sequence;
}

// A job the watchdog flagged gets its end time, stored before the sequence that ends it.
// A flag that arrives after the check is missed; the watchdog then takes the end from its
// ticks.
static inline __attribute__((always_inline)) void slot_end(lwd_job_slot *slot, uint64_t sequence, int64_t now) {
    if (__builtin_expect(atomic_load_explicit(&slot->flagged, memory_order_relaxed) == sequence, 0)) {
        atomic_store_explicit(&slot->ended_at, now ? now : lwd_monotonic_ns(), memory_order_relaxed);
        atomic_store_explicit(&slot->ended_job, sequence, memory_order_release);
    }
    atomic_store_explicit(&slot->sequence, sequence + 1, memory_order_release);
}

void lwd_job_slot_begin(lwd_job_slot *slot, uint8_t priority) {
    uint64_t sequence = atomic_load_explicit(&slot->sequence, memory_order_relaxed);
    if (sequence & 1) return;  // already begun
    (void)slot_begin(slot, priority);
}

void lwd_job_slot_end(lwd_job_slot *slot, int64_t now) {
    uint64_t sequence = atomic_load_explicit(&slot->sequence, memory_order_relaxed);
    if (!(sequence & 1)) return;  // not begun
    slot_end(slot, sequence, now);
}

// The calling worker's slot for the active watch: asks the registration callback when the
// thread has none or one of an older watch (rare: once per thread and watch).
static inline __attribute__((always_inline)) lwd_job_slot *worker_slot(void) {
    lwd_job_slot *slot = current_slot;
    uint64_t generation = atomic_load_explicit(&active_generation, memory_order_relaxed);
    if (__builtin_expect(slot != NULL && slot->generation == generation, 1)) return slot;
    if (slot == NULL && generation == 0) return NULL;
    lwd_job_register_callback registering = atomic_load_explicit(&register_callback, memory_order_acquire);
    slot = registering ? registering(generation) : NULL;
    current_slot = slot;
    return slot;
}

// Set while the watchdog sleeps long because nothing ran (see lwd_job_watch_set_resting):
// the first job to begin then wakes it, so that the job's start is seen at once.
static _Atomic int watchdog_resting;
static _Atomic(void (*)(void)) resting_wake;

void lwd_job_watch_set_resting(int resting, void (*wake)(void)) {
    if (wake) atomic_store_explicit(&resting_wake, wake, memory_order_release);
    atomic_store_explicit(&watchdog_resting, resting, memory_order_seq_cst);
}

// The first job to begin while the watchdog rests: wakes it, once.
static __attribute__((noinline, cold)) void wake_resting_watchdog_now(void) {
    if (atomic_exchange_explicit(&watchdog_resting, 0, memory_order_relaxed)) {
        void (*wake)(void) = atomic_load_explicit(&resting_wake, memory_order_acquire);
        if (wake) wake();
    }
}

// After a job began: one relaxed load while the watchdog is awake.
static inline __attribute__((always_inline)) void wake_resting_watchdog(void) {
    if (__builtin_expect(atomic_load_explicit(&watchdog_resting, memory_order_relaxed), 0)) {
        wake_resting_watchdog_now();
    }
}

// The dispatch function of every watched job.
static void run_watched_job(void *job) {
    lwd_job_slot *slot = worker_slot();
    if (__builtin_expect(slot == NULL, 0)) {
        swift_job_run(job, NULL, 0);
        return;
    }
    uint64_t sequence = slot_begin(slot, lwd_job_priority(job));
    wake_resting_watchdog();
    swift_job_run(job, NULL, 0);
    slot_end(slot, sequence, 0);
}

void lwd_job_watch_run_as_job(uint8_t priority, void (*body)(void *), void *context) {
    lwd_job_slot *slot = worker_slot();
    if (!slot) {
        body(context);
        return;
    }
    uint64_t sequence = slot_begin(slot, priority);
    wake_resting_watchdog();
    body(context);
    slot_end(slot, sequence, 0);
}

static LWD_SWIFTCALL void watched_enqueue(void *job, enqueue_original original) {
    enqueue_hook previous = atomic_load_explicit(&previous_enqueue, memory_order_acquire);
    if (previous) {
        previous(job, original);
        return;
    }
    lwd_dispatch_queue queue = atomic_load_explicit(&watching, memory_order_acquire)
        ? queue_for(lwd_job_priority(job)) : NULL;
    if (!queue) {
        original(job);
        return;
    }
    dispatch_async_f(queue, job, run_watched_job);
}

static void enqueue_after(lwd_dispatch_time when, void *job) {
    dispatch_after_f(when, queue_for(lwd_job_priority(job)), job, run_watched_job);
}

static LWD_SWIFTCALL void watched_enqueue_with_delay(unsigned long long delay, void *job, delay_original original) {
    delay_hook previous = atomic_load_explicit(&previous_delay, memory_order_acquire);
    if (previous) {
        previous(delay, job, original);
        return;
    }
    if (!atomic_load_explicit(&watching, memory_order_acquire) || !queue_for(lwd_job_priority(job))) {
        original(delay, job);
        return;
    }
    lwd_dispatch_time when = dispatch_time(0, delay > INT64_MAX ? INT64_MAX : (int64_t)delay);
    enqueue_after(when, job);
}

static LWD_SWIFTCALL void watched_enqueue_with_deadline(long long sec, long long nsec, long long tsec, long long tnsec,
                                                        int clock, void *job, deadline_original original) {
    deadline_hook previous = atomic_load_explicit(&previous_deadline, memory_order_acquire);
    if (previous) {
        previous(sec, nsec, tsec, tnsec, clock, job, original);
        return;
    }
    if (!atomic_load_explicit(&watching, memory_order_acquire) || !queue_for(lwd_job_priority(job))) {
        original(sec, nsec, tsec, tnsec, clock, job);
        return;
    }
    // The runtime's conversion: nanoseconds of the clock, the continuous clock marked; a
    // leeway (tsec, tnsec) is not applied, the job is due at its deadline.
    uint64_t value = (uint64_t)sec * 1000000000ULL + (uint64_t)nsec;
    lwd_dispatch_time when;
    if (sec < 0 || value >= LWD_DISPATCH_WALLTIME_MASK - 1) {
        when = LWD_DISPATCH_TIME_FOREVER;
    } else {
        when = clock == LWD_CLOCK_CONTINUOUS ? (value | LWD_DISPATCH_MONOTONIC_MASK) : value;
    }
    enqueue_after(when, job);
}

int lwd_job_watch_install(lwd_job_register_callback register_worker, uint64_t generation) {
    atomic_store_explicit(&register_callback, register_worker, memory_order_release);
    atomic_store_explicit(&active_generation, generation, memory_order_release);
    enqueue_hook current = atomic_load(&swift_task_enqueueGlobal_hook);
    if (current == watched_enqueue) {
        atomic_store(&watching, 1);
        return atomic_load(&previous_enqueue) ? 0 : -1;
    }
    // Each hook: remember what was there, then swap ours in; a hook installed between the
    // load and the swap is remembered instead.
    while (!atomic_compare_exchange_weak(&swift_task_enqueueGlobal_hook, &current, watched_enqueue)) {}
    atomic_store(&previous_enqueue, current);
    delay_hook delay = atomic_load(&swift_task_enqueueGlobalWithDelay_hook);
    while (delay != watched_enqueue_with_delay
           && !atomic_compare_exchange_weak(&swift_task_enqueueGlobalWithDelay_hook, &delay, watched_enqueue_with_delay)) {}
    if (delay != watched_enqueue_with_delay) atomic_store(&previous_delay, delay);
    deadline_hook deadline = atomic_load(&swift_task_enqueueGlobalWithDeadline_hook);
    while (deadline != watched_enqueue_with_deadline
           && !atomic_compare_exchange_weak(&swift_task_enqueueGlobalWithDeadline_hook, &deadline,
                                            watched_enqueue_with_deadline)) {}
    if (deadline != watched_enqueue_with_deadline) atomic_store(&previous_deadline, deadline);
    atomic_store(&watching, 1);
    return current ? 0 : 1;
}

void lwd_job_watch_uninstall(void) {
    atomic_store(&watching, 0);
    atomic_store(&active_generation, 0);
    enqueue_hook ours = watched_enqueue;
    if (atomic_compare_exchange_strong(&swift_task_enqueueGlobal_hook, &ours, atomic_load(&previous_enqueue))) {
        atomic_store(&previous_enqueue, NULL);
    }
    delay_hook our_delay = watched_enqueue_with_delay;
    if (atomic_compare_exchange_strong(&swift_task_enqueueGlobalWithDelay_hook, &our_delay, atomic_load(&previous_delay))) {
        atomic_store(&previous_delay, NULL);
    }
    deadline_hook our_deadline = watched_enqueue_with_deadline;
    if (atomic_compare_exchange_strong(&swift_task_enqueueGlobalWithDeadline_hook, &our_deadline,
                                       atomic_load(&previous_deadline))) {
        atomic_store(&previous_deadline, NULL);
    }
}

