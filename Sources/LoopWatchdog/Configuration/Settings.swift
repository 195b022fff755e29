import Logging

/// The resolved configuration the watchdog runs with: every value decided and in range.
struct Settings: Sendable, Hashable {
    var enabled: Bool
    var threshold: Duration
    /// The interval the user chose (code or a valid `LOOP_WATCHDOG_INTERVAL`), or nil for a
    /// tenth of the threshold (``ThresholdRule``).
    var explicitInterval: Duration?
    var format: OutputFormat
    var output: OutputDestination
    var endedLogLevel: Logger.Level
    var maxFrames: Int
    var hangFile: String?
    var whenTraced: TracedPolicy
    var repeats: RepeatPolicy
    /// Nil when the periodic summary is off.
    var summaryInterval: Duration?

    /// The settings used when neither code nor environment says otherwise.
    static let `default` = Settings(
        enabled: true,
        threshold: .milliseconds(100),
        explicitInterval: nil,
        format: .text,
        output: .standardError,
        endedLogLevel: .warning,
        maxFrames: 64,
        hangFile: nil,
        whenTraced: .suppress,
        repeats: .backoff,
        summaryInterval: .seconds(60)
    )

    /// The allowed summary intervals.
    static let summaryIntervalRange: ClosedRange<Duration> = .seconds(1) ... .seconds(86_400)

    /// The allowed frame counts.
    static let maxFramesRange: ClosedRange<Int> = 1...256

    /// The rule that turns thresholds into intervals with this configuration's choice.
    var thresholdRule: ThresholdRule { ThresholdRule(explicitInterval: explicitInterval) }

    /// The interval in force at start-up. Setting it makes it explicit.
    var interval: Duration {
        get { thresholdRule.interval(threshold: threshold) }
        set { explicitInterval = newValue }
    }
}
