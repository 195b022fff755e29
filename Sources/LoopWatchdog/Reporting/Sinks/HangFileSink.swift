import Glibc
import Logging

/// Keeps the hang file (`LOOP_WATCHDOG_HANG_FILE`) up to date, so that a process killed
/// by its supervisor in the middle of a hang still leaves the evidence behind.
///
/// Written when a stall begins, rewritten at each `continuing` with the fresh stack, and
/// rewritten when it ends: the file then says that no stall is in progress and keeps the
/// last stack of the stall that ended (it is never removed). Each write goes to a
/// temporary file in the same directory, which then replaces the hang file with
/// `rename(2)`: a reader, or a process killed at any moment, sees the old file or the new
/// one, never half of one. There is no fsync: the file survives the death of the process,
/// not a power cut.
///
/// Only a regular file is ever replaced: when the path names a device (`/dev/null`), a
/// FIFO, a directory or a symbolic link, the hang file is refused with a warning at
/// start-up and never written. The temporary file has an unpredictable name
/// (`.lwd-XXXXXX`, made by mkstemp with O_EXCL, so a planted file or symlink is never
/// followed) that is short, so that a hang-file name of up to NAME_MAX bytes works.
///
/// Thread model: `emit` runs only on the reporter queue, never on a loop or the watchdog
/// thread; the state is touched there alone.
final class HangFileSink: EventSink, @unchecked Sendable {
    /// The evidence is on disk at once, before symbolication: a process killed in the
    /// meantime still leaves a stack (named by the dynamic linker) behind.
    var wantsFramesEarly: Bool { true }
    /// The file holds the latest stack of each stall, not the merged samples.
    var wantsSamples: Bool { false }

    /// The hang file's path, with `%p` already expanded.
    let path: String
    private let directory: String
    private let logger: Logger
    private var report = HangReport()
    private var failureLogged = false
    /// Set when the path names something other than a regular file: never written.
    private var refused = false

    /// A sink for the hang file at `path` (already expanded). Says at once, in one warning,
    /// when the path cannot work.
    init(path: String, logger: Logger) {
        self.path = path
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        self.logger = logger
        if let problem = Self.problem(path: path, directory: directory) {
            refused = problem.refused
            failureLogged = true  // said now; a write that fails for it is not said again
            logger.warning("LOOP_WATCHDOG_HANG_FILE=\(path.escapedForLogLine) \(problem.text)")
        }
    }

    /// What is wrong with the hang file's path, if anything: `refused` when it names
    /// something that must never be replaced.
    static func problem(path: String, directory: String) -> (text: String, refused: Bool)? {
        var status = stat()
        if lstat(path, &status) == 0 {
            let mode = status.st_mode & S_IFMT
            if mode != S_IFREG {
                let kind = mode == S_IFLNK ? "a symbolic link" : mode == S_IFDIR ? "a directory"
                    : mode == S_IFIFO ? "a FIFO" : mode == S_IFCHR || mode == S_IFBLK ? "a device" : "not a regular file"
                return ("is \(kind): it is never replaced; no hang file is written", true)
            }
        }
        if access(directory, W_OK | X_OK) != 0 {
            let error = errno
            return ("cannot be written: its directory \(directory.escapedForLogLine) is not writable (errno \(error): \(String(cString: strerror(error))))", false)
        }
        return nil
    }

    func emit(_ event: StallEvent) {
        guard !refused else { return }
        report.record(event)
        var clock = timespec()
        clock_gettime(CLOCK_REALTIME, &clock)
        let text = report.text(pid: getpid(), wallClockSeconds: clock.tv_sec)
        let error = replaceFile(with: text)
        if error != 0 && !failureLogged {
            failureLogged = true
            logger.warning(
                "LoopWatchdog cannot write the hang file \(path.escapedForLogLine) (errno \(error)); it will not be updated"
            )
        }
    }

    /// Writes `text` to a new temporary file and renames it over the hang file. Returns 0 or
    /// the errno of the step that failed (the temporary file is then removed).
    private func replaceFile(with text: String) -> Int32 {
        var template = Array("\(directory)/.lwd-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return errno }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        let temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        fchmod(fd, 0o644)
        var failure = writeAll(fd, Array(text.utf8))
        if close(fd) != 0 && failure == 0 && errno != EINTR { failure = errno }
        // Something other than a regular file may have appeared at the path since start-up.
        if failure == 0, Self.problem(path: path, directory: directory)?.refused == true {
            refused = true
            logger.warning("LOOP_WATCHDOG_HANG_FILE=\(path.escapedForLogLine) is no longer a regular file; it is never replaced")
            unlink(temporaryPath)
            return 0
        }
        if failure == 0 && rename(temporaryPath, path) != 0 { failure = errno }
        if failure != 0 { unlink(temporaryPath) }
        return failure
    }
}
