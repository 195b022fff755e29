import CLoopWatchdog

/// A thread's /proc/self/task/TID/syscall and status, opened once. Read from offset 0 they
/// cost one pread each instead of open, read and close, and they stay bound to the thread:
/// once it has exited they answer ESRCH, whoever gets its id next.
struct ThreadProcFiles: Sendable {
    /// fd of /proc/self/task/TID/syscall, or a negative errno.
    var syscall: Int32
    /// fd of /proc/self/task/TID/status, or a negative errno.
    var status: Int32

    /// Opens both files of thread `threadID`.
    init(threadID: Int32) {
        syscall = lwd_open_thread_proc_file(threadID, "syscall")
        status = lwd_open_thread_proc_file(threadID, "status")
    }

    /// No files: readers go through paths.
    static let none = ThreadProcFiles(syscall: -1, status: -1)

    private init(syscall: Int32, status: Int32) {
        self.syscall = syscall
        self.status = status
    }
}
