import ArgumentParser
import CLoopWatchdog
import Glibc
import LoopWatchdog

/// `loop-watchdog demo hang`: a loop that works normally for a while (a 1 ms job every
/// 10 ms), then deadlocks for good in `waitForLockThatIsNeverReleased()`. The watchdog
/// reports the hang at the threshold, then again on its backoff with a fresh stack; with
/// `LOOP_WATCHDOG_HANG_FILE` set, the hang file holds the stack and survives `kill -9`.
/// Stopping and continuing the process (`kill -STOP`, `kill -CONT`) while the loop still
/// works must report nothing.
struct DemoHangCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hang",
        abstract: "Work normally for a while, then deadlock forever (stop it with Ctrl-C or kill)."
    )

    @Option(help: "Seconds of normal work before the loop deadlocks.")
    var after: Double = 3

    func validate() throws {
        guard after >= 0, after <= 3_600 else { throw ValidationError("--after must be between 0 and 3600 seconds") }
    }

    func run() throws {
        let watchdog = Watchdog.start()
        let loop = DemoLoop(watchdog: watchdog, name: "main")
        let jobs = Int(after * 100)
        for job in 0..<jobs {
            loop.schedule(after: .milliseconds(job * 10)) { blockInSpin(milliseconds: 1) }
        }
        loop.schedule(after: .milliseconds(jobs * 10)) {
            say("HANG: pid \(getpid()) now waits forever for a lock that is never released")
            waitForLockThatIsNeverReleased()
        }
        say("WORKING: pid \(getpid()), a 1 ms job every 10 ms for \(after) s")
        loop.runOnNewThread()
    }
}

/// Locks a mutex that this thread already holds: a self-deadlock, blocked in a futex wait
/// that no signal ends (the stack is captured by SIGPROF, and the wait resumes). Returns
/// the time it waited (never, in practice): work after the call keeps release builds from
/// turning it into a jump, which would drop this function from the stack.
@inline(never)
@discardableResult
func waitForLockThatIsNeverReleased() -> Int64 {
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    mutex.initialize(to: pthread_mutex_t())
    pthread_mutex_init(mutex, nil)
    pthread_mutex_lock(mutex)
    let start = lwd_monotonic_ns()
    pthread_mutex_lock(mutex)
    return lwd_monotonic_ns() - start
}
