import Glibc

/// CPU time consumed by one thread of this process, read from outside that thread.
public enum ThreadCPUTime {
    /// The kernel thread id of the first thread of this process whose name is `name`
    /// (from /proc/self/task/TID/comm), or nil.
    public static func threadID(named name: String) -> Int32? {
        guard let directory = opendir("/proc/self/task") else { return nil }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let tidText = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let tid = Int32(tidText) else { continue }
            if readSmallFile("/proc/self/task/\(tid)/comm")?.trimmingNewline == name { return tid }
        }
        return nil
    }

    /// Nanoseconds of CPU (user + system) thread `tid` has used so far, through its
    /// per-thread CPU clock: the clock id the kernel defines for a thread id
    /// (`(~tid << 3) | CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED`, the value glibc's
    /// pthread_getcpuclockid returns). Nanosecond resolution, unlike /proc's `stat`
    /// (10 ms ticks), which is too coarse for a thread that runs microseconds per second.
    public static func nanoseconds(threadID tid: Int32) -> Int64? {
        let clock = clockid_t((~tid) << 3 | 4 | 2)
        var time = timespec()
        guard clock_gettime(clock, &time) == 0 else { return nil }
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }
}

extension String {
    fileprivate var trimmingNewline: String {
        hasSuffix("\n") ? String(dropLast()) : self
    }
}
