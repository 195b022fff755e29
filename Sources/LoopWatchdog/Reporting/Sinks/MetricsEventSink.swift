import CoreMetrics

/// Counts stalls and records their durations through swift-metrics:
///
/// | metric | kind | dimensions | when |
/// |---|---|---|---|
/// | `loop_watchdog_stalls` | counter | `loop` | a stall began |
/// | `loop_watchdog_stall_duration` | timer (ns) | `loop` | a stall ended: its whole duration |
/// | `loop_watchdog_capture_failures` | counter | `reason` | a began/continuing event has no stack |
/// | `loop_watchdog_stall_causes` | counter | `loop`, `cause` | a stall ended: its ``StallCause/Verdict`` name (`unknown` when none) |
/// | `loop_watchdog_blocked_workers` | gauge | `pool` | a job of the Swift Concurrency pool began or ended blocking: the workers of its priority blocked now |
///
/// The duration timer's values are never below the threshold: a histogram of them is best
/// built on ``durationBuckets(threshold:)`` (for swift-prometheus, its factory's
/// `durationHistogramBuckets` for ``durationLabel``). Runs on the reporter thread.
public struct MetricsEventSink: Sendable {
    /// Label of the counter of stalls that began.
    public static let stallsLabel = "loop_watchdog_stalls"
    /// Label of the timer of whole stall durations.
    public static let durationLabel = "loop_watchdog_stall_duration"
    /// Label of the counter of captures that produced no stack.
    public static let captureFailuresLabel = "loop_watchdog_capture_failures"
    /// Label of the counter of ended stalls by cause.
    public static let causesLabel = "loop_watchdog_stall_causes"
    /// Label of the gauge of blocked workers of the Swift Concurrency pool, per priority.
    public static let blockedWorkersLabel = "loop_watchdog_blocked_workers"

    /// Histogram buckets for stall durations: from `threshold` (no stall is shorter) up to a
    /// thousand times it, three per decade (1, 2, 5, 10, 20, 50, ... times the threshold).
    public static func durationBuckets(threshold: Duration) -> [Duration] {
        [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000].map { threshold * $0 }
    }

    private let factory: any MetricsFactory

    init(factory: any MetricsFactory) {
        self.factory = factory
    }
}

extension MetricsEventSink: EventSink {
    var wantsSamples: Bool { false }

    func emit(_ event: StallEvent) {
        let loop = [("loop", event.loopName)]
        switch event.kind {
        case .began:
            Counter(label: Self.stallsLabel, dimensions: loop, factory: factory).increment()
        case .ended:
            Timer(label: Self.durationLabel, dimensions: loop, factory: factory)
                .recordNanoseconds(event.blocked.clampedNanoseconds)
            Counter(
                label: Self.causesLabel, dimensions: loop + [("cause", event.cause?.verdict.name ?? "unknown")],
                factory: factory
            ).increment()
        default:
            break
        }
        if let job = event.job, event.kind != .continuing {
            Gauge(label: Self.blockedWorkersLabel, dimensions: [("pool", event.loopName)], factory: factory)
                .record(job.blockedWorkers)
        }
        if event.kind != .ended && !event.capture.hasStack {
            Counter(
                label: Self.captureFailuresLabel, dimensions: [("reason", event.capture.description)],
                factory: factory
            ).increment()
        }
    }
}
