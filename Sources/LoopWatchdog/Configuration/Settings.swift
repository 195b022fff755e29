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
    var sampleInterval: SampleInterval
    /// Most samples per stall, the first included.
    var maxSamples: Int

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
        summaryInterval: .seconds(60),
        sampleInterval: .halfThreshold,
        maxSamples: 100
    )

    /// The allowed summary intervals.
    static let summaryIntervalRange: ClosedRange<Duration> = .seconds(1) ... .seconds(86_400)

    /// The allowed sample intervals.
    static let sampleIntervalRange: ClosedRange<Duration> = .milliseconds(1) ... .seconds(60)

    /// The allowed sample counts.
    static let maxSamplesRange: ClosedRange<Int> = 1...1_000

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

/// How often a stall in progress is sampled.
enum SampleInterval: Sendable, Hashable {
    /// Every half of the stall's threshold (the default).
    case halfThreshold
    case every(Duration)
    /// Only the stacks of `began` and `continuing` are taken.
    case off

    /// The interval in ns for a stall with `threshold`, never below `tick` (the watchdog
    /// looks no more often); nil when off.
    func nanoseconds(threshold: Duration, tick: Int64) -> Int64? {
        switch self {
        case .halfThreshold: max(threshold.clampedNanoseconds / 2, tick)
        case .every(let interval): max(interval.clampedNanoseconds, tick)
        case .off: nil
        }
    }
}
