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
/// Thread model: `emit` runs only on the reporter queue, never on a loop or the watchdog
/// thread; the state is touched there alone.
final class HangFileSink: EventSink, @unchecked Sendable {
    /// The hang file's path, with `%p` already expanded.
    let path: String
    private let temporaryPath: String
    private let logger: Logger
    private var report = HangReport()
    private var failureLogged = false

    /// A sink for the hang file at `path` (already expanded).
    init(path: String, logger: Logger) {
        self.path = path
        self.temporaryPath = "\(path).tmp-\(getpid())"
        self.logger = logger
    }

    func emit(_ event: StallEvent) {
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

    /// Writes `text` to the temporary file and renames it over the hang file. Returns 0 or
    /// the errno of the step that failed (the temporary file is then removed).
    private func replaceFile(with text: String) -> Int32 {
        let fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return errno }
        var failure = writeAll(fd, Array(text.utf8))
        if close(fd) != 0 && failure == 0 && errno != EINTR { failure = errno }
        if failure == 0 && rename(temporaryPath, path) != 0 { failure = errno }
        if failure != 0 { unlink(temporaryPath) }
        return failure
    }
}
