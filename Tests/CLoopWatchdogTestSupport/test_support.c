// C helpers of the fault suite; see CLoopWatchdogTestSupport.h for why each is C.
#include "CLoopWatchdogTestSupport.h"
#include "CLoopWatchdog.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <unistd.h>

int lwd_test_flag_is_raised(const int *flag) { return __atomic_load_n(flag, __ATOMIC_RELAXED); }

void lwd_test_flag_raise(int *flag) { __atomic_store_n(flag, 1, __ATOMIC_RELAXED); }

// MARK: profiler

static _Atomic uint64_t profiler_total;
static _Atomic uint64_t profiler_from_this_process;

// Async-signal-safe: getpid, atomics, errno saved.
static void profiler_handler(int signo, siginfo_t *info, void *context) {
    (void)signo;
    (void)context;
    int saved = errno;
    atomic_fetch_add(&profiler_total, 1);
    if (info != NULL && (info->si_code == SI_TKILL || info->si_code == SI_USER) && info->si_pid == getpid()) {
        atomic_fetch_add(&profiler_from_this_process, 1);
    }
    errno = saved;
}

int lwd_test_profiler_install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = profiler_handler;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    return sigaction(SIGPROF, &action, NULL) == 0 ? 0 : -errno;
}

int lwd_test_profiler_is_installed(void) {
    struct sigaction current;
    if (sigaction(SIGPROF, NULL, &current) != 0) return 0;
    return (current.sa_flags & SA_SIGINFO) && current.sa_sigaction == profiler_handler;
}

int lwd_test_profiler_start(int64_t period_us) {
    struct itimerval timer;
    timer.it_interval.tv_sec = period_us / 1000000;
    timer.it_interval.tv_usec = period_us % 1000000;
    timer.it_value = timer.it_interval;
    return setitimer(ITIMER_PROF, &timer, NULL) == 0 ? 0 : -errno;
}

int lwd_test_profiler_stop(void) {
    struct itimerval timer;
    memset(&timer, 0, sizeof timer);
    return setitimer(ITIMER_PROF, &timer, NULL) == 0 ? 0 : -errno;
}

void lwd_test_profiler_counts(uint64_t *total, uint64_t *from_this_process) {
    *total = atomic_load(&profiler_total);
    *from_this_process = atomic_load(&profiler_from_this_process);
}

// MARK: threads in delicate places

int lwd_test_block_sigprof(int block) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPROF);
    int rc = pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
    return -rc;
}

static void spin_for_ns(int64_t ns) {
    int64_t end = lwd_monotonic_ns() + ns;
    while (lwd_monotonic_ns() < end) {}
}

void lwd_test_flap_sigprof_mask(const int *stop) {
    while (!lwd_test_flag_is_raised(stop)) {
        lwd_test_block_sigprof(1);
        spin_for_ns(50000);
        lwd_test_block_sigprof(0);
        spin_for_ns(50000);
    }
}

__attribute__((noinline)) uint64_t lwd_test_hammer_malloc(const int *stop) {
    enum { BLOCKS = 64 };
    void *blocks[BLOCKS] = {0};
    unsigned seed = 12345;
    uint64_t rounds = 0;
    while (!lwd_test_flag_is_raised(stop)) {
        for (int i = 0; i < BLOCKS; i++) {
            free(blocks[i]);
            size_t size = 16 + (size_t)(rand_r(&seed) % 8192);
            blocks[i] = malloc(size);
            if (blocks[i] != NULL) ((volatile char *)blocks[i])[0] = (char)i;
        }
        rounds++;
    }
    for (int i = 0; i < BLOCKS; i++) free(blocks[i]);
    return rounds;
}

__attribute__((noinline)) int lwd_test_slow_phdr_callback(struct dl_phdr_info *info, unsigned long size, void *data) {
    (void)info;
    (void)size;
    (void)data;
    spin_for_ns(100000);
    return 0;
}

static int slow_callback_adapter(struct dl_phdr_info *info, size_t size, void *data) {
    return lwd_test_slow_phdr_callback(info, size, data);
}

__attribute__((noinline)) uint64_t lwd_test_iterate_phdr_slowly(const int *stop) {
    uint64_t iterations = 0;
    while (!lwd_test_flag_is_raised(stop)) {
        dl_iterate_phdr(slow_callback_adapter, NULL);
        iterations++;
    }
    return iterations;
}

// MARK: fork

int lwd_test_fork_and_capture_in_child(unsigned guard_seconds) {
    pid_t child = fork();
    if (child < 0) return -errno;
    if (child == 0) {
        // The forking thread may block SIGALRM (test runners' pool threads block most
        // signals); the guard must be able to end the child.
        sigset_t alarm_only;
        sigemptyset(&alarm_only);
        sigaddset(&alarm_only, SIGALRM);
        sigprocmask(SIG_UNBLOCK, &alarm_only, NULL);
        signal(SIGALRM, SIG_DFL);
        alarm(guard_seconds);
        uintptr_t frames[64];
        int32_t count = 0, error = 0;
        int64_t interrupted = 0;
        lwd_capture_status status =
            lwd_capture_by_signal(lwd_gettid(), -1, 1000000000LL, frames, NULL, 64, &count, &interrupted, &error);
        _exit(status == LWD_CAPTURE_OK && count > 0 ? 0 : 10 + (int)status);
    }
    int wstatus = 0;
    while (waitpid(child, &wstatus, 0) < 0) {
        if (errno != EINTR) return -errno;
    }
    if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
    return -EPROTO;
}

// MARK: sanitizers

int lwd_test_sanitizer(void) {
    if (dlsym(RTLD_DEFAULT, "__tsan_init") != NULL) return 1;
    if (dlsym(RTLD_DEFAULT, "__asan_init") != NULL) return 2;
    return 0;
}

// MARK: - A second user of the global-enqueue hook

#define LWD_TEST_SWIFTCALL __attribute__((swiftcall))
typedef LWD_TEST_SWIFTCALL void (*test_enqueue_original)(void *job);
typedef LWD_TEST_SWIFTCALL void (*test_enqueue_hook)(void *job, test_enqueue_original original);
extern _Atomic(test_enqueue_hook) swift_task_enqueueGlobal_hook;

static _Atomic uint64_t counted_jobs;

// Counts each job and hands it to the runtime, as a well-behaved other hook would.
static LWD_TEST_SWIFTCALL void counting_hook(void *job, test_enqueue_original original) {
    atomic_fetch_add(&counted_jobs, 1);
    original(job);
}

int lwd_test_counting_hook_install(void) {
    test_enqueue_hook expected = NULL;
    return atomic_compare_exchange_strong(&swift_task_enqueueGlobal_hook, &expected, counting_hook) ? 1 : 0;
}

int lwd_test_counting_hook_uninstall(void) {
    test_enqueue_hook expected = counting_hook;
    return atomic_compare_exchange_strong(&swift_task_enqueueGlobal_hook, &expected, NULL) ? 1 : 0;
}

uint64_t lwd_test_counting_hook_count(void) {
    return atomic_load(&counted_jobs);
}

const void *lwd_test_enqueue_hook(void) {
    return (const void *)atomic_load(&swift_task_enqueueGlobal_hook);
}

int lwd_test_wait_in_epoll(int fd) {
    int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0) return -errno;
    struct epoll_event interest = {.events = EPOLLIN, .data = {.fd = fd}};
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &interest) != 0) {
        int error = errno;
        close(epoll_fd);
        return -error;
    }
    struct epoll_event ready;
    int count;
    do {
        count = epoll_wait(epoll_fd, &ready, 1, -1);
    } while (count < 0 && errno == EINTR);
    close(epoll_fd);
    return count;
}

// A seccomp filter for the calling thread (and the threads it starts later) that fails each
// of `numbers` with EPERM, as a container's profile denies a system call.
int lwd_test_deny_syscalls(const int *numbers, int count) {
    if (count < 0 || count > 16) return -EINVAL;
    struct sock_filter filter[4 + 2 * 16 + 1];
    int n = 0;
    filter[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    filter[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    filter[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (int i = 0; i < count; i++) {
        filter[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)numbers[i], 0, 1);
        filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
    }
    filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog program = {.len = (unsigned short)n, .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) return -errno;
    return 0;
}

// Masks /proc for this process, as some containers do: a private mount namespace with an
// empty read-only tmpfs over /proc. Call before any thread starts.
int lwd_test_mask_proc(void) {
    if (unshare(CLONE_NEWNS) != 0) return -errno;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return -errno;
    if (mount("none", "/proc", "tmpfs", MS_RDONLY, NULL) != 0) return -errno;
    return 0;
}

int lwd_test_pin_to_first_cpu(void) {
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return -errno;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &allowed)) continue;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        return sched_setaffinity(0, sizeof one, &one) == 0 ? 0 : -errno;
    }
    return -ESRCH;
}

int lwd_test_exhaust_pthread_keys(void) {
    int created = 0;
    pthread_key_t key;
    while (pthread_key_create(&key, NULL) == 0) created++;
    return created;
}
