import CoreMetrics

/// Counts stalls and records their durations through swift-metrics:
///
/// | metric | kind | dimensions | when |
/// |---|---|---|---|
/// | `loop_watchdog_stalls` | counter | `loop` | a stall began |
/// | `loop_watchdog_stall_duration` | timer (ns) | `loop` | a stall ended: its whole duration |
/// | `loop_watchdog_capture_failures` | counter | `reason` | a began/continuing event has no stack |
///
/// Runs on the reporter thread.
public struct MetricsEventSink: Sendable {
    /// Label of the counter of stalls that began.
    public static let stallsLabel = "loop_watchdog_stalls"
    /// Label of the timer of whole stall durations.
    public static let durationLabel = "loop_watchdog_stall_duration"
    /// Label of the counter of captures that produced no stack.
    public static let captureFailuresLabel = "loop_watchdog_capture_failures"

    private let factory: any MetricsFactory

    init(factory: any MetricsFactory) {
        self.factory = factory
    }
}

extension MetricsEventSink: EventSink {
    func emit(_ event: StallEvent) {
        let loop = [("loop", event.loopName)]
        switch event.kind {
        case .began:
            Counter(label: Self.stallsLabel, dimensions: loop, factory: factory).increment()
        case .ended:
            Timer(label: Self.durationLabel, dimensions: loop, factory: factory)
                .recordNanoseconds(event.blocked.clampedNanoseconds)
        default:
            break
        }
        if event.kind != .ended && !event.capture.hasStack {
            Counter(
                label: Self.captureFailuresLabel, dimensions: [("reason", event.capture.description)],
                factory: factory
            ).increment()
        }
    }
}
