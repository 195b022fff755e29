import CLoopWatchdog
import Glibc
import LoopWatchdog
import Synchronization

/// A minimal timer loop on its own thread, instrumented with the heartbeat API: it marks
/// itself idle while it sleeps until the next job is due, busy when it wakes, and beats
/// before each job.
final class DemoLoop: Sendable {
    private struct Job {
        var due: Int64
        var body: @Sendable () -> Void
    }

    private let watchdog: Watchdog
    private let name: String
    private let origin = lwd_monotonic_ns()
    private let jobs = Mutex<[Job]>([])
    private let stopped = Atomic<Bool>(false)

    init(watchdog: Watchdog, name: String) {
        self.watchdog = watchdog
        self.name = name
    }

    /// Runs `body` on the loop once `delay` has passed since the loop was created.
    func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) {
        let due = origin + Int64(delay.components.seconds) * 1_000_000_000
            + delay.components.attoseconds / 1_000_000_000
        jobs.withLock { $0.append(Job(due: due, body: body)); $0.sort { $0.due < $1.due } }
    }

    /// Ends the loop after the current job.
    func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    /// Runs the loop on a new thread and waits for it to finish.
    func runOnNewThread() {
        var thread = pthread_t()
        let box = Unmanaged.passRetained(self)
        pthread_create(&thread, nil, { argument in
            let loop = Unmanaged<DemoLoop>.fromOpaque(argument!).takeRetainedValue()
            lwd_set_current_thread_name("demo-loop")
            loop.run()
            return nil
        }, box.toOpaque())
        pthread_join(thread, nil)
    }

    private func run() {
        let heartbeat = watchdog.registerCurrentThread(name: name)
        defer { heartbeat.unregister() }
        while !stopped.load(ordering: .relaxed) {
            guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { break }
            heartbeat.markIdle()
            sleepUntil(job.due)
            heartbeat.markBusy()
            heartbeat.beat()
            job.body()
        }
        heartbeat.markIdle()
    }

    private func sleepUntil(_ deadline: Int64) {
        var time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &time, nil) == EINTR {}
    }
}
