import Synchronization

/// The registered loops of one watchdog: written by whoever registers a loop, read by the
/// watchdog thread only when the registration count says they changed.
///
/// Thread model: `add` from any thread (the loop's own, or the watch that registers a
/// pool); `registrationCount` and `liveRecords` on the watchdog thread. The lock is a
/// ``ForkSafeLock`` because a forked child may register a loop on an inherited watchdog.
final class LoopRegistry: Sendable {
    private let records = ForkSafeLock<[UInt64: LoopRecord]>([:])
    /// Bumped by every registration, so the watchdog thread rereads the loops only when
    /// they changed instead of copying them under the lock at every tick.
    private let registrations = Atomic<UInt64>(0)
    /// Woken by a registration: a new loop starts busy, so a parked watchdog must look.
    private let idleGate: IdleGate

    init(idleGate: IdleGate) {
        self.idleGate = idleGate
    }

    /// Adds `record`, then tells the watchdog thread: the count makes its next tick reread
    /// the loops, and a parked watchdog is woken.
    func add(_ record: LoopRecord) {
        records.withLock { $0[record.id] = record }
        registrations.add(1, ordering: .sequentiallyConsistent)
        idleGate.wake()
    }

    /// How many registrations there were so far; read at every tick, and before parking
    /// (sequentially consistent, pairing with the registration's wake: see IdleGate).
    var registrationCount: UInt64 { registrations.load(ordering: .sequentiallyConsistent) }

    /// The registered loops, dropping retired ones. Takes the lock and allocates: called
    /// when the loops changed, not at every tick.
    func liveRecords() -> [LoopRecord] {
        records.withLock { records in
            records = records.filter { !$0.value.retired.load(ordering: .relaxed) }
            return Array(records.values)
        }
    }
}
