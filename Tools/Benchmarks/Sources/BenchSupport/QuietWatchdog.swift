import LoopWatchdog

extension Watchdog {
    /// A watchdog configured as in production except for where reports go: JSON lines to
    /// /dev/null, so that writing a report costs what it costs without flooding the
    /// benchmark's output. The environment is ignored, so LOOP_WATCHDOG_* cannot skew a run.
    public static func quiet(
        threshold: Duration = .milliseconds(100),
        onEvent: (@Sendable (StallEvent) -> Void)? = nil
    ) -> Watchdog {
        Watchdog(
            configuration: Configuration(enabled: true, threshold: threshold, format: .json, output: "/dev/null"),
            environment: [:],
            onEvent: onEvent)
    }
}
