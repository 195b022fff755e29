// Capture by signal: the SIGPROF handler and its handshake with the watchdog thread.
//
// Handshake (one request at a time, serialised by capture_lock on the watchdog side):
//
//   watchdog                                   target thread (in the handler)
//   --------                                   ------------------------------
//   slot.target = tid; state = REQUESTED
//   pidfd_send_signal / tgkill  ------------>  ours? si_code SI_TKILL/SI_USER, si_pid ours,
//                                              slot.target == gettid(), CAS REQUESTED->CLAIMED
//   futex_wait(state, timeout)                 unw_init_local2(ucontext, SIGNAL_FRAME)
//                                              unw_step into slot.frames (preallocated)
//                                   <--------  state = DONE; futex_wake
//   copy frames; state = IDLE
//   on timeout: CAS REQUESTED->IDLE cancels; a signal that arrives later finds no request
//   and is dropped (late_budget, for LATE_WINDOW_NS), never forwarded as if it were
//   someone else's.
//
// Async-signal safety of handle_sigprof, call by call (review this list with every change):
//   - errno: saved on entry, restored on every exit path.
//   - getpid(), syscall(SYS_gettid), syscall(SYS_futex, FUTEX_WAKE): plain system calls,
//     async-signal-safe by POSIX (getpid) or by being raw syscalls without libc state.
//   - clock_gettime(CLOCK_MONOTONIC), through lwd_monotonic_ns: async-signal-safe
//     (POSIX.1-2008); a vDSO read.
//   - C11 atomics on lock-free words (the _Static_asserts below): no locks.
//   - the slot: a static array, preallocated; the handler writes it only after winning the
//     CAS REQUESTED->CLAIMED, and the watchdog reads it only after seeing DONE.
//   - libunwind's local unwinder (unw_init_local2, unw_get_reg, unw_step) with
//     UNW_LOCAL_ONLY: documented by libunwind as async-signal-safe. It allocates nothing
//     from malloc (its caches live in static memory and mmap'd pools), and finds unwind
//     tables with dl_iterate_phdr, whose loader lock is recursive: a thread interrupted
//     inside dl_iterate_phdr re-enters it safely (tested: CaptureTests, "inside
//     dl_iterate_phdr"); a thread interrupted inside malloc is never asked to malloc
//     again (tested: "inside malloc").
//   - the previous handler (forward): whatever was installed before us; it was written to
//     run in signal context, and we call it exactly as the kernel would have. With no
//     previous handler, a SIGPROF from another process gets the default action back
//     (sigaction, raise: async-signal-safe), as it would without the watchdog.
// Nothing in the handler takes a lock, allocates, formats text or touches stdio.
//
// fork(): a child inherits the handler and this file's statics, but not the watchdog
// thread. If the fork happened while a capture was in flight, capture_lock would stay
// locked forever and the slot would stay REQUESTED in the child. A pthread_atfork child
// handler (registered by lwd_signal_capture_install) puts every lock and the slot back
// to their initial state; the handler stays installed in the child and keeps forwarding
// SIGPROFs that are not ours (exec resets it to the default, as for every handler).
#include "CLoopWatchdog.h"
#include "fork_safety.h"

#include <errno.h>
#include <libunwind.h>
#include <linux/futex.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum {
    SLOT_IDLE = 0,
    SLOT_REQUESTED = 1,
    SLOT_CLAIMED = 2,
    SLOT_DONE = 3,
};

// The one request slot. `state` is the futex word.
static struct {
    _Atomic uint32_t state;
    _Atomic pid_t target;
    int32_t max_frames;
    int32_t count;
    int32_t unwind_error;
    int64_t entered_ns;
    int64_t left_ns;
    uintptr_t frames[LWD_MAX_FRAMES];
    lwd_frame_registers registers[LWD_MAX_FRAMES];
} slot;

_Static_assert(sizeof(uint32_t) == 4, "futex words are 32 bits");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the handler needs lock-free atomics");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "the handler needs lock-free atomics");

static pthread_mutex_t capture_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction previous_action;
static _Atomic int installed;
// Requests cancelled after their signal was sent: that many SIGPROFs from ourselves may
// still arrive with no request waiting, and must be dropped. Only until late_until_ns:
// a cancelled signal that never arrives (its thread exited, or something else consumed
// it) must not make us swallow another in-process SIGPROF user's signal much later.
static _Atomic uint64_t late_budget;
static _Atomic int64_t late_until_ns;
// How long after a cancellation a stray signal of ours is still expected.
#define LATE_WINDOW_NS (10LL * 1000000000LL)
static int atfork_registered;
static _Atomic uint64_t count_ours;
static _Atomic uint64_t count_forwarded;
static _Atomic uint64_t count_late;

static long futex(_Atomic uint32_t *word, int op, uint32_t value, const struct timespec *timeout) {
    return syscall(SYS_futex, (uint32_t *)word, op, value, timeout, NULL, 0);
}


// Unwinds the interrupted context into slot.frames. Frame 0 is the exact interrupted PC.
static void unwind_into_slot(void *context) {
    unw_cursor_t cursor;
    int count = 0;
    int rc = unw_init_local2(&cursor, (unw_context_t *)context, UNW_INIT_SIGNAL_FRAME);
    if (rc < 0) {
        slot.unwind_error = -rc;
        slot.count = 0;
        return;
    }
    do {
        unw_word_t ip = 0;
        if (unw_get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0) break;
        // Where an async function keeps its context (async_chain.c): read from the cursor,
        // which already holds them; 0 when the unwinder does not know the value.
        unw_word_t frame_pointer = 0, r14 = 0;
        if (unw_get_reg(&cursor, UNW_X86_64_RBP, &frame_pointer) < 0) frame_pointer = 0;
        if (unw_get_reg(&cursor, UNW_X86_64_R14, &r14) < 0) r14 = 0;
        slot.registers[count] = (lwd_frame_registers){(uintptr_t)frame_pointer, (uintptr_t)r14};
        slot.frames[count++] = (uintptr_t)ip;
    } while (count < slot.max_frames && unw_step(&cursor) > 0);
    slot.unwind_error = 0;
    slot.count = count;
}

// Hands a SIGPROF that is not ours to whoever had SIGPROF before us.
static void forward(int signo, siginfo_t *info, void *context) {
    if (previous_action.sa_flags & SA_SIGINFO) {
        if (previous_action.sa_sigaction) {
            atomic_fetch_add(&count_forwarded, 1);
            previous_action.sa_sigaction(signo, info, context);
        }
        return;
    }
    if (previous_action.sa_handler == SIG_IGN) return;
    if (previous_action.sa_handler == SIG_DFL) {
        // Sent from another process (`kill -PROF`): without the watchdog, SIGPROF's default
        // action ends the process, and so it does now. The default is put back and the
        // signal raised again; it is delivered, and terminates, once this handler returns
        // (SIGPROF is blocked while it runs). sigaction and raise are async-signal-safe.
        // Anything else (sent from this process, or by the kernel) may be a late signal of
        // ours, and is dropped: the host opted into the watchdog, not into dying of it.
        if (info != NULL && info->si_code == SI_USER && info->si_pid != getpid()) {
            struct sigaction default_action;
            memset(&default_action, 0, sizeof default_action);
            default_action.sa_handler = SIG_DFL;
            sigemptyset(&default_action.sa_mask);
            sigaction(SIGPROF, &default_action, NULL);
            raise(SIGPROF);
        }
        return;
    }
    atomic_fetch_add(&count_forwarded, 1);
    previous_action.sa_handler(signo);
}

static void handle_sigprof(int signo, siginfo_t *info, void *context) {
    int saved_errno = errno;
    int from_this_process = info != NULL && (info->si_code == SI_TKILL || info->si_code == SI_USER) &&
                            info->si_pid == getpid();
    if (from_this_process) {
        pid_t self = (pid_t)syscall(SYS_gettid);
        uint32_t expected = SLOT_REQUESTED;
        if (atomic_load(&slot.target) == self &&
            atomic_compare_exchange_strong(&slot.state, &expected, SLOT_CLAIMED)) {
            slot.entered_ns = lwd_monotonic_ns();
            unwind_into_slot(context);
            slot.left_ns = lwd_monotonic_ns();
            atomic_fetch_add(&count_ours, 1);
            atomic_store(&slot.state, SLOT_DONE);
            futex(&slot.state, FUTEX_WAKE_PRIVATE, 1, NULL);
            errno = saved_errno;
            return;
        }
        uint64_t budget = lwd_monotonic_ns() < atomic_load(&late_until_ns) ? atomic_load(&late_budget) : 0;
        while (budget > 0) {
            if (atomic_compare_exchange_weak(&late_budget, &budget, budget - 1)) {
                atomic_fetch_add(&count_late, 1);
                errno = saved_errno;
                return;
            }
        }
    }
    forward(signo, info, context);
    errno = saved_errno;
}

// Runs libunwind once on this thread: its first use costs 150-260 us of one-time set-up
// that must not land inside a capture.
static void warm_up_unwinder(void) {
    unw_context_t context;
    unw_cursor_t cursor;
    if (unw_getcontext(&context) != 0) return;
    if (unw_init_local(&cursor, &context) != 0) return;
    int steps = 0;
    while (steps++ < 64 && unw_step(&cursor) > 0) {}
}

// pthread_atfork child handler: the child has only the thread that forked, so no capture
// is in flight there whatever the parent was doing; put every lock and the slot back to
// their initial state. Runs in the child before fork() returns; touches only this file's
// statics and the unwinder's.
static void reset_after_fork_in_child(void) {
    static const pthread_mutex_t initial = PTHREAD_MUTEX_INITIALIZER;
    memcpy(&capture_lock, &initial, sizeof initial);
    memcpy(&install_lock, &initial, sizeof initial);
    atomic_store(&slot.target, 0);
    atomic_store(&slot.state, SLOT_IDLE);
    atomic_store(&late_budget, 0);
    atomic_store(&late_until_ns, 0);
    lwd_parked_unwind_reset_after_fork();
    lwd_async_chain_reset_after_fork();
}

int lwd_signal_capture_install(void) {
    pthread_mutex_lock(&install_lock);
    if (atomic_load(&installed)) {
        pthread_mutex_unlock(&install_lock);
        return 0;
    }
    if (!atfork_registered) {
        // Before the handler goes in, so that no fork can see one without the other.
        int rc = pthread_atfork(NULL, NULL, reset_after_fork_in_child);
        if (rc != 0) {
            pthread_mutex_unlock(&install_lock);
            return -rc;
        }
        atfork_registered = 1;
    }
    warm_up_unwinder();
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = handle_sigprof;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    // previous_action is written before our handler can run, and never again.
    if (sigaction(SIGPROF, &action, &previous_action) != 0) {
        int saved = errno;
        pthread_mutex_unlock(&install_lock);
        return -saved;
    }
    atomic_store(&installed, 1);
    pthread_mutex_unlock(&install_lock);
    return 0;
}

int lwd_signal_capture_is_installed(void) {
    if (!atomic_load(&installed)) return 0;
    struct sigaction current;
    if (sigaction(SIGPROF, NULL, &current) != 0) return 0;
    return (current.sa_flags & SA_SIGINFO) && current.sa_sigaction == handle_sigprof;
}

void lwd_signal_counters_read(lwd_signal_counters *counters) {
    counters->ours = atomic_load(&count_ours);
    counters->forwarded = atomic_load(&count_forwarded);
    counters->late_ours_dropped = atomic_load(&count_late);
}

// Records that one signal of ours may still arrive with no request waiting.
static void expect_late_signal(void) {
    int64_t now = lwd_monotonic_ns();
    if (now >= atomic_load(&late_until_ns)) atomic_store(&late_budget, 0);
    atomic_fetch_add(&late_budget, 1);
    atomic_store(&late_until_ns, now + LATE_WINDOW_NS);
}

// Set once pidfd_send_signal failed with EPERM or ENOSYS (a seccomp profile, an old
// kernel): signals go by thread id from then on.
static _Atomic int pidfd_signals_refused;

static int send_sigprof(pid_t tid, int pidfd) {
#ifdef SYS_pidfd_send_signal
    if (pidfd >= 0 && !atomic_load(&pidfd_signals_refused)) {
        if (syscall(SYS_pidfd_send_signal, pidfd, SIGPROF, NULL, 0) == 0) return 0;
        if (errno != EPERM && errno != ENOSYS) return -errno;
        atomic_store(&pidfd_signals_refused, 1);
    }
#endif
    if (syscall(SYS_tgkill, getpid(), tid, SIGPROF) == 0) return 0;
    return -errno;
}

// How long the watchdog polls the slot before it sleeps on the futex. The handler usually
// finishes within a few microseconds of the signal (3 µs of unwinding on the benchmark VM),
// while a futex sleep and wake-up costs tens of microseconds on a virtual machine.
#define SPIN_BEFORE_SLEEP_NS 40000LL

// Of which the first part is a plain busy poll (the handler's usual time), the rest yields
// the CPU at each turn.
#define BUSY_POLL_NS 10000LL

// Waits until the slot leaves `from` or `deadline` passes. Returns the state seen last.
// Polls first, for at most SPIN_BEFORE_SLEEP_NS; after BUSY_POLL_NS it yields the CPU at
// each turn, so that a target that is runnable on this CPU runs rather than waits for the
// poll to end.
static uint32_t wait_while(uint32_t from, int64_t deadline) {
    int64_t start = lwd_monotonic_ns();
    int64_t spin_until = start + SPIN_BEFORE_SLEEP_NS;
    if (spin_until > deadline) spin_until = deadline;
    for (;;) {
        uint32_t state = atomic_load(&slot.state);
        if (state != from) return state;
        int64_t now = lwd_monotonic_ns();
        if (now >= spin_until) break;
        if (now - start < BUSY_POLL_NS) {
            __builtin_ia32_pause();
        } else {
            sched_yield();
        }
    }
    for (;;) {
        uint32_t state = atomic_load(&slot.state);
        if (state != from) return state;
        int64_t remaining = deadline - lwd_monotonic_ns();
        if (remaining <= 0) return state;
        struct timespec timeout = {remaining / 1000000000LL, remaining % 1000000000LL};
        futex(&slot.state, FUTEX_WAIT_PRIVATE, from, &timeout);
    }
}

lwd_capture_status lwd_capture_by_signal(pid_t tid, int pidfd, int64_t timeout_ns,
                                         uintptr_t *frames, lwd_frame_registers *registers,
                                         int32_t max_frames, int32_t *count,
                                         int64_t *interrupted_ns, int32_t *error) {
    *count = 0;
    *interrupted_ns = 0;
    *error = 0;
    if (!lwd_signal_capture_is_installed()) return LWD_CAPTURE_NOT_INSTALLED;
    pthread_mutex_lock(&capture_lock);
    if (atomic_load(&slot.state) == SLOT_CLAIMED) {
        pthread_mutex_unlock(&capture_lock);
        return LWD_CAPTURE_BUSY;
    }
    slot.max_frames = max_frames < LWD_MAX_FRAMES ? max_frames : LWD_MAX_FRAMES;
    slot.count = 0;
    slot.unwind_error = 0;
    atomic_store(&slot.target, tid);
    atomic_store(&slot.state, SLOT_REQUESTED);

    int sent = send_sigprof(tid, pidfd);
    if (sent != 0) {
        atomic_store(&slot.state, SLOT_IDLE);
        pthread_mutex_unlock(&capture_lock);
        *error = -sent;
        return sent == -ESRCH ? LWD_CAPTURE_THREAD_GONE : LWD_CAPTURE_SEND_FAILED;
    }

    int64_t deadline = lwd_monotonic_ns() + timeout_ns;
    uint32_t state = wait_while(SLOT_REQUESTED, deadline);
    if (state == SLOT_REQUESTED) {
        uint32_t expected = SLOT_REQUESTED;
        if (atomic_compare_exchange_strong(&slot.state, &expected, SLOT_IDLE)) {
            atomic_store(&slot.target, 0);
            // A thread that died with the signal pending will never consume it. Asked
            // through the pidfd where there is one: the tid may already name a new thread.
            int alive = pidfd >= 0 ? lwd_thread_pidfd_alive(pidfd) : lwd_thread_alive(tid);
            if (alive) expect_late_signal();
            pthread_mutex_unlock(&capture_lock);
            return alive ? LWD_CAPTURE_TIMED_OUT : LWD_CAPTURE_THREAD_GONE;
        }
        state = expected;
    }
    if (state == SLOT_CLAIMED) {
        // The handler is running; unwinding is bounded, so give it a short grace period.
        state = wait_while(SLOT_CLAIMED, lwd_monotonic_ns() + 1000000000LL);
        if (state == SLOT_CLAIMED) {
            pthread_mutex_unlock(&capture_lock);
            return LWD_CAPTURE_BUSY;
        }
    }
    // DONE: the handler has finished with the slot.
    int32_t captured = slot.count;
    if (captured > max_frames) captured = max_frames;
    memcpy(frames, slot.frames, (size_t)captured * sizeof(uintptr_t));
    if (registers != NULL) memcpy(registers, slot.registers, (size_t)captured * sizeof(lwd_frame_registers));
    *count = captured;
    *interrupted_ns = slot.left_ns - slot.entered_ns;
    int32_t unwind_error = slot.unwind_error;
    atomic_store(&slot.target, 0);
    atomic_store(&slot.state, SLOT_IDLE);
    pthread_mutex_unlock(&capture_lock);
    if (captured == 0) {
        *error = unwind_error;
        return LWD_CAPTURE_UNWIND_FAILED;
    }
    return LWD_CAPTURE_OK;
}
