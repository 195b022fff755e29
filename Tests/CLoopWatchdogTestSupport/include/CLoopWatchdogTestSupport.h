// CLoopWatchdogTestSupport: C helpers of the fault suite. Each exists because the thing it
// does must happen in C: a signal handler of another SIGPROF user, work inside fork()'s
// child before _exit, a thread parked inside malloc or inside dl_iterate_phdr's callback.
// Every symbol starts with `lwd_test_`.
#ifndef CLOOPWATCHDOG_TEST_SUPPORT_H
#define CLOOPWATCHDOG_TEST_SUPPORT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Flags shared with Swift threads

/// Reads a stop flag (relaxed atomic load).
int lwd_test_flag_is_raised(const int *flag);

/// Raises a stop flag (relaxed atomic store of 1).
void lwd_test_flag_raise(int *flag);

// MARK: - Another SIGPROF user: a setitimer(ITIMER_PROF) profiler

/// Installs the profiler's SIGPROF handler (SA_SIGINFO | SA_RESTART), replacing whatever
/// is there without chaining, as a simple profiler does. Returns 0 or -errno.
int lwd_test_profiler_install(void);

/// 1 when the profiler's handler is the one installed for SIGPROF now.
int lwd_test_profiler_is_installed(void);

/// Starts ITIMER_PROF with the given period: the kernel sends SIGPROF (si_code SI_KERNEL)
/// to a thread that consumes CPU. Returns 0 or -errno.
int lwd_test_profiler_start(int64_t period_us);

/// Stops the timer. Returns 0 or -errno.
int lwd_test_profiler_stop(void);

/// What the profiler's handler saw: every SIGPROF, and those sent by this process with
/// tgkill or pidfd_send_signal (a watchdog's, which a profiler must never see).
void lwd_test_profiler_counts(uint64_t *total, uint64_t *from_this_process);

// MARK: - Threads in delicate places

/// Blocks (1) or unblocks (0) SIGPROF on the calling thread. Returns 0 or -errno.
int lwd_test_block_sigprof(int block);

/// Spins until `stop` is raised, blocking and unblocking SIGPROF every ~50 us.
void lwd_test_flap_sigprof_mask(const int *stop);

/// Allocates and frees blocks of random sizes until `stop` is raised: the thread spends
/// most of its time inside malloc and free. Returns the number of rounds.
uint64_t lwd_test_hammer_malloc(const int *stop);

/// Calls dl_iterate_phdr with a callback that spins ~100 us per loaded object until `stop`
/// is raised: the thread spends most of its time inside the callback, holding the
/// dynamic loader's lock. Returns the number of iterations.
uint64_t lwd_test_iterate_phdr_slowly(const int *stop);

/// The slow callback itself (exported so that stacks can name it).
struct dl_phdr_info;
int lwd_test_slow_phdr_callback(struct dl_phdr_info *info, unsigned long size, void *data);

// MARK: - fork

/// Forks. The child, which has only the forking thread, arms alarm(guard_seconds) as a
/// deadlock guard, captures its own stack by signal with lwd_capture_by_signal and
/// _exits with 0 on success or 10 + the capture status. Nothing else runs in the child.
/// Returns the child's exit status, 128 + the signal that killed it, or -errno.
int lwd_test_fork_and_capture_in_child(unsigned guard_seconds);

// MARK: - Sanitizers

/// 1 under ThreadSanitizer, 2 under AddressSanitizer, 0 otherwise.
int lwd_test_sanitizer(void);

/// Installs a hook on the global executor that counts each job and hands it to the runtime,
/// if no hook is installed. Returns 1 when installed.
int lwd_test_counting_hook_install(void);
/// Removes that hook if it is still the one installed. Returns 1 when removed.
int lwd_test_counting_hook_uninstall(void);
/// Jobs the counting hook saw.
uint64_t lwd_test_counting_hook_count(void);
/// The global-enqueue hook installed now (NULL: none).
const void *lwd_test_enqueue_hook(void);

#ifdef __cplusplus
}
#endif

/// Waits in epoll_wait until `fd` is readable, as an event loop waits for work. Returns the
/// number of ready descriptors, or -errno.
int lwd_test_wait_in_epoll(int fd);

/// Installs a seccomp filter on the calling thread (inherited by the threads it starts
/// later) that fails each system call in `numbers` with EPERM. Returns 0 or -errno.
int lwd_test_deny_syscalls(const int *numbers, int count);

/// Masks /proc for this process (a private mount namespace, an empty tmpfs over /proc), as
/// some containers do. Call before any thread starts. Returns 0 or -errno.
int lwd_test_mask_proc(void);

/// Keeps the calling thread on the first CPU it may run on now. Returns 0 or -errno.
int lwd_test_pin_to_first_cpu(void);

/// Creates pthread keys until none is left (for a child process: they are never deleted).
/// Returns how many were created.
int lwd_test_exhaust_pthread_keys(void);

#endif
