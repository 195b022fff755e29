// Thread identity and stack helpers, each syscall wrapped once.
#include "CLoopWatchdog.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD 0x80 /* O_EXCL; Linux 6.9 */
#endif

// gettid() without depending on the glibc version that added the wrapper.
pid_t lwd_gettid(void) { return (pid_t)syscall(SYS_gettid); }

// A pidfd for the calling thread, so later signals cannot reach a recycled tid.
int lwd_open_thread_pidfd(void) {
#ifdef SYS_pidfd_open
    long fd = syscall(SYS_pidfd_open, lwd_gettid(), PIDFD_THREAD);
    return fd < 0 ? -errno : (int)fd;
#else
    return -ENOSYS;
#endif
}

// close() that tolerates the -errno values lwd_open_thread_pidfd returns.
void lwd_close_fd(int fd) {
    if (fd >= 0) close(fd);
}

// The stack of the calling thread, used to bound signal-free reads of it later.
int lwd_current_stack_bounds(uintptr_t *low, uintptr_t *high) {
    pthread_attr_t attr;
    int rc = pthread_getattr_np(pthread_self(), &attr);
    if (rc != 0) return -rc;
    void *address = NULL;
    size_t size = 0;
    rc = pthread_attr_getstack(&attr, &address, &size);
    pthread_attr_destroy(&attr);
    if (rc != 0) return -rc;
    *low = (uintptr_t)address;
    *high = (uintptr_t)address + size;
    return 0;
}

// pthread_getname_np for the calling thread, so that a loop can be named after its thread.
int lwd_current_thread_name(char *buffer, size_t capacity) {
    if (capacity == 0) return -EINVAL;
    int rc = pthread_getname_np(pthread_self(), buffer, capacity);
    if (rc != 0) {
        buffer[0] = '\0';
        return -rc;
    }
    return 0;
}

// Signal 0 through tgkill probes existence without delivering anything.
int lwd_thread_alive(pid_t tid) {
    long rc = syscall(SYS_tgkill, getpid(), tid, 0);
    return rc == 0 || errno != ESRCH;
}

// The per-thread CPU clock id that pthread_getcpuclockid would give for `tid`:
// MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED) in the kernel's terms.
int64_t lwd_thread_cpu_ns(pid_t tid) {
    clockid_t clock = (clockid_t)((~(unsigned)tid) << 3) | 6;
    struct timespec now;
    if (clock_gettime(clock, &now) != 0) return -1;
    return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

int lwd_set_current_thread_timer_slack(uint64_t nanoseconds) {
    return prctl(PR_SET_TIMERSLACK, (unsigned long)nanoseconds, 0, 0, 0) == 0 ? 0 : -errno;
}

int lwd_open_sentinel_eventfd(void) {
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return fd >= 0 ? fd : -errno;
}

// Signal 0 through the thread's own pidfd: unlike a tid, it cannot name a newer thread.
int lwd_process_vm_readv_works(void) {
    static const char source[8] = "lwd-test";
    char copy[8];
    struct iovec local = {copy, sizeof copy};
    struct iovec remote = {(void *)source, sizeof source};
    ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    return n == (ssize_t)sizeof copy ? 0 : -errno;
}

int lwd_pidfd_signals_work(void) {
#ifdef SYS_pidfd_send_signal
    int pidfd = lwd_open_thread_pidfd();
    if (pidfd < 0) return pidfd;
    long rc = syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0);
    int error = rc == 0 ? 0 : -errno;
    close(pidfd);
    return error;
#else
    return -ENOSYS;
#endif
}

int lwd_thread_pidfd_alive(int pidfd) {
#ifdef SYS_pidfd_send_signal
    long rc = syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0);
    return rc == 0 || errno != ESRCH;
#else
    (void)pidfd;
    return 1;
#endif
}

// One clock for the whole package, readable from C and Swift alike.
int64_t lwd_monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

// pthread_setname_np for the calling thread (Swift's Glibc does not export it).
void lwd_set_current_thread_name(const char *name) {
    char truncated[16];
    size_t i = 0;
    for (; name[i] != '\0' && i < sizeof truncated - 1; i++) truncated[i] = name[i];
    truncated[i] = '\0';
    pthread_setname_np(pthread_self(), truncated);
}
