import CLoopWatchdog

/// Probes an event loop from the watchdog thread, only when the loop may be busy, so that
/// a loop waiting for work costs nothing and a busy loop keeps no timer pending (SwiftNIO
/// runs every task slower while its scheduled-task heap is not empty; see BENCHMARKS.md).
///
/// At each tick, unless its previous probe is still waiting:
/// 1. the loop thread's CPU time (its CPU clock, exact) is unchanged since the tick that
///    found it waiting in epoll_wait: it has not run since, so it is still waiting: quiet;
/// 2. else its /proc `syscall` file (a kept descriptor) says it waits in epoll_wait: quiet;
/// 3. else it runs, or waits elsewhere: a probe is sent (``send``, which enqueues it on the
///    loop) and is due at once. The loop is late from then until the probe runs.
///
/// A quiet loop is recorded as having answered at that tick (the prober writes the record
/// only while no probe is outstanding), so a stall that starts later is dated between that
/// tick and the tick that sent the probe: exactly when the loop is found on a CPU (it has
/// run for as long as its CPU clock advanced since), else in the middle.
///
/// Thread model: `probe` on the watchdog thread only (it owns `idleCPU`); the probe that
/// ``send`` enqueues runs on the loop.
package final class SentProbeLoopProber: LoopProber, @unchecked Sendable {
    /// Enqueues `probe` on the loop; returns false when the loop no longer takes work (it
    /// is closing): nothing was enqueued.
    package typealias Send = @Sendable (_ probe: @escaping @Sendable () -> Void) -> Bool

    private let send: Send
    /// Watchdog thread only: the loop thread's CPU time at the tick that last found it
    /// waiting in epoll_wait, or -1.
    private var idleCPU: Int64 = -1
    /// Watchdog thread only: the tick that last found the loop waiting.
    private var idleSeenAt: Int64 = 0

    /// A new sentinel descriptor for a loop (an eventfd nobody writes, never readable), or
    /// nil when none can be opened. The caller owns it.
    package static func openSentinelDescriptor() -> Int32? {
        let descriptor = lwd_open_sentinel_eventfd()
        return descriptor >= 0 ? descriptor : nil
    }

    /// A prober that enqueues its probes with `send`.
    package init(send: @escaping Send) {
        self.send = send
    }

    func probe(_ record: LoopRecord, now: Int64) -> ProbeVerdict {
        guard record.probeState == .answered, let thread = record.thread, !record.retired.load(ordering: .relaxed)
        else { return .busy }
        let cpu = lwd_thread_cpu_ns(thread.threadID)
        if cpu >= 0 && cpu == idleCPU {
            idleSeenAt = now
            record.recordProbe(ranAt: now, next: .answered)
            return .resting
        }
        var state = lwd_syscall_state()
        let read = thread.procFiles.syscall >= 0
            ? lwd_read_syscall_state_fd(thread.procFiles.syscall, &state)
            : lwd_read_syscall_state(thread.threadID, &state)
        if read == 0 && state.running == 0 && SystemCalls.isEpollWait(state.number) {
            // The CPU time was read first: had the thread run in between, the next tick
            // sees a newer time and looks again.
            idleCPU = cpu
            idleSeenAt = now
            record.recordProbe(ranAt: now, next: .answered)
            return .quiet
        }
        if idleCPU >= 0 && cpu >= idleCPU && idleSeenAt > 0 && state.running == 1 {
            // It was waiting at the last tick and is on a CPU now: it has run for
            // `cpu - idleCPU` since it woke (exact for a loop that spins). Parked elsewhere,
            // the detector takes the middle of the window.
            record.busySince.store(max(idleSeenAt, now - (cpu - idleCPU)), ordering: .relaxed)
        }
        record.markProbeSent(at: now)
        idleCPU = -1
        let sent = send { record.recordProbe(ranAt: lwd_monotonic_ns(), next: .answered) }
        if !sent {
            // The loop is closing; its thread's exit retires the record.
            record.recordProbe(ranAt: now, next: .answered)
        }
        return .busy
    }
}
