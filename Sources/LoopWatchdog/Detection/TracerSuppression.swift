/// Decides which stall events are dropped while a debugger or tracer is attached, under
/// ``TracedPolicy/suppress``. Pure: the tracer's pid is asked for through a closure, only
/// when the policy suppresses; tested without a tracer.
///
/// A stall whose `began` was suppressed has its `continuing` and `ended` suppressed too; a
/// stall reported before a tracer attached gets no `continuing` (no signal goes into a
/// traced process) but its `ended` is reported. Owned by the watchdog thread.
struct TracerSuppression {
    /// What to do with one event.
    enum Verdict: Equatable {
        /// Report it.
        case report
        /// Drop it.
        case suppress
        /// Drop it, and say once that stalls are not reported while this tracer is attached.
        case suppressAndAnnounce(tracerPID: Int32)

        /// True unless the verdict is `report`.
        var suppresses: Bool { self != .report }
    }

    let policy: TracedPolicy
    /// Stalls whose `began` was suppressed.
    private var suppressed: Set<UInt64> = []
    /// The tracer whose suppression was announced, 0 when none.
    private var announcedTracer: Int32 = 0

    init(policy: TracedPolicy) {
        self.policy = policy
    }

    /// A stall began.
    mutating func began(_ stallID: UInt64, tracerPID: () -> Int32) -> Verdict {
        let verdict = traced(tracerPID)
        if verdict.suppresses { suppressed.insert(stallID) }
        return verdict
    }

    /// A stall goes on.
    mutating func continuing(_ stallID: UInt64, tracerPID: () -> Int32) -> Verdict {
        if suppressed.contains(stallID) { return .suppress }
        return traced(tracerPID)
    }

    /// A stall ended (or its loop retired): reported unless its `began` was suppressed.
    mutating func ended(_ stallID: UInt64) -> Verdict {
        suppressed.remove(stallID) == nil ? .report : .suppress
    }

    private mutating func traced(_ tracerPID: () -> Int32) -> Verdict {
        guard policy == .suppress else { return .report }
        let pid = tracerPID()
        guard pid > 0 else {
            announcedTracer = 0
            return .report
        }
        guard announcedTracer != pid else { return .suppress }
        announcedTracer = pid
        return .suppressAndAnnounce(tracerPID: pid)
    }
}
