import CLoopWatchdog

/// A thread's /proc/self/task/TID/syscall, stat, schedstat and io, opened once. Read from offset 0 they
/// cost one pread each instead of open, read and close, and they stay bound to the thread:
/// once it has exited they answer ESRCH, whoever gets its id next.
struct ThreadProcFiles: Sendable {
    /// fd of /proc/self/task/TID/syscall, or a negative errno.
    var syscall: Int32
    /// fd of /proc/self/task/TID/stat (its blocked signals), or a negative errno.
    var stat: Int32
    /// fd of /proc/self/task/TID/schedstat, or a negative errno.
    var schedstat: Int32
    /// fd of /proc/self/task/TID/io, or a negative errno.
    var io: Int32

    /// Opens the files of thread `threadID`.
    init(threadID: Int32) {
        syscall = lwd_open_thread_proc_file(threadID, "syscall")
        stat = lwd_open_thread_proc_file(threadID, "stat")
        schedstat = lwd_open_thread_proc_file(threadID, "schedstat")
        io = lwd_open_thread_proc_file(threadID, "io")
    }

    /// No files: readers go through paths.
    static let none = ThreadProcFiles(syscall: -1, stat: -1, schedstat: -1, io: -1)

    private init(syscall: Int32, stat: Int32, schedstat: Int32, io: Int32) {
        self.syscall = syscall
        self.stat = stat
        self.schedstat = schedstat
        self.io = io
    }

    /// Closes the files that are open.
    func close() {
        for fd in [syscall, stat, schedstat, io] where fd >= 0 { lwd_close_fd(fd) }
    }
}
