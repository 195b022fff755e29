// CLoopWatchdog: the parts of LoopWatchdog that must be C.
//
// - the SIGPROF handler and the request/acknowledge handshake with the watchdog thread
//   (libunwind's API is made of macros that Swift cannot import, and a signal handler must
//   touch only async-signal-safe code and preallocated memory);
// - the signal-free unwinder for threads parked in a system call;
// - small wrappers over /proc and thread syscalls, each wrapped once.
//
// Every symbol starts with `lwd_`. Functions return 0 or a positive count on success and a
// negative errno-style value on failure unless their comment says otherwise.
#ifndef CLOOPWATCHDOG_H
#define CLOOPWATCHDOG_H

// LoopWatchdog supports Linux on x86_64 only: the syscall numbers of proc.c, the register
// and frame layout of parked_unwind.c and the architecture the symbolicator names are
// x86_64's. Fail here, at build time, rather than capture wrong stacks elsewhere.
#if !defined(__linux__) || !defined(__x86_64__)
#error "LoopWatchdog supports Linux on x86_64 only (see CLoopWatchdog.h)"
#endif

#include <pthread.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Most frames one capture records.
#define LWD_MAX_FRAMES 256

// MARK: - Threads

/// The calling thread's kernel thread id (gettid).
pid_t lwd_gettid(void);

/// Opens a pidfd that names exactly the calling thread (pidfd_open with PIDFD_THREAD,
/// Linux 6.9+). Returns the fd, or -errno where the kernel lacks it; callers then fall back
/// to tgkill. A pidfd closes the tid-reuse race: a signal sent through it after the thread
/// exited fails with ESRCH instead of reaching a new thread with the same tid.
int lwd_open_thread_pidfd(void);

/// Closes an fd opened by lwd_open_thread_pidfd. Ignores negative fds.
void lwd_close_fd(int fd);

/// The calling thread's stack range [low, high). Returns 0 or -errno.
int lwd_current_stack_bounds(uintptr_t *low, uintptr_t *high);

/// Names the calling thread (at most 15 bytes are kept), as `top` and debuggers show it.
void lwd_set_current_thread_name(const char *name);

/// Copies the calling thread's name (at most 15 bytes, NUL-terminated) into `buffer`, which
/// holds `capacity` bytes (16 is enough). Returns 0 or -errno.
int lwd_current_thread_name(char *buffer, size_t capacity);

/// True (1) when thread `tid` of this process still exists, 0 when it does not. After the
/// thread exits, a new thread may get the same tid: prefer lwd_thread_pidfd_alive.
int lwd_thread_alive(pid_t tid);

/// CPU time of thread `tid` of this process (user + system, nanoseconds, exact: the
/// scheduler's own sum), read from any thread through the thread's CPU clock; -1 when the
/// thread is gone. Unchanged between two reads exactly when the thread did not run.
int64_t lwd_thread_cpu_ns(pid_t tid);

/// A new eventfd (counter 0, non-blocking, close-on-exec) that nobody writes: never
/// readable, used as an event loop's sentinel channel. Returns the descriptor or -errno.
int lwd_open_sentinel_eventfd(void);

/// Lets the kernel end the calling thread's timed sleeps up to `nanoseconds` late, so that
/// their wake-ups can share an interrupt with other timers (prctl PR_SET_TIMERSLACK).
/// Returns 0 or -errno.
int lwd_set_current_thread_timer_slack(uint64_t nanoseconds);

/// True (1) when the thread that `pidfd` (from lwd_open_thread_pidfd) names still exists,
/// 0 once it has exited, even if its tid now names another thread. Sends no signal.
int lwd_thread_pidfd_alive(int pidfd);

/// A per-thread value whose destructor runs when its thread exits (see thread_exit_slots.c).
typedef struct {
    pthread_key_t key;
    /// -1 when `key` is used, else the index of a thread-local slot.
    int fallback;
} lwd_exit_slot;

/// lwd_exit_slot_create made a pthread key.
#define LWD_EXIT_SLOT_KEY 1
/// lwd_exit_slot_create found no pthread key left and uses a thread-local slot whose
/// destructor glibc runs at thread exit (__cxa_thread_atexit_impl).
#define LWD_EXIT_SLOT_THREAD_ATEXIT 2

/// Creates `slot`, with `destructor` called at a thread's exit with its value when that is
/// not NULL. Returns LWD_EXIT_SLOT_KEY, LWD_EXIT_SLOT_THREAD_ATEXIT, or -errno when neither
/// could be had (no key left and no __cxa_thread_atexit_impl, or too many slots).
int lwd_exit_slot_create(lwd_exit_slot *slot, void (*destructor)(void *));

/// The calling thread's value of `slot` (NULL when none was set).
void *lwd_exit_slot_get(const lwd_exit_slot *slot);

/// Sets the calling thread's value of `slot`. Returns 0 or -errno.
int lwd_exit_slot_set(const lwd_exit_slot *slot, void *value);

// MARK: - /proc readers (never called from a signal handler)

/// What /proc/self/task/TID/syscall says about a thread.
typedef struct {
    /// 1: running in user space or runnable ("running"); 0: inside system call `number`;
    /// -1: the kernel gave no answer we understand (for example the thread is being
    /// created or is exiting).
    int32_t running;
    /// The system call number when `running` is 0.
    int64_t number;
    /// The six arguments of that system call.
    uint64_t arguments[6];
    /// The user stack pointer when `running` is 0.
    uint64_t stack_pointer;
    /// The user program counter (the instruction after `syscall`) when `running` is 0.
    uint64_t program_counter;
} lwd_syscall_state;

/// Reads /proc/self/task/TID/syscall. Returns 0, -ESRCH when the thread is gone, or -errno.
int lwd_read_syscall_state(pid_t tid, lwd_syscall_state *state);

/// Opens /proc/self/task/TID/NAME (`syscall`, `status`) to be read again and again with the
/// `_fd` readers below. Returns the fd or -errno. Kept open, such a file is read with one
/// pread instead of open, read and close (measured on a VM: 3 us instead of 12 us for
/// `syscall`, 11 us instead of 21 us for `status`), and it stays bound to that thread: once
/// the thread has exited, reads fail with ESRCH even if its id was reused.
int lwd_open_thread_proc_file(pid_t tid, const char *name);

/// lwd_read_syscall_state through an fd from lwd_open_thread_proc_file(tid, "syscall").
int lwd_read_syscall_state_fd(int fd, lwd_syscall_state *state);

/// True (1) when the system call the thread is parked in returns EINTR when a handled
/// signal arrives, even under SA_RESTART: sleeps, poll, epoll, select, pause, sigsuspend,
/// futex waits with a timeout... A thread parked in one of these is unwound without a
/// signal. 0 for calls that SA_RESTART restarts transparently (read, futex lock waits).
int lwd_syscall_interrupted_by_signal(const lwd_syscall_state *state);

/// Reads the blocked standard signals (1-31; bit n-1 for signal n) of a thread from
/// /proc/self/task/TID/stat into *mask. Returns 0, -ESRCH when the thread is gone, or -errno.
int lwd_read_blocked_signals(pid_t tid, uint64_t *mask);

/// lwd_read_blocked_signals through an fd from lwd_open_thread_proc_file(tid, "stat").
int lwd_read_blocked_signals_fd(int fd, uint64_t *mask);
/// Lists the threads of this process (the entries of /proc/self/task) into `tids`, which
/// holds `capacity` entries. Returns how many threads there are, which may exceed
/// `capacity` (only `capacity` were stored: call again with more room), or -errno.
int lwd_list_threads(pid_t *tids, int32_t capacity);

/// Reads the name of thread `tid` from /proc/self/task/TID/comm into `buffer` (at most 15
/// bytes, NUL-terminated, without the newline). Returns 0, -ESRCH when the thread is gone,
/// or -errno.
int lwd_read_thread_name(pid_t tid, char *buffer, size_t capacity);

/// Reads /proc/self/task/TID/schedstat: how long thread `tid` has run on a CPU and how long
/// it has waited for one, in nanoseconds since it started (the kernel adds a wait when the
/// thread gets the CPU, not while it waits). Returns 0, -ESRCH when the thread is gone, or
/// -errno.
int lwd_read_thread_schedstat(pid_t tid, int64_t *on_cpu_ns, int64_t *waiting_ns);

/// The scheduler state of thread `tid` from /proc/self/task/TID/stat: 'R' (running or
/// runnable), 'S', 'D', 'T', ... Returns the state character, -ESRCH when the thread is gone,
/// or -errno.
int lwd_read_thread_run_state(pid_t tid);

/// The TracerPid of this process (0 when no debugger or tracer is attached), or -errno.
int lwd_tracer_pid(void);

/// Opens /proc/thread-self/schedstat for the calling thread (kernels with schedstats).
/// Returns the fd, or -errno where the kernel lacks it.
int lwd_open_thread_schedstat(void);

/// From an fd of lwd_open_thread_schedstat: the nanoseconds that thread has spent running
/// on a CPU plus waiting on a run queue for one (run_delay), or -errno. Time stopped by
/// SIGSTOP, or in a paused virtual machine, counts in neither; time starved of CPU does.
int64_t lwd_thread_scheduled_ns(int fd);

// MARK: - Accounting over a stall (accounting.c)

/// What the kernel counted for one thread: -1 for what could not be read.
typedef struct {
    /// Time on a CPU and time runnable waiting for one (schedstat), in nanoseconds.
    int64_t on_cpu_ns;
    int64_t waiting_ns;
    /// Bytes passed through read-like and write-like system calls (rchar and wchar of
    /// /proc/self/task/TID/io), from the page cache or a device, files and sockets alike.
    int64_t read_bytes;
    int64_t written_bytes;
} lwd_thread_accounting;

/// Reads thread `tid`'s accounting, through `schedstat_fd` and `io_fd` (its
/// /proc/self/task/TID/schedstat and io, kept open by lwd_open_thread_proc_file) or, where
/// one is negative, through the file's path. Returns 0 (fields it could not read are -1),
/// or -ESRCH when the thread is gone.
int lwd_read_thread_accounting(pid_t tid, int schedstat_fd, int io_fd, lwd_thread_accounting *accounting);

/// Opens the cpu.stat of this process's cgroup: cgroup v1's cpu controller (then *is_v1 is
/// 1: `throttled_time` in ns) or cgroup v2 (`throttled_usec`). Returns the fd or -errno.
int lwd_open_cgroup_cpu_stat(int *is_v1);

/// The total time the cgroup's tasks were throttled by its CPU quota, in ns, or -1.
int64_t lwd_read_cgroup_throttled_ns(int fd, int is_v1);

/// Opens /proc/pressure/cpu (PSI). Returns the fd, or -errno where the kernel lacks it.
int lwd_open_cpu_pressure(void);

/// The total time some runnable task waited for a CPU ("some total"), in ns, or -1.
int64_t lwd_read_cpu_pressure_ns(int fd);

/// What kind of file this process's descriptor `fd` is.
enum {
    LWD_FD_OTHER = 0,
    /// A regular file, a directory or a block device.
    LWD_FD_FILE = 1,
    LWD_FD_SOCKET = 2,
    LWD_FD_PIPE = 3,
    /// A character device: a terminal, /dev/null...
    LWD_FD_DEVICE = 4,
};

/// The kind of descriptor `fd` (LWD_FD_*), or -errno (closed since).
int lwd_describe_fd(int fd);

// MARK: - Capture by signal

/// Installs the SIGPROF handler (SA_SIGINFO | SA_RESTART), chaining to the
/// handler that was there before, and warms libunwind up on the calling thread. Idempotent.
/// Returns 0 or -errno.
int lwd_signal_capture_install(void);

/// 1 when our handler is the one installed for SIGPROF now, 0 when something replaced it.
int lwd_signal_capture_is_installed(void);

/// Two registers of one frame, as the unwinder recovered them for that frame: its frame
/// pointer, and R14 (the register in which Swift passes an async function its context).
/// 0 when unknown.
typedef struct {
    uintptr_t frame_pointer;
    uintptr_t r14;
} lwd_frame_registers;

/// How a capture request ended.
typedef enum {
    LWD_CAPTURE_OK = 0,
    /// The thread no longer exists (ESRCH).
    LWD_CAPTURE_THREAD_GONE = 1,
    /// The handler did not run in time; the request was cancelled.
    LWD_CAPTURE_TIMED_OUT = 2,
    /// The signal could not be sent (errno in `error`).
    LWD_CAPTURE_SEND_FAILED = 3,
    /// Our handler is not installed for SIGPROF (never installed, or replaced).
    LWD_CAPTURE_NOT_INSTALLED = 4,
    /// A previous request is still owned by a handler that has not finished.
    LWD_CAPTURE_BUSY = 5,
    /// The unwinder failed in the handler.
    LWD_CAPTURE_UNWIND_FAILED = 6,
} lwd_capture_status;

/// Interrupts thread `tid` with SIGPROF and unwinds it in the handler. `pidfd` is the
/// thread's pidfd, or -1 to use tgkill. Waits at most `timeout_ns`. On LWD_CAPTURE_OK,
/// frames[0] is the interrupted program counter and frames[1...] return addresses, and
/// *count is set. *interrupted_ns receives how long the target spent in the handler.
/// Serialised internally: one capture at a time per process.
/// `registers` (may be NULL) receives, per frame, the frame's RBP and R14 as the unwinder
/// recovered them (two words per frame): where an async function keeps its context.
lwd_capture_status lwd_capture_by_signal(pid_t tid, int pidfd, int64_t timeout_ns,
                                         uintptr_t *frames, lwd_frame_registers *registers,
                                         int32_t max_frames, int32_t *count,
                                         int64_t *interrupted_ns, int32_t *error);

/// Counts of SIGPROF deliveries the handler saw, for tests and diagnostics.
typedef struct {
    uint64_t ours;
    uint64_t forwarded;
    uint64_t late_ours_dropped;
} lwd_signal_counters;

/// Reads the handler's counters.
void lwd_signal_counters_read(lwd_signal_counters *counters);

// MARK: - Capture without a signal

/// Unwinds a thread that is parked in a system call, without interrupting it, from the
/// program counter and stack pointer that /proc reported. Reads the thread's stack only
/// through process_vm_readv, so a thread that wakes or exits meanwhile cannot crash the
/// caller (the result may then be short). `stack_high` bounds the reads (0: unknown, the
/// reads stop at the first unreadable page). `registers` (may be NULL) receives each
/// frame's frame pointer where the frame-pointer chain gave it, else 0 (R14 is never known
/// here: 0). Returns the number of frames (>= 1) or -errno.
int lwd_unwind_parked_thread(uint64_t program_counter, uint64_t stack_pointer,
                             uintptr_t stack_high, uintptr_t *frames, lwd_frame_registers *registers,
                             int32_t max_frames);

// MARK: - Async callers

/// Set on a captured address that is an async caller's resume function (an entry address,
/// symbolicated as it is, not one byte back). User-space addresses never have it.
#define LWD_ASYNC_FRAME_TAG 0x8000000000000000ULL

/// Set on the captured address of the frame that runs the async function whose callers
/// follow it (a program counter or return address, looked up as usual).
#define LWD_ASYNC_RUNNING_TAG 0x4000000000000000ULL

/// Most async callers followed above one blocked async function.
#define LWD_MAX_ASYNC_FRAMES 64

/// Why the walk up the async callers stopped.
typedef enum {
    /// No frame of the stack runs an async job (no job runner on it).
    LWD_ASYNC_NOT_A_JOB = 0,
    /// The job's function was found, but no readable context for it.
    LWD_ASYNC_NO_CONTEXT = 1,
    /// The task's first function was reached: the chain is whole.
    LWD_ASYNC_ROOT = 2,
    /// A link did not look like a context (unreadable, misaligned, looping).
    LWD_ASYNC_INVALID = 3,
    /// LWD_MAX_ASYNC_FRAMES callers, or the frame buffer's room, were reached.
    LWD_ASYNC_TOO_DEEP = 4,
} lwd_async_end;

/// What lwd_async_callers_insert found.
typedef struct {
    /// The frame running the job's async function (the callers follow it), or -1.
    int32_t anchor;
    /// How many callers were inserted.
    int32_t count;
    /// An lwd_async_end.
    int32_t ended;
} lwd_async_chain;

/// Finds the async function that `frames` (a capture of `count` frames, with the
/// registers the capture recovered) runs as a job, follows its chain of awaiting callers
/// with process_vm_readv, and inserts their resume addresses, tagged with
/// LWD_ASYNC_FRAME_TAG, right after that function's frame, whose address it tags with
/// LWD_ASYNC_RUNNING_TAG. `capacity` is the room of `frames`. Returns the new count.
/// Never faults; see async_chain.c.
int32_t lwd_async_callers_insert(uintptr_t *frames, const lwd_frame_registers *registers,
                                 int32_t count, int32_t capacity, lwd_async_chain *chain);

/// Follows the chain of async contexts from `context` (Parent at +0, ResumeParent at +8),
/// writing at most `max` (and LWD_MAX_ASYNC_FRAMES) resume addresses, tagged, to `resume`.
/// Every read goes through process_vm_readv; a context must be 16-byte aligned, its resume
/// address in loaded code, and the chain must not loop. Returns the count; *ended receives
/// an lwd_async_end (LWD_ASYNC_ROOT when a context with no parent was reached).
int32_t lwd_async_chain_read(uintptr_t context, uintptr_t *resume, int32_t max, int32_t *ended);

/// The range of the runtime's job runner (swift::runJobInEstablishedExecutorContext) as
/// learned from the stacks seen so far; 0, 0 before.
void lwd_async_job_runner(uintptr_t *start, uintptr_t *end);

// MARK: - Names

/// dladdr: the exported symbol and image path containing `address`. Returns 1 when found
/// (either string may still be NULL), 0 otherwise.
int lwd_dladdr(uintptr_t address, const char **symbol, const char **image);
/// A C++ symbol name demangled, in memory the caller frees; NULL when it is not one.
char *lwd_demangle_cxx(const char *name);

// MARK: - Symbolication

/// Most bytes of a build ID (GNU build IDs are 20; 32 leaves room for longer hashes).
#define LWD_BUILD_ID_MAX 32

/// An ELF file opened for symbolication: its function symbols (`.symtab`, else `.dynsym`)
/// and its DWARF line table (`.debug_line`, versions 2 to 5), each indexed on first use
/// into one sorted array (16 or 24 bytes per function). The file is read with pread
/// through a 64 KB buffer, never mapped or read whole. Not thread-safe: one owner.
typedef struct lwd_elf_image lwd_elf_image;

/// Opens the ELF file at `path` and reads its section table and build ID. NULL when it is
/// not a readable 64-bit little-endian ELF file (errno says why).
lwd_elf_image *lwd_elf_image_open(const char *path);
/// Closes the file and frees the indexes.
void lwd_elf_image_close(lwd_elf_image *image);
/// Builds both indexes now (the first lookup would otherwise). Returns 0 or -errno.
int lwd_elf_image_prepare(lwd_elf_image *image);
/// Bytes held by the indexes and the reader.
size_t lwd_elf_image_memory(const lwd_elf_image *image);
/// The file's GNU build ID into `out`; returns its length (0: none).
size_t lwd_elf_image_build_id(const lwd_elf_image *image, uint8_t *out, size_t capacity);
/// The function symbol containing the link-time address `address`: its raw (mangled) name
/// into `name` (truncated to `capacity` - 1 bytes), its start into `start` and its size
/// (0: unknown) into `size` (may be NULL). Returns 1 when found, 0 when no function symbol
/// covers the address.
int lwd_elf_image_symbol(lwd_elf_image *image, uint64_t address, char *name, size_t capacity,
                         uint64_t *start, uint64_t *size);
/// The source file and line of the link-time address `address` from the DWARF line table
/// (the innermost inlined code's location when code was inlined there). Returns 1 when
/// found (a path into `path`, a line > 0), 0 otherwise.
int lwd_elf_image_line(lwd_elf_image *image, uint64_t address, char *path, size_t capacity,
                       uint32_t *line);
/// Like lwd_elf_image_line, for the start of a function (`address`, below `end`): the
/// location of the first row after the function's prologue (DW_LNS_set_prologue_end), where
/// its own code begins. An async function's resume part starts with a prologue that the
/// compiler attributes to the function's declaration in release builds; the row after it
/// is the `await` it resumes from. Falls back to lwd_elf_image_line's answer.
int lwd_elf_image_body_line(lwd_elf_image *image, uint64_t address, uint64_t end, char *path, size_t capacity,
                            uint32_t *line);

/// The loaded object (the executable or a shared library) whose segments hold `address`:
/// its file's path into `path` (the executable's through /proc/self/exe), its load bias
/// (runtime address minus link-time address), the build ID of its loaded copy (from its
/// PT_NOTE segment in memory), and the range of its segments. Returns 1 when found, 0 when
/// no object holds the address (generated code), -1 for the vDSO (no file to read).
int lwd_loaded_image(uintptr_t address, char *path, size_t capacity, uintptr_t *bias,
                     uint8_t *build_id, size_t *build_id_length, uintptr_t *start,
                     uintptr_t *end);
/// The executable's entry point (an address in its code), from the auxiliary vector.
uintptr_t lwd_executable_entry(void);

// MARK: - Swift Concurrency global executor

/// The job state of one pool worker, shared by the worker and the watchdog thread (opaque;
/// made by `lwd_job_slot_create`). The worker writes it around each job with relaxed stores
/// only: a sequence number, odd while a job runs, and the job's priority. No clock is read
/// unless the watchdog flagged the job in progress as stalled: then its end time is stored.
typedef struct lwd_job_slot lwd_job_slot;

/// What the watchdog thread reads of a slot at one tick.
typedef struct {
    /// Odd while a job runs; each job adds 2 (one at its start, one at its end).
    uint64_t sequence;
    /// The sequence of the job the watchdog flagged as stalled (0 when none).
    uint64_t flagged;
    /// The sequence of the last flagged job that ended, and when it ended (monotonic ns).
    uint64_t ended_job;
    int64_t ended_at;
    /// The priority of the job in progress, or of the last one (a `TaskPriority` raw value).
    uint8_t priority;
} lwd_job_slot_state;

/// A slot for the watch of `generation`, zeroed. NULL when out of memory.
lwd_job_slot *lwd_job_slot_create(uint64_t generation);
/// Frees a slot that no thread uses any more.
void lwd_job_slot_destroy(lwd_job_slot *slot);
/// The slot's state; the sequence is read first (acquire), so the fields written before it
/// are seen with it.
void lwd_job_slot_read(const lwd_job_slot *slot, lwd_job_slot_state *state);
/// Watchdog thread: the job numbered `sequence` is stalled; its end time will be stored.
void lwd_job_slot_flag(lwd_job_slot *slot, uint64_t sequence);
/// Worker side, exported for tests and for `PoolJobWatch.runAsJob`: marks a job of `priority`
/// begun; then marks it ended, `now` being its end time when it was flagged (0 reads the clock).
void lwd_job_slot_begin(lwd_job_slot *slot, uint8_t priority);
void lwd_job_slot_end(lwd_job_slot *slot, int64_t now);

/// Called on a pool worker before its first job of the watch of `generation` (and again
/// after the generation changed): returns the worker's slot, or NULL to watch nothing on
/// this thread (no watch active). The slot must stay valid until the same thread calls
/// again or exits.
typedef lwd_job_slot *(*lwd_job_register_callback)(uint64_t generation);

/// Installs the job watch of `generation` (never 0): from now on every job enqueued on the
/// Swift Concurrency global executor (`swift_task_enqueueGlobal_hook`, and the delayed forms)
/// runs between `lwd_job_slot_begin` and `lwd_job_slot_end` on its worker's slot, on a
/// concurrent dispatch queue of the job's priority made as the runtime makes its own (one
/// per priority, width the number of CPUs). A hook that was installed before (SwiftNIO's
/// executor takeover) keeps every job: ours then forwards to it and watches nothing. Returns
/// 1 when jobs are watched, 0 when a previous hook was found and is chained, -1 when the
/// hook is already ours.
int lwd_job_watch_install(lwd_job_register_callback register_worker, uint64_t generation);

/// While `resting` is 1, the first watched job to begin calls `wake` once (on its worker,
/// after its slot is marked) and clears it: the watchdog sleeps long only while nothing
/// runs, and a job's start must not wait for its next tick. `wake` (kept when NULL) must be
/// cheap and must not block.
void lwd_job_watch_set_resting(int resting, void (*wake)(void));

/// Runs `body(context)` on the calling thread as a watched job of `priority` runs.
void lwd_job_watch_run_as_job(uint8_t priority, void (*body)(void *), void *context);

/// Stops watching jobs: the hooks are put back as they were when no one installed another
/// over ours (else ours stays, forwarding every job). Jobs already queued still run, with
/// the callbacks. Idempotent.
void lwd_job_watch_uninstall(void);

/// The priority the runtime stored in a job's flags (for tests).
uint8_t lwd_job_priority(const void *job);

// MARK: - Capabilities

/// 0 when process_vm_readv can read this process's memory, else -errno (a seccomp profile
/// that denies it: stacks of parked threads cannot be read).
int lwd_process_vm_readv_works(void);
/// 0 when a thread pidfd can be opened and signalled, else -errno (then signals go by
/// thread id, with tgkill).
int lwd_pidfd_signals_work(void);

// MARK: - Clock

/// CLOCK_MONOTONIC in nanoseconds.
int64_t lwd_monotonic_ns(void);

#ifdef __cplusplus
}
#endif

#endif
