import CLoopWatchdog
import Synchronization

/// The handle a loop uses to tell the watchdog it is alive.
///
/// Create it on the loop's own thread with ``Watchdog/registerCurrentThread(name:)``, call
/// ``beat()`` on every iteration or callback, and bracket waits with ``markIdle()`` and
/// ``markBusy()`` so that an idle loop is never reported. Only the registering thread may
/// call `beat`, `markIdle` and `markBusy`; the threshold may be changed from any thread.
/// An executor you cannot instrument is watched with probes instead
/// (``probeRan(nextDueIn:)``).
/// The loop is unregistered by ``unregister()`` or, at the latest, when its thread exits.
public final class LoopHeartbeat: Sendable {
    @usableFromInline let record: LoopRecord

    init(record: LoopRecord) {
        self.record = record
    }

    /// The loop's name, as given at registration.
    public var name: String { record.name }

    /// The loop thread's kernel thread id (0 for the heartbeat of a pool, which runs on
    /// several threads).
    public var threadID: Int32 { record.thread?.threadID ?? 0 }

    /// Records progress.
    ///
    /// Cost: one relaxed load and one relaxed store of a counter that only this thread
    /// writes, about a nanosecond; no clock read, no lock, no allocation. Call it only from
    /// the thread that registered the loop. A beat does not end an idle period: call
    /// ``markBusy()`` when the wait returns.
    @inlinable @inline(__always)
    public func beat() {
        record.bump()
    }

    /// Marks the loop idle, just before it waits for work (epoll, a condition, a sleep it
    /// chose). An idle loop is never reported. Cost: one clock read and three stores.
    public func markIdle() {
        record.idleSince.store(max(lwd_monotonic_ns(), 1), ordering: .relaxed)
        record.bump()
    }

    /// Marks the loop busy again, right after its wait returned. Cost: one clock read, three
    /// stores (one of them sequentially consistent, a locked instruction on x86) and one
    /// load; when the watchdog thread is parked because every loop was idle, also a wake-up
    /// of that thread, once.
    public func markBusy() {
        record.busySince.store(lwd_monotonic_ns(), ordering: .relaxed)
        record.idleSince.store(0, ordering: .sequentiallyConsistent)
        record.bump()
        record.idleGate?.loopWentBusy()
    }

    /// A threshold for this loop only, or nil to use the watchdog's. Clamped to 1 ms ... 1 h,
    /// like every threshold. Takes effect at the watchdog's next tick;
    /// any thread may set it.
    public var threshold: Duration? {
        get {
            let ns = record.thresholdOverride.load(ordering: .relaxed)
            return ns > 0 ? .nanoseconds(ns) : nil
        }
        set {
            let ns = newValue.map { ThresholdRule.clamp(threshold: $0).clampedNanoseconds } ?? 0
            record.thresholdOverride.store(ns, ordering: .relaxed)
        }
    }

    /// Stops watching this loop. Idempotent. Called automatically when the thread exits.
    public func unregister() {
        record.retire()
    }
}
