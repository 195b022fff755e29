import Logging

/// The resolved configuration the watchdog runs with: every value decided and in range.
struct Settings: Sendable, Hashable {
    var enabled: Bool
    var threshold: Duration
    var interval: Duration
    var format: OutputFormat
    var output: OutputDestination
    var endedLogLevel: Logger.Level
    var maxFrames: Int
    var hangFile: String?
    var whenTraced: TracedPolicy

    /// The settings used when neither code nor environment says otherwise.
    static let `default` = Settings(
        enabled: true,
        threshold: .milliseconds(100),
        interval: defaultInterval(threshold: .milliseconds(100)),
        format: .text,
        output: .standardError,
        endedLogLevel: .warning,
        maxFrames: 64,
        hangFile: nil,
        whenTraced: .suppress
    )

    /// The allowed thresholds.
    static let thresholdRange: ClosedRange<Duration> = .milliseconds(1) ... .seconds(3600)
    /// The shortest allowed interval; the longest is the threshold.
    static let minimumInterval: Duration = .milliseconds(1)
    /// The allowed frame counts.
    static let maxFramesRange: ClosedRange<Int> = 1...256

    /// A tenth of `threshold`, but at least `minimumInterval`.
    static func defaultInterval(threshold: Duration) -> Duration {
        max(threshold / 10, minimumInterval)
    }
}
